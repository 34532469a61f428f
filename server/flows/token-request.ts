// One request to a token endpoint: the grant's parameters, the client authenticated the way it
// is registered, every JWT linted against what the harness knows (token endpoint, issuer,
// registered keys, the relay's clock), and a refusal explained from those checks.
import type { ClientAuth, ClientAuthMethod } from '../../shared/flows/flow-request.ts';
import { diagnosisForLint, explainTokenRefusal, type GrantKind, type JwtCheck, type TokenRefusal } from '../../shared/flows/explain.ts';
import { parseOAuthError } from '../../shared/flows/oauth-errors.ts';
import { decodeJwt } from '../../shared/jwt/decode.ts';
import { lintJwt, type LintOptions } from '../../shared/jwt/lint.ts';
import { checkRegisteredKey } from '../../shared/jwt/registered.ts';
import type { Jwks } from '../../shared/jwt/keys.ts';
import type { ExchangeDetails, SentJwtEvidence, ShownJwt } from '../../shared/protocol/index.ts';
import type { DiagnosisCode } from '../../shared/diagnoses.ts';
import { FlowRun, decodedForDisplay, type FlowRequestSpec } from './flow-steps.ts';
import type { OpenStep } from '../run/recorder.ts';
import type { CallResult } from '../net/http-call.ts';
import { certificatePage } from '../net/http-call.ts';
import { signClientSecretJwt } from './client-secret-jwt.ts';
import type { ServerMetadata } from './discovery.ts';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** A successful token response (RFC 6749 §5.1), with the relay's receipt time. */
export interface TokenSet {
  accessToken: string;
  tokenType: string;
  expiresIn?: number;
  refreshToken?: string;
  scope?: string;
  idToken?: string;
  /** Epoch ms when the relay received it. */
  receivedAt: number;
  /** Other members of the response, for display. */
  extra: Record<string, unknown>;
}

/** What the harness knows about the authorization server and the client's registration. */
export interface ServerKnowledge {
  tokenUrl: string;
  issuer?: string;
  metadata: ServerMetadata | null;
  /** The client's keys as registered (given by the user, or known for lab clients). */
  registeredJwks?: Jwks;
  /** The client's registered auth method, known for lab clients. */
  registeredMethod?: string;
}

/** Hands out the pre-signed client assertions, one per token request. */
export class AssertionPool {
  readonly #assertions: string[];
  #next = 0;
  constructor(assertions: string[]) {
    this.#assertions = assertions;
  }
  take(): string | undefined {
    return this.#assertions[this.#next++];
  }
  get used(): number {
    return this.#next;
  }
}

interface TokenRequestOptions {
  id: string;
  title: string;
  phase?: 'exchange' | 'token';
  grant: GrantKind;
  /** Grant parameters (grant_type first). */
  params: [string, string][];
  clientAuth?: ClientAuth;
  assertions?: AssertionPool;
  /** The JWT the grant carries (jwt-bearer assertion, jwt_token) and how to lint it. */
  grantJwt?: { label: string; token: string; lint: Partial<LintOptions> };
  requestedScope?: string;
  /** Form fields that are secret under a custom name. */
  secretNames?: string[];
  /** The authentication method to report when no clientAuth is given (the JWT exchange's secret). */
  impliedMethod?: ClientAuthMethod;
  /** Sharper summaries for particular refusals, e.g. a provider refusing the refresh token it just issued. */
  refusalSummary?: Partial<Record<DiagnosisCode, string>>;
  /** A summary for success; default describes the token. */
  okSummary?: (t: TokenSet) => string;
}

type TokenResult = { token: TokenSet; serverDate?: number; details: ExchangeDetails };

function numberish(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

function readTokenResponse(json: unknown, receivedAt: number): TokenSet | string {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return 'the body is not a JSON object';
  const o = json as Record<string, unknown>;
  if (typeof o.access_token !== 'string' || o.access_token === '') return 'no access_token in the response';
  if (typeof o.token_type !== 'string') return 'no token_type in the response';
  const t: TokenSet = { accessToken: o.access_token, tokenType: o.token_type, receivedAt, extra: {} };
  const expiresIn = numberish(o.expires_in);
  if (expiresIn !== undefined) t.expiresIn = expiresIn;
  if (typeof o.refresh_token === 'string' && o.refresh_token) t.refreshToken = o.refresh_token;
  if (typeof o.scope === 'string') t.scope = o.scope;
  if (typeof o.id_token === 'string') t.idToken = o.id_token;
  for (const [k, v] of Object.entries(o)) if (!['access_token', 'token_type', 'expires_in', 'refresh_token', 'scope', 'id_token'].includes(k)) t.extra[k] = v;
  return t;
}

/**
 * Lints one JWT as the server will judge it, and with the registered keys at hand checks its
 * signature against them; the check feeds the explanation of a refusal.
 */
async function checkJwt(label: string, token: string, opts: LintOptions): Promise<{ check: JwtCheck; shown: ShownJwt }> {
  const d = decodeJwt(token);
  if (!d.ok) return { check: { label, decodeProblem: d.message, findings: [] }, shown: { problem: d.code, message: d.message } };
  const findings = lintJwt(d.jwt.header, d.jwt.claims, opts);
  const registered = opts.jwks ? await checkRegisteredKey(token, opts.jwks) : null;
  return {
    check: { label, findings, ...(typeof d.jwt.header.alg === 'string' ? { alg: d.jwt.header.alg } : {}), ...(registered ? { registered } : {}) },
    shown: { ...decodedForDisplay(d.jwt), lint: findings, ...(registered ? { registeredKey: registered } : {}) },
  };
}

/** The token endpoint to use: the mTLS alias for certificate-bound clients (RFC 8705 §5). */
export function tokenEndpointFor(method: ClientAuthMethod | undefined, given: string | undefined, metadata: ServerMetadata | null): string | undefined {
  if (given) return given;
  if ((method === 'tls_client_auth' || method === 'self_signed_tls_client_auth') && metadata?.mtls_endpoint_aliases?.token_endpoint) return metadata.mtls_endpoint_aliases.token_endpoint;
  return metadata?.token_endpoint;
}

/**
 * Authenticates the client on a request to one of the server's endpoints (`server.tokenUrl`:
 * the token endpoint, or the introspection or revocation endpoint): the Basic header, form
 * fields or a client assertion. Returns the assertion's check, to explain a refusal.
 */
export async function authenticateClient(
  run: FlowRun,
  step: OpenStep,
  server: ServerKnowledge,
  c: { auth: ClientAuth | undefined; assertions: AssertionPool | undefined; req: FlowRequestSpec; form: [string, string][]; shown: SentJwtEvidence; now: number },
): Promise<JwtCheck | undefined> {
  const { auth, assertions, req, form, shown, now } = c;
  const issuer = server.issuer ?? server.metadata?.issuer;
  // Servers take the endpoint called, the token endpoint or the issuer as aud (RFC 7523 §3).
  const audience = [...new Set([server.tokenUrl, ...(server.metadata?.token_endpoint ? [server.metadata.token_endpoint] : []), ...(issuer ? [issuer] : [])])];
  let clientAssertion: JwtCheck | undefined;
  switch (auth?.method) {
    case 'client_secret_basic':
      req.basic = { user: auth.clientId, password: auth.clientSecret };
      break;
    case 'client_secret_post':
      form.push(['client_id', auth.clientId], ['client_secret', auth.clientSecret]);
      break;
    case 'client_secret_jwt': {
      // Signed here, for the token endpoint it is sent to; masked like the secret that signs it.
      const assertion = await signClientSecretJwt(auth.clientId, auth.clientSecret, server.tokenUrl, now);
      run.secret(assertion);
      const checked = await checkJwt('client assertion', assertion, { now, referenceNow: now, audience, issuer: auth.clientId, subject: auth.clientId, requireJti: true });
      clientAssertion = checked.check;
      shown.clientAssertion = checked.shown;
      form.push(['client_id', auth.clientId], ['client_assertion_type', CLIENT_ASSERTION_TYPE], ['client_assertion', assertion]);
      break;
    }
    case 'private_key_jwt': {
      const assertion = assertions?.take();
      if (assertion === undefined) {
        run.stop(step, 'input_invalid', [`the flow needed client assertion number ${assertions?.used ?? 1} but the request carried fewer`], {
          summary: 'not enough pre-signed client assertions: each token request needs a fresh one (sign one more in the browser)',
        });
      }
      const checked = await checkJwt('client assertion', assertion, {
        now,
        referenceNow: now,
        audience,
        issuer: auth.clientId,
        subject: auth.clientId,
        requireJti: true,
        ...(server.registeredJwks ? { jwks: server.registeredJwks } : {}),
      });
      clientAssertion = checked.check;
      shown.clientAssertion = checked.shown;
      form.push(['client_id', auth.clientId], ['client_assertion_type', CLIENT_ASSERTION_TYPE], ['client_assertion', assertion]);
      break;
    }
    case 'tls_client_auth':
    case 'self_signed_tls_client_auth':
    case 'none':
      form.push(['client_id', auth.clientId]);
      break;
    case undefined:
      break;
  }
  return clientAssertion;
}

/** Fails `step` with the explained refusal of a token, introspection or revocation request, and stops the flow. */
export function refuse(
  run: FlowRun,
  step: OpenStep<'exchange' | 'token'>,
  server: ServerKnowledge,
  res: CallResult,
  details: ExchangeDetails,
  o: { grant: GrantKind; title: string; method?: ClientAuthMethod; requestedScope?: string; clientAssertion?: JwtCheck; grantJwt?: JwtCheck; refusalSummary?: Partial<Record<DiagnosisCode, string>> },
): never {
  const serverClockOffsetSec = res.serverDate !== undefined ? (res.serverDate - Date.now()) / 1000 : undefined;
  const method = o.method;
  const { clientAssertion, grantJwt } = o;
  const refusal: TokenRefusal = {
    grant: o.grant,
    status: res.status,
    error: parseOAuthError(res.body, String(res.headers['content-type'] ?? '')),
    ...(method ? { authMethod: method } : {}),
    ...(server.metadata?.token_endpoint_auth_methods_supported ? { supportedAuthMethods: server.metadata.token_endpoint_auth_methods_supported } : {}),
    ...(server.metadata?.grant_types_supported ? { supportedGrantTypes: server.metadata.grant_types_supported } : {}),
    ...(server.metadata?.scopes_supported ? { supportedScopes: server.metadata.scopes_supported } : {}),
    ...(server.metadata?.token_endpoint_auth_signing_alg_values_supported ? { supportedSigningAlgs: server.metadata.token_endpoint_auth_signing_alg_values_supported } : {}),
    ...(o.requestedScope !== undefined ? { requestedScope: o.requestedScope } : {}),
    ...(clientAssertion ? { clientAssertion } : {}),
    ...(grantJwt ? { grantJwt } : {}),
    ...(server.registeredMethod ? { registeredMethod: server.registeredMethod } : {}),
    clientCert: {
      sent: res.connection.clientCertificateSent === true,
      ...(res.connection.certificateRequested !== undefined ? { requested: res.connection.certificateRequested } : {}),
      ...(res.connection.chainReachesAcceptableCA !== undefined ? { reachesAcceptableCA: res.connection.chainReachesAcceptableCA } : {}),
      ...(res.connection.clientCertificateSubject ? { subject: res.connection.clientCertificateSubject } : {}),
      ...(run.callTls.problems?.length ? { problems: run.callTls.problems } : {}),
    },
    ...(serverClockOffsetSec !== undefined ? { serverClockOffsetSec } : {}),
  };
  // A TLS terminator in front of the token endpoint refused the certificate: no OAuth answer.
  const page = refusal.error ? null : certificatePage(res, run.callTls);
  if (page) run.stop(step, page.code, page.evidence, { details, title: `${o.title}: HTTP ${res.status}` });
  const e = explainTokenRefusal(refusal);
  const summary = o.refusalSummary?.[e.code] ?? e.summary;
  run.stop(step, e.code, e.evidence, { details, ...(summary ? { summary } : {}), title: `${o.title}: HTTP ${res.status}` });
}

/**
 * Sends one token request as step `id`. Returns the tokens; on a refusal, fails the step with
 * an explained diagnosis and stops the flow.
 */
export async function tokenRequest(run: FlowRun, server: ServerKnowledge, o: TokenRequestOptions): Promise<TokenResult> {
  const step = run.start(o.id, o.phase ?? 'exchange', o.title, server.tokenUrl);
  const now = Date.now();
  const form: [string, string][] = [...o.params];
  const req: FlowRequestSpec = { method: 'POST', url: new URL(server.tokenUrl), form };
  const shown: SentJwtEvidence = {};
  const auth = o.clientAuth;
  const clientAssertion = await authenticateClient(run, step, server, { auth, assertions: o.assertions, req, form, shown, now });
  let grantJwt: JwtCheck | undefined;
  if (o.grantJwt) {
    const checked = await checkJwt(o.grantJwt.label, o.grantJwt.token, { now, referenceNow: now, ...o.grantJwt.lint });
    grantJwt = checked.check;
    shown[o.grantJwt.label === 'jwt_token' ? 'jwtToken' : 'grantAssertion'] = checked.shown;
  }

  const { res, json, details } = await run.http(step, req, { ...(o.secretNames ? { secretNames: o.secretNames } : {}) });
  Object.assign(details, shown);
  const method = auth?.method ?? o.impliedMethod;
  if (res.status < 200 || res.status >= 300) {
    refuse(run, step, server, res, details, {
      grant: o.grant,
      title: o.title,
      ...(method ? { method } : {}),
      ...(o.requestedScope !== undefined ? { requestedScope: o.requestedScope } : {}),
      ...(clientAssertion ? { clientAssertion } : {}),
      ...(grantJwt ? { grantJwt } : {}),
      ...(o.refusalSummary ? { refusalSummary: o.refusalSummary } : {}),
    });
  }
  const token = readTokenResponse(json, Date.now());
  if (typeof token === 'string') run.stop(step, 'token_response_invalid', [`HTTP ${res.status}`, token], { details });
  run.secret(token.accessToken);
  run.secret(token.refreshToken);
  run.secret(token.idToken);
  run.ctx.onIssuedTokens?.({ access: token.accessToken, ...(token.refreshToken ? { refresh: token.refreshToken } : {}), ...(token.idToken ? { id: token.idToken } : {}) });
  const lintWarnings = [clientAssertion, grantJwt].flatMap((c) => c?.findings ?? []);
  const summary = o.okSummary?.(token) ?? `${token.tokenType} token${token.expiresIn !== undefined ? `, expires in ${token.expiresIn} s` : ''}${token.refreshToken ? ', with a refresh token' : ''}`;
  if (lintWarnings.length) {
    // The server accepted what the lint would have flagged: worth knowing, not a failure.
    const worst = lintWarnings[0]!;
    run.warn(step, diagnosisForLint(worst.code), lintWarnings.map((f) => `${f.code}: ${f.message}`), { details, title: `${o.title}: HTTP ${res.status}`, summary: `${summary}; the server accepted a JWT that other servers may refuse (${lintWarnings.map((f) => f.code).join(', ')})` });
  } else {
    step.finish('ok', { title: `${o.title}: HTTP ${res.status}`, summary, details });
  }
  return { token, details, ...(res.serverDate !== undefined ? { serverDate: res.serverDate } : {}) };
}
