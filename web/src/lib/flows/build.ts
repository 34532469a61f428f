// Turns the form into a FlowRequest (shared/flows/flow-request.ts). JWTs are signed here, at
// the last moment, with this browser's non-extractable key: the relay gets signed tokens,
// never a key. A client certificate's key does go to the relay when the user chose one.
import type { ApiCall, ClientAuth, FlowRequest, FlowTls, ServerRef } from '../../../../shared/flows/flow-request.ts';
import { newJti, templateClaims, type JwtTemplate, type TemplateInput } from '../../../../shared/jwt/claims.ts';
import type { JwtClaims } from '../../../../shared/jwt/decode.ts';
import { signJwt } from '../../../../shared/jwt/sign.ts';
import type { Credential } from '../keys/credential.svelte.ts';
import type { KeyRing } from '../keys/keyring.svelte.ts';
import type { BrowserAlg, BrowserSigner } from '../jwt/signer.svelte.ts';
import { parseParamLines, type FlowFields } from './fields.svelte.ts';
import { keyringSigningKey, type KeyringSigningKey } from './keyring-signer.ts';
import { parseHeaderLines } from '../probe/request.ts';

export interface BuildContext {
  signer: BrowserSigner;
  keyring: KeyRing;
}

type Built =
  | {
      ok: true;
      flow: FlowRequest;
      /** One line for the timeline header: who authenticates and how. */
      summary: string;
      /** The key-ring credential whose private key goes to the relay for this run, if any. */
      sendsKeyOf: Credential | null;
    }
  | { ok: false; message: string };

class FormProblem extends Error {}

function need(value: string, message: string): string {
  const v = value.trim();
  if (!v) throw new FormProblem(message);
  return v;
}

function extraClaims(text: string): JwtClaims | undefined {
  if (!text.trim()) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new FormProblem(`Extra claims are not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FormProblem('Extra claims must be a JSON object, e.g. {"scope": "orders:read"}');
  return value as JwtClaims;
}

/** The token endpoint a JWT's aud names when the form leaves it empty. */
export function defaultAudience(f: FlowFields): string {
  return f.tokenUrl.trim() || f.issuer.trim();
}

async function signed(ctx: BuildContext, alg: BrowserAlg, template: JwtTemplate, input: Omit<TemplateInput, 'now' | 'jti'>, signingKeyId = ''): Promise<string> {
  const claims = templateClaims(template, { ...input, now: Date.now(), jti: newJti() });
  if (template === 'seed') delete claims.jti;
  if (signingKeyId) {
    // A key-ring key (e.g. the partner's own): the same key after a reload, unlike the browser's.
    const credential = ctx.keyring.get(signingKeyId);
    if (!credential) throw new FormProblem('The chosen signing key is no longer in Keys & certs: choose another.');
    let key: KeyringSigningKey;
    try {
      key = await keyringSigningKey(credential, alg);
    } catch (err) {
      throw new FormProblem(err instanceof Error ? err.message : String(err));
    }
    return signJwt(claims, { alg, kid: key.publicJwk.kid!, typ: 'JWT' }, key.privateKey);
  }
  const key = await ctx.signer.key(alg);
  return signJwt(claims, { alg, kid: key.registration?.kid ?? key.kid, typ: 'JWT' }, key.privateKey);
}

async function theJwt(f: FlowFields, ctx: BuildContext, template: 'seed' | 'jwt-bearer', clientId: string): Promise<string> {
  if (f.jwtSource === 'paste') return need(f.pastedJwt, 'Paste the JWT to send, or let it be signed here.');
  const claims = extraClaims(f.jwtExtraClaims);
  const input: Omit<TemplateInput, 'now' | 'jti'> = {
    clientId,
    subject: need(f.jwtSubject, 'Enter the subject (sub) the JWT speaks for.'),
    lifetimeSec: f.jwtLifetimeSec || 60,
    ...(claims ? { claims } : {}),
  };
  if (template === 'jwt-bearer') {
    input.issuer = need(f.jwtIssuer || clientId, 'Enter the issuer (iss) of the assertion.');
    input.audience = need(f.jwtAudience || defaultAudience(f), 'Enter the audience (the token endpoint).');
  }
  return signed(ctx, f.jwtAlg, template, input, f.signingKeyId);
}

/** How many token requests a flow makes: one client assertion each (authorization code: code, refresh, refresh before a retried call). */
function assertionsNeeded(kind: FlowRequest['kind']): number {
  return kind === 'authorization-code' ? 3 : kind === 'revoke' ? 2 : 1;
}

async function clientAuth(f: FlowFields, ctx: BuildContext, method: ClientAuth['method']): Promise<ClientAuth> {
  const clientId = need(f.clientId, 'Enter the client id.');
  switch (method) {
    case 'client_secret_basic':
    case 'client_secret_post':
    case 'client_secret_jwt':
      return { method, clientId, clientSecret: need(f.clientSecret, 'Enter the client secret.') };
    case 'private_key_jwt': {
      const audience = need(defaultAudience(f), 'Enter the issuer or the token URL: the client assertion names it as aud.');
      const clientAssertions: string[] = [];
      for (let i = 0; i < assertionsNeeded(f.kind); i++) clientAssertions.push(await signed(ctx, f.assertionAlg, 'client-assertion', { clientId, audience }, f.signingKeyId));
      return { method, clientId, clientAssertions };
    }
    default:
      return { method, clientId };
  }
}

async function tls(f: FlowFields, ctx: BuildContext, needsCertificate: boolean): Promise<{ tls: FlowTls | undefined; sendsKeyOf: Credential | null }> {
  const out: FlowTls = {};
  let sendsKeyOf: Credential | null = null;
  const credential = ctx.keyring.get(f.credentialId);
  if (needsCertificate && !credential) throw new FormProblem('Choose the client certificate this method authenticates with (Keys & certs).');
  if (credential) {
    if (!credential.ready) throw new FormProblem(`${credential.label} has no certificate yet: get one under Keys & certs.`);
    out.client = { certificatePem: credential.certificateChainPem, privateKeyPem: await credential.privateKeyPem() };
    sendsKeyOf = credential;
  }
  if (f.caPem.trim()) out.caPem = f.caPem.trim();
  if (!f.verifyServer) out.verifyServer = false;
  return { tls: Object.keys(out).length ? out : undefined, sendsKeyOf };
}

function serverRef(f: FlowFields, opts: { tokenUrlRequired?: boolean } = {}): ServerRef {
  const ref: ServerRef = {};
  if (f.issuer.trim() && !opts.tokenUrlRequired) ref.issuer = f.issuer.trim();
  if (f.tokenUrl.trim()) ref.tokenUrl = f.tokenUrl.trim();
  if (opts.tokenUrlRequired && !ref.tokenUrl) throw new FormProblem('Enter the token URL.');
  if (!ref.issuer && !ref.tokenUrl) throw new FormProblem('Enter the issuer (discovery runs first) or the token URL.');
  if (f.jwksUrl.trim()) ref.jwksUrl = f.jwksUrl.trim();
  return ref;
}

function tokenExtras(f: FlowFields): { scope?: string; extraParams?: Record<string, string>; call?: ApiCall } {
  const out: { scope?: string; extraParams?: Record<string, string>; call?: ApiCall } = {};
  if (f.scope.trim()) out.scope = f.scope.trim();
  const params = parseParamLines(f.extraParamsText, 'Extra form parameters');
  if (!params.ok) throw new FormProblem(params.message);
  if (params.value) out.extraParams = params.value;
  if (f.callUrl.trim()) out.call = { url: f.callUrl.trim(), ...(f.callMethod !== 'GET' ? { method: f.callMethod } : {}) };
  return out;
}

export async function buildFlow(f: FlowFields, ctx: BuildContext): Promise<Built> {
  try {
    let flow: FlowRequest;
    let summary: string;
    let sendsKeyOf: Credential | null = null;
    const certificateMethod = f.authMethod === 'tls_client_auth' || f.authMethod === 'self_signed_tls_client_auth';
    const withTls = async <T extends object>(request: T, needsCertificate = false): Promise<T & { tls?: FlowTls }> => {
      const t = await tls(f, ctx, needsCertificate);
      sendsKeyOf = t.sendsKeyOf;
      return t.tls ? { ...request, tls: t.tls } : request;
    };
    switch (f.kind) {
      case 'discovery':
        flow = await withTls({ kind: 'discovery' as const, issuer: need(f.issuer, 'Enter the issuer URL.') });
        summary = 'discovery and JWKS';
        break;
      case 'jwt-exchange': {
        const clientId = need(f.clientId, 'Enter the client id (it is also the JWT’s iss).');
        const jwt = await theJwt(f, ctx, 'seed', clientId);
        const names = { clientId: f.fieldClientId.trim() || 'client_id', clientSecret: f.fieldClientSecret.trim() || 'client_secret', jwt: f.fieldJwt.trim() || 'jwt_token' };
        const defaults = names.clientId === 'client_id' && names.clientSecret === 'client_secret' && names.jwt === 'jwt_token';
        flow = await withTls({
          kind: 'jwt-exchange' as const,
          ...serverRef(f, { tokenUrlRequired: true }),
          tokenUrl: need(f.tokenUrl, 'Enter the token URL.'),
          clientId,
          ...(f.clientSecret ? { clientSecret: f.clientSecret } : {}),
          jwt,
          ...(defaults ? {} : { fieldNames: names }),
          ...tokenExtras(f),
        });
        summary = `client ${clientId} · ${names.clientId}, ${names.clientSecret}, ${names.jwt} (${f.jwtSource === 'sign' ? `${f.jwtAlg} signed here` : 'pasted JWT'})`;
        break;
      }
      case 'jwt-bearer': {
        const auth = f.authMethod === 'omit' ? undefined : await clientAuth(f, ctx, f.authMethod);
        const assertion = await theJwt(f, ctx, 'jwt-bearer', f.jwtIssuer.trim() || f.clientId.trim());
        flow = await withTls({ kind: 'jwt-bearer' as const, ...serverRef(f), assertion, ...(auth ? { clientAuth: auth } : {}), ...tokenExtras(f) }, certificateMethod);
        summary = `assertion ${f.jwtSource === 'sign' ? `${f.jwtAlg} signed here` : 'pasted'} · ${auth ? `client ${auth.clientId} · ${auth.method}` : 'no client authentication'}`;
        break;
      }
      case 'client-credentials':
      case 'refresh-token':
      case 'authorization-code': {
        if (f.authMethod === 'omit') throw new FormProblem('Choose how the client authenticates.');
        const auth = await clientAuth(f, ctx, f.authMethod);
        const base = { ...serverRef(f), clientAuth: auth, ...tokenExtras(f) };
        if (f.kind === 'client-credentials') flow = await withTls({ kind: 'client-credentials' as const, ...base }, certificateMethod);
        else if (f.kind === 'refresh-token') {
          const token = f.refreshTokenFrom ? { refreshTokenFromRun: f.refreshTokenFrom } : { refreshToken: need(f.refreshToken, 'Paste the refresh token to exchange, or run Auth code + PKCE first: the refresh token it ends with is then offered here.') };
          flow = await withTls({ kind: 'refresh-token' as const, ...base, ...token }, certificateMethod);
        } else {
          const authParams = parseParamLines(f.extraAuthParamsText, 'Extra authorization parameters');
          if (!authParams.ok) throw new FormProblem(authParams.message);
          if (!base.issuer && !f.authorizationUrl.trim()) throw new FormProblem('Enter the issuer, or both the authorization URL and the token URL.');
          const redirectKey = f.redirectKey.trim();
          if (redirectKey && !/^[A-Za-z0-9_-]{1,64}$/.test(redirectKey)) throw new FormProblem('The redirect key may contain only letters, digits, "-" and "_" (at most 64).');
          flow = await withTls(
            {
              kind: 'authorization-code' as const,
              ...base,
              ...(f.authorizationUrl.trim() ? { authorizationUrl: f.authorizationUrl.trim() } : {}),
              ...(redirectKey ? { redirectKey } : {}),
              ...(f.pkce ? {} : { pkce: false }),
              ...(f.requireRefreshToken ? {} : { requireRefreshToken: false }),
              ...(authParams.value ? { extraAuthParams: authParams.value } : {}),
              ...(f.callbackTimeoutSec && f.callbackTimeoutSec !== 120 ? { callbackTimeoutMs: Math.round(f.callbackTimeoutSec * 1000) } : {}),
            },
            certificateMethod,
          );
        }
        summary = `client ${auth.clientId} · ${auth.method}${f.kind === 'authorization-code' ? (f.pkce ? ' · PKCE S256' : ' · no PKCE') : ''}`;
        break;
      }
      case 'introspect':
      case 'revoke': {
        if (f.authMethod === 'omit') throw new FormProblem('Choose how the client authenticates.');
        const auth = await clientAuth(f, ctx, f.authMethod);
        const urlKey = f.kind === 'introspect' ? 'introspectionUrl' : 'revocationUrl';
        const endpoint = f.endpointUrl.trim();
        if (!f.issuer.trim() && !endpoint) throw new FormProblem(`Enter the issuer (discovery finds the endpoint) or the ${f.kind === 'introspect' ? 'introspection' : 'revocation'} URL.`);
        const base = {
          ...(f.issuer.trim() ? { issuer: f.issuer.trim() } : {}),
          ...(endpoint ? { [urlKey]: endpoint } : {}),
          ...(f.tokenUrl.trim() ? { tokenUrl: f.tokenUrl.trim() } : {}),
          token: need(f.token, 'Paste the token.'),
          ...(f.tokenTypeHint ? { tokenTypeHint: f.tokenTypeHint } : {}),
          clientAuth: auth,
        };
        if (f.kind === 'introspect') {
          flow = await withTls({ kind: 'introspect' as const, ...base, ...(f.expectActive ? {} : { expectActive: false }) }, certificateMethod);
        } else {
          if (f.introspectAfter && !f.issuer.trim()) throw new FormProblem('Introspecting afterwards needs the issuer (discovery finds the introspection endpoint).');
          flow = await withTls({ kind: 'revoke' as const, ...base, ...(f.introspectAfter ? { introspectAfter: true } : {}), ...(f.callUrl.trim() ? { call: { url: f.callUrl.trim(), ...(f.callMethod !== 'GET' ? { method: f.callMethod } : {}) } } : {}) }, certificateMethod);
        }
        summary = `client ${auth.clientId} · ${auth.method}${f.kind === 'revoke' && f.introspectAfter ? ' · then introspected' : ''}`;
        break;
      }
      case 'api-key': {
        const headers = parseHeaderLines(f.headersText);
        if (!headers.ok) throw new FormProblem(headers.message);
        const apiKeyHeader = f.apiKeyHeader.trim() || 'apiKey';
        const usernameHeader = f.usernameHeader.trim() || 'username';
        const names = apiKeyHeader === 'apiKey' && usernameHeader === 'username' ? undefined : { apiKey: apiKeyHeader, username: usernameHeader };
        flow = await withTls({
          kind: 'api-key' as const,
          url: need(f.url, 'Enter the URL to call.'),
          apiKey: need(f.apiKey, 'Enter the API key.'),
          username: f.username,
          ...(f.method !== 'GET' ? { method: f.method } : {}),
          ...(names ? { headerNames: names } : {}),
          ...(Object.keys(headers.value).length ? { headers: headers.value } : {}),
          ...(f.body && f.method !== 'GET' && f.method !== 'HEAD' ? { body: f.body } : {}),
        });
        summary = `headers ${apiKeyHeader} and ${usernameHeader} · user ${f.username || '(empty)'}`;
        break;
      }
    }
    return { ok: true, flow, summary, sendsKeyOf };
  } catch (err) {
    if (err instanceof FormProblem) return { ok: false, message: err.message };
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}
