// Token-flow requests (JWT exchange, RFC 7523, client credentials, refresh, discovery, API key,
// authorization code): their shapes and their validation at the WebSocket edge. Every field
// is checked for type and size here and named in the error; whether a URL is usable is judged
// by the flow's `inputs` step, so the user gets a diagnosis rather than a protocol error.
// Unknown extra fields are ignored, as everywhere in the protocol. See docs/protocol.md.
import { ProtocolError, FIELD_LIMITS, parseSecretNames, type ClientCredentials } from '../protocol/index.ts';
import type { Jwks, PublicJwk } from '../jwt/keys.ts';
import { parseLoopbackRedirect } from './redirect-uri.ts';

export const FLOW_KINDS = ['discovery', 'jwt-exchange', 'jwt-bearer', 'client-credentials', 'refresh-token', 'authorization-code', 'api-key', 'introspect', 'revoke'] as const;
export type FlowKind = (typeof FLOW_KINDS)[number];

export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth', 'none'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** Limits specific to flows, in characters unless noted. */
export const FLOW_LIMITS = {
  jwt: 16 * 1024,
  secret: 4096,
  clientId: 512,
  scope: 2048,
  /** Pre-signed client assertions per run (one per token request). */
  clientAssertions: 8, // count
  params: 32, // count
  paramName: 128,
  paramValue: 4096,
  jwksKeys: 32, // count
  jwkMember: 8192,
  redirectKey: 64,
  /**
   * Longest the relay waits for the authorization redirect: enough to sign in with a second
   * factor, short enough that an abandoned flow soon frees its waiting slot.
   */
  callbackTimeoutMs: 5 * 60_000, // ms
} as const;

/** How every connection of the flow is made; the same fields as a probe's. */
export interface FlowTls {
  /** Client certificate presented on every connection (mTLS APIs, tls_client_auth). */
  client?: ClientCredentials;
  caPem?: string;
  /** Default true. */
  verifyServer?: boolean;
  /** Default true: the lab's server CA is trusted as well. */
  trustLab?: boolean;
}

export type ClientAuth =
  | { method: 'client_secret_basic' | 'client_secret_post'; clientId: string; clientSecret: string }
  /**
   * RFC 7523 §2.2 / OIDC Core §9: the relay signs an HS256 assertion with the secret for each
   * token request (the secret is already with the relay, as for the other secret methods).
   */
  | { method: 'client_secret_jwt'; clientId: string; clientSecret: string }
  /** Signed by the browser (the key never leaves it); each assertion is used for one token request, in order. */
  | { method: 'private_key_jwt'; clientId: string; clientAssertions: string[] }
  /** The certificate is `tls.client`. */
  | { method: 'tls_client_auth' | 'self_signed_tls_client_auth'; clientId: string }
  | { method: 'none'; clientId: string };

export interface ApiCall {
  url: string;
  method?: HttpMethod;
  headers?: Record<string, string>;
  body?: string;
}

/** Where the authorization server's endpoints and keys come from. */
export interface ServerRef {
  /** Runs discovery first when given; its metadata feeds the checks that explain a refusal. */
  issuer?: string;
  /** Overrides discovery's token_endpoint. One of issuer or tokenUrl is required. */
  tokenUrl?: string;
  /** Where the server's signing keys are, to verify a JWT access token; default discovery's jwks_uri. */
  jwksUrl?: string;
  /** The client's public keys as the server has them registered, when known: checked against the kid. */
  registeredJwks?: Jwks;
}

interface TokenFlowBase extends ServerRef {
  scope?: string;
  /** Extra form parameters for the token request (resource, audience, …). */
  extraParams?: Record<string, string>;
  /** A protected resource to call with the access token afterwards. */
  call?: ApiCall;
  tls?: FlowTls;
}

export interface DiscoveryFlow {
  kind: 'discovery';
  issuer: string;
  tls?: FlowTls;
}

/** POST client_id, client_secret and a signed JWT, form-encoded, to a token URL. */
export interface JwtExchangeFlow extends TokenFlowBase {
  kind: 'jwt-exchange';
  tokenUrl: string;
  clientId: string;
  clientSecret?: string;
  jwt: string;
  /** Form field names; default client_id, client_secret, jwt_token. */
  fieldNames?: { clientId?: string; clientSecret?: string; jwt?: string };
}

/** RFC 7523 §2.1: grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=… */
export interface JwtBearerFlow extends TokenFlowBase {
  kind: 'jwt-bearer';
  assertion: string;
  /** Optional: RFC 7523 grants may be made with or without client authentication. */
  clientAuth?: ClientAuth;
}

export interface ClientCredentialsFlow extends TokenFlowBase {
  kind: 'client-credentials';
  clientAuth: ClientAuth;
}

export interface RefreshTokenFlow extends TokenFlowBase {
  kind: 'refresh-token';
  /** The refresh token to exchange; or, instead, refreshTokenFromRun. */
  refreshToken?: string;
  /**
   * The id of an authorization-code run of this WebSocket session: the relay exchanges the
   * refresh token that run ended with (kept on the relay, never sent to the page).
   */
  refreshTokenFromRun?: string;
  clientAuth: ClientAuth;
}

export interface AuthorizationCodeFlow extends TokenFlowBase {
  kind: 'authorization-code';
  /** Overrides discovery's authorization_endpoint. */
  authorizationUrl?: string;
  clientAuth: ClientAuth;
  /**
   * The redirect URI is `${relayOrigin}/callback/${redirectKey}`. Providers match redirect URIs
   * exactly, so register that URI with a stable key; default: a random key per run.
   */
  redirectKey?: string;
  /**
   * A fixed redirect URI, `http://127.0.0.1:PORT/callback/KEY`, for `harness run`: it listens on
   * that port and sends this very URI (a provider matching redirect URIs exactly accepts it).
   * The relay's own redirect URI is `${relayOrigin}/callback/${redirectKey}`; any other is refused.
   */
  redirectUri?: string;
  /** PKCE S256; default true. */
  pkce?: boolean;
  /** Extra authorization request parameters (prompt, audience, …). */
  extraAuthParams?: Record<string, string>;
  /** Fail when the provider issues no refresh token; default true. */
  requireRefreshToken?: boolean;
  /** How long to wait for the redirect; default 120 000 ms, at most 600 000 ms. */
  callbackTimeoutMs?: number;
}

const TOKEN_TYPE_HINTS = ['access_token', 'refresh_token'] as const;
export type TokenTypeHint = (typeof TOKEN_TYPE_HINTS)[number];

/** Where the introspection and revocation endpoints are, and the client that asks. */
interface TokenEndpointFlowBase {
  /** Runs discovery first when given (introspection_endpoint, revocation_endpoint, token_endpoint). */
  issuer?: string;
  /** The token endpoint, when known without discovery: client assertions may name it as aud. */
  tokenUrl?: string;
  registeredJwks?: Jwks;
  /** The token asked about or revoked: an access or refresh token (secret: masked everywhere). */
  token: string;
  tokenTypeHint?: TokenTypeHint;
  clientAuth: ClientAuth;
  tls?: FlowTls;
}

/** RFC 7662: the authorization server says whether a token is active, and its claims. */
export interface IntrospectFlow extends TokenEndpointFlowBase {
  kind: 'introspect';
  /** Overrides discovery's introspection_endpoint. One of issuer or introspectionUrl is required. */
  introspectionUrl?: string;
  /** The answer's `active` the run expects; default true (an inactive token fails the run). */
  expectActive?: boolean;
}

/** RFC 7009: revokes a token, then optionally proves it is gone (introspection, an API call). */
export interface RevokeFlow extends TokenEndpointFlowBase {
  kind: 'revoke';
  /** Overrides discovery's revocation_endpoint. One of issuer or revocationUrl is required. */
  revocationUrl?: string;
  /** Introspect the token afterwards: the run fails if it is still active. */
  introspectAfter?: boolean;
  /** Overrides discovery's introspection_endpoint for introspectAfter. */
  introspectionUrl?: string;
  /** Call this API with the revoked (access) token afterwards: the run fails if it is accepted. */
  call?: ApiCall;
}

/** A call with an API key and a user name in headers (names editable). */
export interface ApiKeyFlow {
  kind: 'api-key';
  url: string;
  method?: HttpMethod;
  apiKey: string;
  username: string;
  /** Header names; default apiKey and username. */
  headerNames?: { apiKey?: string; username?: string };
  headers?: Record<string, string>;
  body?: string;
  tls?: FlowTls;
}

/** Fields every flow may carry. */
interface FlowCommon {
  /**
   * Header, form-field or query-parameter names whose values are secret beyond the built-in
   * list: masked in every event of the run and scrubbed wherever echoed.
   */
  secretNames?: string[];
}

export type FlowRequest = (DiscoveryFlow | JwtExchangeFlow | JwtBearerFlow | ClientCredentialsFlow | RefreshTokenFlow | AuthorizationCodeFlow | ApiKeyFlow | IntrospectFlow | RevokeFlow) & FlowCommon;

/** Registers a browser-made public key with the built-in lab (message `lab.register`). */
export interface LabRegistration {
  publicJwk: PublicJwk;
  /** How the registered client authenticates; default private_key_jwt. */
  method?: 'private_key_jwt' | 'self_signed_tls_client_auth';
}

// ---- validation ----------------------------------------------------------------------------

type Obj = Record<string, unknown>;

const TOKEN_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

class Parser {
  readonly #id: string;
  constructor(id: string) {
    this.#id = id;
  }

  fail(message: string): never {
    throw new ProtocolError('bad_message', message, this.#id);
  }

  obj(v: unknown, path: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(`${path} must be an object`);
    return v as Obj;
  }

  str(o: Obj, key: string, max: number, path: string, opts: { nonEmpty?: boolean } = {}): string {
    const v = o[key];
    if (typeof v !== 'string') this.fail(`${path}${key} must be a string`);
    if (v.length > max) this.fail(`${path}${key} is longer than ${max} characters`);
    if (opts.nonEmpty && v.trim() === '') this.fail(`${path}${key} must not be empty`);
    return v;
  }

  optStr(o: Obj, key: string, max: number, path: string, opts: { nonEmpty?: boolean } = {}): string | undefined {
    return o[key] === undefined ? undefined : this.str(o, key, max, path, opts);
  }

  optBool(o: Obj, key: string, path: string): boolean | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') this.fail(`${path}${key} must be true or false`);
    return v;
  }

  optEnum<T extends string>(o: Obj, key: string, allowed: readonly T[], path: string): T | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !allowed.includes(v as T)) this.fail(`${path}${key} must be one of ${allowed.join(', ')}`);
    return v as T;
  }

  /** A flat object of strings: headers (header-name keys) or form parameters. */
  strings(v: unknown, path: string, kind: 'header' | 'param'): Record<string, string> {
    const o = this.obj(v, path);
    const entries = Object.entries(o);
    const maxCount = kind === 'header' ? FIELD_LIMITS.headers : FLOW_LIMITS.params;
    if (entries.length > maxCount) this.fail(`${path} has more than ${maxCount} entries`);
    const out: Record<string, string> = Object.create(null);
    for (const [name, value] of entries) {
      if (FORBIDDEN_KEYS.has(name)) this.fail(`${path}: "${name}" is not an acceptable name`);
      if (kind === 'header' && !TOKEN_NAME.test(name)) this.fail(`${path}: "${name.slice(0, 40)}" is not a valid header name`);
      if (kind === 'param' && (name.length === 0 || name.length > FLOW_LIMITS.paramName)) this.fail(`${path}: parameter names must be 1-${FLOW_LIMITS.paramName} characters`);
      const max = kind === 'header' ? FIELD_LIMITS.headerValue : FLOW_LIMITS.paramValue;
      if (typeof value !== 'string' || value.length > max || (kind === 'header' && /[\r\n\0]/.test(value))) {
        this.fail(`${path}.${name} must be a ${kind === 'header' ? 'single-line ' : ''}string of at most ${max} characters`);
      }
      out[name] = value;
    }
    return out;
  }

  headerName(o: Obj, key: string, path: string): string | undefined {
    const v = this.optStr(o, key, FIELD_LIMITS.headerName, path);
    if (v !== undefined && !TOKEN_NAME.test(v)) this.fail(`${path}${key} "${v.slice(0, 40)}" is not a valid header name`);
    return v;
  }

  tls(v: unknown, path: string): FlowTls {
    const o = this.obj(v, path);
    const p = `${path}.`;
    const out: FlowTls = {};
    if (o.client !== undefined) {
      const c = this.obj(o.client, `${p}client`);
      out.client = {
        certificatePem: this.str(c, 'certificatePem', FIELD_LIMITS.pem, `${p}client.`),
        privateKeyPem: this.str(c, 'privateKeyPem', FIELD_LIMITS.pem, `${p}client.`),
      };
    }
    const caPem = this.optStr(o, 'caPem', FIELD_LIMITS.pem, p);
    if (caPem !== undefined) out.caPem = caPem;
    const verifyServer = this.optBool(o, 'verifyServer', p);
    if (verifyServer !== undefined) out.verifyServer = verifyServer;
    const trustLab = this.optBool(o, 'trustLab', p);
    if (trustLab !== undefined) out.trustLab = trustLab;
    return out;
  }

  clientAuth(v: unknown, path: string): ClientAuth {
    const o = this.obj(v, path);
    const p = `${path}.`;
    const method = this.optEnum(o, 'method', CLIENT_AUTH_METHODS, p);
    if (method === undefined) this.fail(`${p}method is required (one of ${CLIENT_AUTH_METHODS.join(', ')})`);
    const clientId = this.str(o, 'clientId', FLOW_LIMITS.clientId, p, { nonEmpty: true });
    switch (method) {
      case 'client_secret_basic':
      case 'client_secret_post':
      case 'client_secret_jwt':
        return { method, clientId, clientSecret: this.str(o, 'clientSecret', FLOW_LIMITS.secret, p, { nonEmpty: true }) };
      case 'private_key_jwt': {
        const list = o.clientAssertions;
        if (!Array.isArray(list) || list.length === 0) this.fail(`${p}clientAssertions must be a non-empty array of signed JWTs (one per token request)`);
        if (list.length > FLOW_LIMITS.clientAssertions) this.fail(`${p}clientAssertions has more than ${FLOW_LIMITS.clientAssertions} entries`);
        const clientAssertions = list.map((a, i) => {
          if (typeof a !== 'string' || a.length === 0 || a.length > FLOW_LIMITS.jwt) this.fail(`${p}clientAssertions[${i}] must be a JWT of at most ${FLOW_LIMITS.jwt} characters`);
          return a;
        });
        return { method, clientId, clientAssertions };
      }
      default:
        return { method, clientId };
    }
  }

  call(v: unknown, path: string): ApiCall {
    const o = this.obj(v, path);
    const p = `${path}.`;
    const call: ApiCall = { url: this.str(o, 'url', FIELD_LIMITS.url, p, { nonEmpty: true }) };
    const method = this.optEnum(o, 'method', HTTP_METHODS, p);
    if (method) call.method = method;
    if (o.headers !== undefined) call.headers = this.strings(o.headers, `${p}headers`, 'header');
    const body = this.optStr(o, 'body', FIELD_LIMITS.body, p);
    if (body !== undefined) call.body = body;
    return call;
  }

  jwks(v: unknown, path: string): Jwks {
    const o = this.obj(v, path);
    if (!Array.isArray(o.keys)) this.fail(`${path}.keys must be an array of JWKs`);
    if (o.keys.length > FLOW_LIMITS.jwksKeys) this.fail(`${path}.keys has more than ${FLOW_LIMITS.jwksKeys} keys`);
    return { keys: o.keys.map((k, i) => this.jwk(k, `${path}.keys[${i}]`)) };
  }

  jwk(v: unknown, path: string): PublicJwk {
    const o = this.obj(v, path);
    const kty = this.str(o, 'kty', 8, `${path}.`, { nonEmpty: true });
    if ('d' in o) this.fail(`${path} is a private key (it has "d"); send only the public key`);
    const out: PublicJwk = { kty };
    for (const [k, val] of Object.entries(o)) {
      if (FORBIDDEN_KEYS.has(k) || k === 'kty') continue;
      if (k === 'x5c') {
        if (!Array.isArray(val) || val.length > 10 || !val.every((c) => typeof c === 'string' && c.length <= FIELD_LIMITS.pem)) this.fail(`${path}.x5c must be an array of base64 certificates`);
        out.x5c = val as string[];
      } else if (typeof val === 'string') {
        if (val.length > FLOW_LIMITS.jwkMember) this.fail(`${path}.${k} is longer than ${FLOW_LIMITS.jwkMember} characters`);
        out[k] = val;
      } else if (k === 'key_ops' && Array.isArray(val)) {
        continue;
      } else if (typeof val !== 'boolean') {
        this.fail(`${path}.${k} must be a string`);
      }
    }
    return out;
  }

  serverRef(o: Obj, target: ServerRef, opts: { tokenUrlRequired?: boolean } = {}): void {
    const issuer = this.optStr(o, 'issuer', FIELD_LIMITS.url, 'flow.', { nonEmpty: true });
    const tokenUrl = this.optStr(o, 'tokenUrl', FIELD_LIMITS.url, 'flow.', { nonEmpty: true });
    if (opts.tokenUrlRequired && tokenUrl === undefined) this.fail('flow.tokenUrl is required');
    if (issuer === undefined && tokenUrl === undefined) this.fail('flow needs issuer (to run discovery) or tokenUrl');
    if (issuer !== undefined) target.issuer = issuer;
    if (tokenUrl !== undefined) target.tokenUrl = tokenUrl;
    const jwksUrl = this.optStr(o, 'jwksUrl', FIELD_LIMITS.url, 'flow.', { nonEmpty: true });
    if (jwksUrl !== undefined) target.jwksUrl = jwksUrl;
    if (o.registeredJwks !== undefined) target.registeredJwks = this.jwks(o.registeredJwks, 'flow.registeredJwks');
  }

  /** introspect and revoke: the endpoint (or an issuer to discover it), the token, the client. */
  tokenEndpointFlow<T extends IntrospectFlow | RevokeFlow>(o: Obj, flow: T, urlKey: 'introspectionUrl' | 'revocationUrl'): T {
    const issuer = this.optStr(o, 'issuer', FIELD_LIMITS.url, 'flow.', { nonEmpty: true });
    const url = this.optStr(o, urlKey, FIELD_LIMITS.url, 'flow.', { nonEmpty: true });
    if (issuer === undefined && url === undefined) this.fail(`flow needs issuer (to run discovery) or ${urlKey}`);
    if (issuer !== undefined) flow.issuer = issuer;
    if (url !== undefined) (flow as unknown as Record<string, unknown>)[urlKey] = url;
    const tokenUrl = this.optStr(o, 'tokenUrl', FIELD_LIMITS.url, 'flow.', { nonEmpty: true });
    if (tokenUrl !== undefined) flow.tokenUrl = tokenUrl;
    if (o.registeredJwks !== undefined) flow.registeredJwks = this.jwks(o.registeredJwks, 'flow.registeredJwks');
    flow.token = this.str(o, 'token', FLOW_LIMITS.jwt, 'flow.', { nonEmpty: true });
    if (/[\r\n\0]/.test(flow.token)) this.fail('flow.token must be single-line');
    const hint = this.optEnum(o, 'tokenTypeHint', TOKEN_TYPE_HINTS, 'flow.');
    if (hint) flow.tokenTypeHint = hint;
    if (o.clientAuth === undefined) this.fail('flow.clientAuth is required');
    flow.clientAuth = this.clientAuth(o.clientAuth, 'flow.clientAuth');
    if (o.tls !== undefined) flow.tls = this.tls(o.tls, 'flow.tls');
    return flow;
  }

  tokenBase(o: Obj, target: TokenFlowBase, opts: { tokenUrlRequired?: boolean } = {}): void {
    this.serverRef(o, target, opts);
    const scope = this.optStr(o, 'scope', FLOW_LIMITS.scope, 'flow.');
    if (scope !== undefined) target.scope = scope;
    if (o.extraParams !== undefined) target.extraParams = this.strings(o.extraParams, 'flow.extraParams', 'param');
    if (o.call !== undefined) target.call = this.call(o.call, 'flow.call');
    if (o.tls !== undefined) target.tls = this.tls(o.tls, 'flow.tls');
  }
}

export function parseFlowRequest(v: unknown, id: string): FlowRequest {
  const flow: FlowRequest = parseFlowKind(v, id);
  const secretNames = (v as Obj).secretNames;
  if (secretNames !== undefined) flow.secretNames = parseSecretNames(secretNames, 'flow.secretNames', id);
  return flow;
}

function parseFlowKind(v: unknown, id: string): FlowRequest {
  const p = new Parser(id);
  const o = p.obj(v, 'flow');
  const kind = o.kind;
  if (typeof kind !== 'string' || !(FLOW_KINDS as readonly string[]).includes(kind)) {
    p.fail(`flow.kind "${String(kind).slice(0, 40)}" is not a known flow (one of ${FLOW_KINDS.join(', ')})`);
  }
  switch (kind as FlowKind) {
    case 'discovery': {
      const flow: DiscoveryFlow = { kind: 'discovery', issuer: p.str(o, 'issuer', FIELD_LIMITS.url, 'flow.', { nonEmpty: true }) };
      if (o.tls !== undefined) flow.tls = p.tls(o.tls, 'flow.tls');
      return flow;
    }
    case 'jwt-exchange': {
      const flow = {
        kind: 'jwt-exchange',
        clientId: p.str(o, 'clientId', FLOW_LIMITS.clientId, 'flow.', { nonEmpty: true }),
        jwt: p.str(o, 'jwt', FLOW_LIMITS.jwt, 'flow.', { nonEmpty: true }),
      } as JwtExchangeFlow;
      p.tokenBase(o, flow, { tokenUrlRequired: true });
      const secret = p.optStr(o, 'clientSecret', FLOW_LIMITS.secret, 'flow.');
      if (secret !== undefined) flow.clientSecret = secret;
      if (o.fieldNames !== undefined) {
        const f = p.obj(o.fieldNames, 'flow.fieldNames');
        const names: NonNullable<JwtExchangeFlow['fieldNames']> = {};
        for (const key of ['clientId', 'clientSecret', 'jwt'] as const) {
          const name = p.optStr(f, key, FLOW_LIMITS.paramName, 'flow.fieldNames.', { nonEmpty: true });
          if (name !== undefined) names[key] = name;
        }
        if (new Set(Object.values(names)).size !== Object.values(names).length) p.fail('flow.fieldNames must be three different names');
        flow.fieldNames = names;
      }
      return flow;
    }
    case 'jwt-bearer': {
      const flow = { kind: 'jwt-bearer', assertion: p.str(o, 'assertion', FLOW_LIMITS.jwt, 'flow.', { nonEmpty: true }) } as JwtBearerFlow;
      p.tokenBase(o, flow);
      if (o.clientAuth !== undefined) flow.clientAuth = p.clientAuth(o.clientAuth, 'flow.clientAuth');
      return flow;
    }
    case 'client-credentials': {
      if (o.clientAuth === undefined) p.fail('flow.clientAuth is required');
      const flow = { kind: 'client-credentials', clientAuth: p.clientAuth(o.clientAuth, 'flow.clientAuth') } as ClientCredentialsFlow;
      p.tokenBase(o, flow);
      return flow;
    }
    case 'refresh-token': {
      if (o.clientAuth === undefined) p.fail('flow.clientAuth is required');
      const flow = { kind: 'refresh-token', clientAuth: p.clientAuth(o.clientAuth, 'flow.clientAuth') } as RefreshTokenFlow;
      if ((o.refreshToken === undefined) === (o.refreshTokenFromRun === undefined)) p.fail('flow needs exactly one of refreshToken and refreshTokenFromRun');
      if (o.refreshToken !== undefined) flow.refreshToken = p.str(o, 'refreshToken', FLOW_LIMITS.jwt, 'flow.', { nonEmpty: true });
      else {
        const from = p.str(o, 'refreshTokenFromRun', 64, 'flow.');
        if (!/^r[0-9a-f]{12}$/.test(from)) p.fail('flow.refreshTokenFromRun must be a run id (r followed by 12 hex digits)');
        flow.refreshTokenFromRun = from;
      }
      p.tokenBase(o, flow);
      return flow;
    }
    case 'authorization-code': {
      if (o.clientAuth === undefined) p.fail('flow.clientAuth is required');
      const flow = { kind: 'authorization-code', clientAuth: p.clientAuth(o.clientAuth, 'flow.clientAuth') } as AuthorizationCodeFlow;
      p.tokenBase(o, flow);
      const authorizationUrl = p.optStr(o, 'authorizationUrl', FIELD_LIMITS.url, 'flow.', { nonEmpty: true });
      if (authorizationUrl !== undefined) flow.authorizationUrl = authorizationUrl;
      if (!flow.issuer && !(flow.authorizationUrl && flow.tokenUrl)) p.fail('flow needs issuer (to run discovery) or both authorizationUrl and tokenUrl');
      const redirectKey = p.optStr(o, 'redirectKey', FLOW_LIMITS.redirectKey, 'flow.');
      if (redirectKey !== undefined) {
        if (!/^[A-Za-z0-9_-]{1,64}$/.test(redirectKey)) p.fail('flow.redirectKey may contain only letters, digits, "-" and "_"');
        flow.redirectKey = redirectKey;
      }
      const redirectUri = p.optStr(o, 'redirectUri', FIELD_LIMITS.url, 'flow.', { nonEmpty: true });
      if (redirectUri !== undefined) {
        if (redirectKey !== undefined) p.fail('flow: give redirectUri or redirectKey, not both (the key is the last segment of the URI)');
        const fixed = parseLoopbackRedirect(redirectUri);
        if (typeof fixed === 'string') p.fail(`flow.redirectUri: ${fixed}`);
        flow.redirectUri = redirectUri;
      }
      const pkce = p.optBool(o, 'pkce', 'flow.');
      if (pkce !== undefined) flow.pkce = pkce;
      if (o.extraAuthParams !== undefined) flow.extraAuthParams = p.strings(o.extraAuthParams, 'flow.extraAuthParams', 'param');
      const requireRefreshToken = p.optBool(o, 'requireRefreshToken', 'flow.');
      if (requireRefreshToken !== undefined) flow.requireRefreshToken = requireRefreshToken;
      if (o.callbackTimeoutMs !== undefined) {
        const t = o.callbackTimeoutMs;
        if (typeof t !== 'number' || !Number.isInteger(t) || t < 1000 || t > FLOW_LIMITS.callbackTimeoutMs) p.fail(`flow.callbackTimeoutMs must be a whole number of milliseconds from 1000 to ${FLOW_LIMITS.callbackTimeoutMs}`);
        flow.callbackTimeoutMs = t as number;
      }
      return flow;
    }
    case 'introspect': {
      const flow = p.tokenEndpointFlow(o, { kind: 'introspect' } as IntrospectFlow, 'introspectionUrl');
      const expectActive = p.optBool(o, 'expectActive', 'flow.');
      if (expectActive !== undefined) flow.expectActive = expectActive;
      return flow;
    }
    case 'revoke': {
      const flow = p.tokenEndpointFlow(o, { kind: 'revoke' } as RevokeFlow, 'revocationUrl');
      const introspectAfter = p.optBool(o, 'introspectAfter', 'flow.');
      if (introspectAfter !== undefined) flow.introspectAfter = introspectAfter;
      const introspectionUrl = p.optStr(o, 'introspectionUrl', FIELD_LIMITS.url, 'flow.', { nonEmpty: true });
      if (introspectionUrl !== undefined) {
        if (!flow.introspectAfter) p.fail('flow.introspectionUrl is used only with introspectAfter: true');
        flow.introspectionUrl = introspectionUrl;
      }
      if (flow.introspectAfter && !flow.issuer && !flow.introspectionUrl) p.fail('flow.introspectAfter needs issuer (to discover the introspection endpoint) or introspectionUrl');
      if (o.call !== undefined) flow.call = p.call(o.call, 'flow.call');
      return flow;
    }
    case 'api-key': {
      const flow: ApiKeyFlow = {
        kind: 'api-key',
        url: p.str(o, 'url', FIELD_LIMITS.url, 'flow.', { nonEmpty: true }),
        apiKey: p.str(o, 'apiKey', FLOW_LIMITS.secret, 'flow.', { nonEmpty: true }),
        username: p.str(o, 'username', FLOW_LIMITS.secret, 'flow.'),
      };
      if (/[\r\n\0]/.test(flow.apiKey) || /[\r\n\0]/.test(flow.username)) p.fail('flow.apiKey and flow.username must be single-line');
      const method = p.optEnum(o, 'method', HTTP_METHODS, 'flow.');
      if (method) flow.method = method;
      if (o.headerNames !== undefined) {
        const h = p.obj(o.headerNames, 'flow.headerNames');
        const names: NonNullable<ApiKeyFlow['headerNames']> = {};
        const apiKey = p.headerName(h, 'apiKey', 'flow.headerNames.');
        const username = p.headerName(h, 'username', 'flow.headerNames.');
        if (apiKey !== undefined) names.apiKey = apiKey;
        if (username !== undefined) names.username = username;
        if (names.apiKey && names.username && names.apiKey.toLowerCase() === names.username.toLowerCase()) p.fail('flow.headerNames.apiKey and flow.headerNames.username must differ');
        flow.headerNames = names;
      }
      if (o.headers !== undefined) flow.headers = p.strings(o.headers, 'flow.headers', 'header');
      const body = p.optStr(o, 'body', FIELD_LIMITS.body, 'flow.');
      if (body !== undefined) flow.body = body;
      if (o.tls !== undefined) flow.tls = p.tls(o.tls, 'flow.tls');
      return flow;
    }
  }
}

export function parseLabRegistration(raw: Record<string, unknown>, id: string): LabRegistration {
  const p = new Parser(id);
  if (raw.publicJwk === undefined) p.fail('publicJwk is required');
  const reg: LabRegistration = { publicJwk: p.jwk(raw.publicJwk, 'publicJwk') };
  const k = reg.publicJwk;
  const needs: Record<string, string[]> = { RSA: ['n', 'e'], EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'] };
  const members = needs[k.kty];
  if (!members) p.fail(`publicJwk.kty must be RSA, EC or OKP (an asymmetric key), not ${k.kty}`);
  for (const m of members ?? []) if (typeof k[m] !== 'string' || k[m] === '') p.fail(`publicJwk.${m} is required for a ${k.kty} key`);
  const method = p.optEnum(raw, 'method', ['private_key_jwt', 'self_signed_tls_client_auth'] as const, '');
  if (method) reg.method = method;
  if (method === 'self_signed_tls_client_auth' && !reg.publicJwk.x5c?.length) p.fail('publicJwk.x5c (the self-signed certificate) is required for self_signed_tls_client_auth');
  return reg;
}

/** The URL a run is aimed at, for `run.started.target`. */
export function flowTarget(flow: FlowRequest): string {
  switch (flow.kind) {
    case 'discovery':
      return flow.issuer;
    case 'api-key':
      return flow.url;
    case 'introspect':
      return flow.introspectionUrl ?? flow.issuer ?? '';
    case 'revoke':
      return flow.revocationUrl ?? flow.issuer ?? '';
    case 'authorization-code':
      return flow.issuer ?? flow.authorizationUrl ?? flow.tokenUrl ?? '';
    default:
      return flow.tokenUrl ?? flow.issuer ?? '';
  }
}
