// The `token` step: what the provider issued, read the way a resource server will. A JWT access
// token is decoded and verified against the server's JWKS; a certificate-bound one (cnf
// x5t#S256, RFC 8705 §3) is compared with the client certificate; lifetimes of seconds and
// tokens that arrive expired are flagged; an ID token is verified against issuer and client.
import { createHash } from 'node:crypto';
import type { DiagnosisCode } from '../../shared/diagnoses.ts';
import { decodeJwt, type JwtClaims } from '../../shared/jwt/decode.ts';
import type { Jwks } from '../../shared/jwt/keys.ts';
import { verifyJwt } from '../../shared/jwt/verify.ts';
import { FlowRun, decodedForDisplay } from './flow-steps.ts';
import { fetchJwks } from './discovery.ts';
import type { TokenSet } from './token-request.ts';
import type { ShownJwt, TokenDetails } from '../../shared/protocol/index.ts';

/** Access tokens living less than this are flagged: clients refresh before nearly every call. */
const SHORT_LIVED_SEC = 60; // s

interface InspectOptions {
  id?: string;
  title?: string;
  jwksUrl?: string;
  issuer?: string;
  clientId?: string;
  /** The client certificate the token endpoint saw, for the cnf binding check. */
  clientCertificateDer?: Buffer;
}

export interface Inspected {
  /** Epoch ms when the access token stops working, when the response or the JWT says. */
  expiresAt?: number;
  claims?: JwtClaims;
  /** x5t#S256 the token is bound to. */
  boundTo?: string;
}

function x5tS256(der: Buffer): string {
  return createHash('sha256').update(der).digest('base64url');
}

interface Remark {
  code: DiagnosisCode;
  fail: boolean;
  evidence: string[];
}

export async function inspectTokens(run: FlowRun, token: TokenSet, o: InspectOptions): Promise<Inspected> {
  const step = run.start(o.id ?? 'token', 'token', o.title ?? 'Access token');
  const now = Date.now();
  const remarks: Remark[] = [];
  const details: TokenDetails = {
    tokenType: token.tokenType,
    ...(token.expiresIn !== undefined ? { expiresIn: token.expiresIn } : {}),
    ...(token.scope !== undefined ? { scope: token.scope } : {}),
    refreshTokenIssued: token.refreshToken !== undefined,
    idTokenIssued: token.idToken !== undefined,
    ...(Object.keys(token.extra).length ? { otherMembers: token.extra } : {}),
  };
  const out: Inspected = {};
  if (token.expiresIn !== undefined) out.expiresAt = token.receivedAt + token.expiresIn * 1000;

  let jwks: Jwks | null = null;
  const needKeys = decodeJwt(token.accessToken).ok || token.idToken !== undefined;
  if (needKeys && o.jwksUrl) {
    const fetched = await fetchJwks(run, step, o.jwksUrl);
    jwks = fetched.jwks;
    details.jwks = { url: o.jwksUrl, ...(fetched.jwks ? { keys: fetched.details.keys } : { problem: fetched.problem }) };
  }

  const decoded = decodeJwt(token.accessToken);
  const summary: string[] = [];
  if (!decoded.ok) {
    details.accessToken = { format: 'opaque', length: token.accessToken.length };
    summary.push('opaque access token');
  } else {
    const jwt = decoded.jwt;
    out.claims = jwt.claims;
    const shown: ShownJwt = { format: 'jwt', ...decodedForDisplay(jwt) };
    summary.push(`JWT ${String(jwt.header.alg)}`);
    if (jwks) {
      const v = await verifyJwt(token.accessToken, { type: 'jwks', jwks }, { now, clockToleranceSec: 5, ...(o.issuer ? { issuer: o.issuer } : {}) });
      shown.verification = v.ok ? { verified: true, keyId: v.keyId ?? null } : { verified: false, code: v.code, message: v.message };
      if (v.ok) summary.push(`verified with the server's key${v.keyId ? ` ${v.keyId}` : ''}`);
      else if (v.code === 'expired') remarks.push({ code: 'access_token_expired', fail: false, evidence: ['the access token had expired when it arrived', v.message] });
      else remarks.push({ code: 'access_token_unverified', fail: false, evidence: [`${v.code}: ${v.message}`, `JWKS: ${o.jwksUrl}`] });
    } else {
      shown.verification = { verified: false, reason: o.jwksUrl ? 'the JWKS could not be read' : 'no jwks_uri known (give issuer or jwksUrl)' };
    }
    if (typeof jwt.claims.exp === 'number') {
      const exp = jwt.claims.exp * 1000;
      out.expiresAt = out.expiresAt === undefined ? exp : Math.min(out.expiresAt, exp);
    }
    const cnf = jwt.claims.cnf as Record<string, unknown> | undefined;
    const bound = typeof cnf?.['x5t#S256'] === 'string' ? (cnf['x5t#S256'] as string) : undefined;
    if (bound) {
      out.boundTo = bound;
      const mine = o.clientCertificateDer ? x5tS256(o.clientCertificateDer) : undefined;
      shown.binding = { 'x5t#S256': bound, clientCertificate: mine ?? null, matches: mine === bound };
      if (mine === bound) summary.push('bound to the client certificate');
      else {
        remarks.push({
          code: 'access_token_binding_mismatch',
          fail: true,
          evidence: [`cnf x5t#S256 ${bound}`, mine ? `client certificate x5t#S256 ${mine}` : 'no client certificate was used at the token endpoint'],
        });
      }
    }
    details.accessToken = shown;
  }

  if (out.expiresAt !== undefined) {
    const left = Math.round((out.expiresAt - now) / 1000);
    const lifetime = token.expiresIn ?? (out.claims && typeof out.claims.exp === 'number' && typeof out.claims.iat === 'number' ? out.claims.exp - out.claims.iat : undefined);
    details.expiresAt = new Date(out.expiresAt).toISOString();
    summary.push(left > 0 ? `expires in ${left} s` : 'already expired');
    if (left <= 0 && !remarks.some((r) => r.code === 'access_token_expired')) remarks.push({ code: 'access_token_expired', fail: false, evidence: [`expired ${-left} s before it could be used`] });
    else if (lifetime !== undefined && lifetime < SHORT_LIVED_SEC) {
      remarks.push({ code: 'access_token_short_lived', fail: false, evidence: [`the token lives ${lifetime} s (less than ${SHORT_LIVED_SEC} s)`] });
    }
  }

  if (token.idToken) {
    if (jwks) {
      const v = await verifyJwt(token.idToken, { type: 'jwks', jwks }, { now, clockToleranceSec: 5, ...(o.issuer ? { issuer: o.issuer } : {}), ...(o.clientId ? { audience: o.clientId } : {}) });
      const d = decodeJwt(token.idToken);
      details.idToken = { ...(d.ok ? decodedForDisplay(d.jwt) : {}), verification: v.ok ? { verified: true } : { verified: false, code: v.code, message: v.message } };
      if (!v.ok) remarks.push({ code: 'id_token_invalid', fail: false, evidence: [`${v.code}: ${v.message}`] });
    } else {
      details.idToken = { verification: { verified: false, reason: 'no JWKS to verify with' } };
    }
  }

  details.remarks = remarks.map((r) => ({ code: r.code, evidence: r.evidence }));
  const title = o.title ?? 'Access token';
  const failing = remarks.find((r) => r.fail);
  if (failing) run.stop(step, failing.code, failing.evidence, { details, title });
  const first = remarks[0];
  if (first) run.warn(step, first.code, first.evidence, { details, title, summary: `${summary.join(' · ')} · ${first.code}` });
  else step.finish('ok', { summary: summary.join(' · '), details, title });
  return out;
}
