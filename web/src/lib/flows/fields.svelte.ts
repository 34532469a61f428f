// What the token-flows form holds. Each flow kind keeps its own fields, so switching between
// kinds does not lose what was typed; the lab's targets fill in defaults that point at the
// built-in authorization server.
import type { ClientAuthMethod, FlowKind, HttpMethod, TokenTypeHint } from '../../../../shared/flows/flow-request.ts';
import type { ClientNeed } from '../scenarios/resolve.ts';
import type { LabDemoClient, LabInfo } from '../../../../shared/protocol/index.ts';
import type { BrowserAlg } from '../jwt/signer.svelte.ts';

export const FLOW_KIND_INFO: Record<FlowKind, { title: string; hint: string }> = {
  'jwt-exchange': { title: 'JWT exchange', hint: 'POST client_id, client_secret and a JWT signed here (jwt_token), form-encoded, to a token URL.' },
  'jwt-bearer': { title: 'RFC 7523 grant', hint: 'grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer with an assertion signed here.' },
  'client-credentials': { title: 'Client credentials', hint: 'grant_type=client_credentials with the client authentication of your choice.' },
  'refresh-token': { title: 'Refresh token', hint: 'grant_type=refresh_token; says whether the server rotated the refresh token.' },
  'authorization-code': { title: 'Auth code + PKCE', hint: 'Authorization request with state and PKCE in a popup; the relay receives the redirect, exchanges the code, calls the API and exercises the refresh token.' },
  discovery: { title: 'Discovery', hint: 'Fetches the OpenID / RFC 8414 metadata, checks the issuer and reads the JWKS.' },
  'api-key': { title: 'API key', hint: 'One call with an API key and a user name in headers whose names you choose.' },
  introspect: { title: 'Introspection', hint: 'RFC 7662: asks the authorization server whether a token is active, as the client; shows the answer\'s claims.' },
  revoke: { title: 'Revocation', hint: 'RFC 7009: revokes a token, then proves it is gone by introspection or an API call.' },
};

/** The order of the kind picker: the partner cases first. */
export const FLOW_KIND_ORDER: FlowKind[] = ['jwt-exchange', 'jwt-bearer', 'client-credentials', 'authorization-code', 'refresh-token', 'introspect', 'revoke', 'discovery', 'api-key'];

export const AUTH_METHOD_TITLES: Record<ClientAuthMethod, string> = {
  client_secret_basic: 'client_secret_basic (HTTP Basic)',
  client_secret_post: 'client_secret_post (form fields)',
  client_secret_jwt: 'client_secret_jwt (HS256 assertion signed with the secret)',
  private_key_jwt: 'private_key_jwt (assertion signed here)',
  tls_client_auth: 'tls_client_auth (CA-issued certificate)',
  self_signed_tls_client_auth: 'self_signed_tls_client_auth',
  none: 'none (public client, PKCE)',
};

/** jwt-bearer may go without client authentication. */
export type AuthChoice = ClientAuthMethod | 'omit';

/**
 * The lab demo client (from the relay's welcome) the form uses for `method`: the first the lab
 * lists. None for private_key_jwt and self-signed certificates, whose lab clients hold the lab's
 * own keys: there the form registers this browser's key (or certificate) instead.
 */
export function labClientFor(lab: LabInfo | null, method: ClientAuthMethod): LabDemoClient | undefined {
  if (!lab || method === 'private_key_jwt' || method === 'self_signed_tls_client_auth') return undefined;
  return lab.clients.find((c) => c.method === method);
}

/** A lab demo client's id, or one lab.register made: the form may replace it as the method changes. */
export function isLabClientId(lab: LabInfo | null, id: string): boolean {
  return lab !== null && (lab.clients.some((c) => c.clientId === id) || id.startsWith(lab.registeredClientPrefix));
}

export type JwtSource = 'sign' | 'paste';

export class FlowFields {
  readonly kind: FlowKind;

  issuer = $state('');
  tokenUrl = $state('');
  jwksUrl = $state('');
  authorizationUrl = $state('');
  scope = $state('');
  /** name=value per line. */
  extraParamsText = $state('');

  authMethod = $state<AuthChoice>('client_secret_basic');
  clientId = $state('');
  clientSecret = $state('');
  /** private_key_jwt: the browser key's algorithm. */
  assertionAlg = $state<BrowserAlg>('RS256');
  /** Key-ring credential presented on every connection (mTLS APIs, tls_client_auth). Empty: none. */
  credentialId = $state('');
  /** An opened scenario's client certificate this browser cannot present yet: Run waits for it. */
  clientNeed = $state<ClientNeed | null>(null);

  /** The JWT a jwt-exchange (jwt_token) or jwt-bearer (assertion) sends. */
  jwtSource = $state<JwtSource>('sign');
  jwtAlg = $state<BrowserAlg>('RS256');
  /** Which key signs the JWTs made here: '' for this browser's key, else a key-ring credential id. */
  signingKeyId = $state('');
  pastedJwt = $state('');
  /** jwt-bearer: iss (the seed JWT's iss is the client id). */
  jwtIssuer = $state('');
  jwtSubject = $state('user-42');
  /** Empty: the token URL, else the issuer. */
  jwtAudience = $state('');
  jwtLifetimeSec = $state(60);
  /** JSON object merged over the template's claims. */
  jwtExtraClaims = $state('');

  fieldClientId = $state('client_id');
  fieldClientSecret = $state('client_secret');
  fieldJwt = $state('jwt_token');

  refreshToken = $state('');
  /** Instead of a pasted token: the id of an Auth code run whose refresh token the relay kept. */
  refreshTokenFrom = $state('');

  redirectKey = $state('');
  pkce = $state(true);
  requireRefreshToken = $state(true);
  extraAuthParamsText = $state('');
  callbackTimeoutSec = $state(120);

  url = $state('');
  method = $state<HttpMethod>('GET');
  apiKey = $state('');
  username = $state('');
  apiKeyHeader = $state('apiKey');
  usernameHeader = $state('username');
  headersText = $state('');
  body = $state('');

  /** introspect and revoke: the token, its hint, and the endpoint when not from discovery. */
  token = $state('');
  tokenTypeHint = $state<TokenTypeHint | ''>('');
  endpointUrl = $state('');
  expectActive = $state(true);
  introspectAfter = $state(true);

  callUrl = $state('');
  callMethod = $state<HttpMethod>('GET');

  caPem = $state('');
  verifyServer = $state(true);

  /** Set once lab defaults were offered, so they never overwrite what the user typed. */
  labDefaultsApplied = false;

  constructor(kind: FlowKind) {
    this.kind = kind;
    if (kind === 'jwt-bearer') this.authMethod = 'omit';
    if (kind === 'jwt-bearer') this.jwtLifetimeSec = 120;
  }

  /** Points empty fields at the lab. */
  applyLabDefaults(lab: LabInfo): void {
    if (this.labDefaultsApplied) return;
    const url = (id: string) => lab.targets.find((t) => t.id === id)?.url ?? '';
    const issuer = url(lab.issuers[0] ?? '');
    const basic = labClientFor(lab, 'client_secret_basic');
    if (!issuer) return;
    this.labDefaultsApplied = true;
    const fill = <K extends 'issuer' | 'tokenUrl' | 'jwksUrl' | 'callUrl' | 'url' | 'scope' | 'clientId' | 'clientSecret' | 'apiKey' | 'username'>(key: K, value: string) => {
      if (!this[key]) this[key] = value;
    };
    switch (this.kind) {
      case 'discovery':
        fill('issuer', issuer);
        break;
      case 'jwt-exchange':
        fill('tokenUrl', url('jwt-exchange'));
        fill('jwksUrl', `${issuer}/jwks`);
        fill('callUrl', url('api'));
        break;
      case 'jwt-bearer':
        fill('issuer', issuer);
        fill('callUrl', url('api'));
        break;
      case 'introspect':
      case 'revoke':
        fill('issuer', issuer);
        fill('clientId', basic?.clientId ?? '');
        fill('clientSecret', basic?.secret ?? '');
        break;
      case 'client-credentials':
      case 'refresh-token':
      case 'authorization-code': {
        fill('issuer', issuer);
        fill('callUrl', url('api'));
        fill('clientId', basic?.clientId ?? '');
        fill('clientSecret', basic?.secret ?? '');
        fill('scope', this.kind === 'authorization-code' ? 'openid offline_access orders:read' : this.kind === 'client-credentials' ? 'orders:read' : '');
        break;
      }
      case 'api-key':
        fill('url', url('apikey'));
        fill('apiKey', lab.apiKey.key);
        fill('username', lab.apiKey.username);
        break;
    }
  }
}

/** "name=value" per line; blank lines ignored. */
export function parseParamLines(text: string, what: string): { ok: true; value: Record<string, string> | undefined } | { ok: false; message: string } {
  const out: Record<string, string> = {};
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) return { ok: false, message: `${what}, line ${i + 1}: write name=value.` };
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return { ok: true, value: Object.keys(out).length ? out : undefined };
}

export function paramLines(params: Record<string, string> | undefined): string {
  return Object.entries(params ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}
