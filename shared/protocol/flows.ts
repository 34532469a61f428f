// Token-flow requests (JWT exchange, RFC 7523, client credentials, refresh, discovery, API key,
// authorization code, introspection, revocation): their shapes, as flow.start carries them.
// Validated by parse.ts. See docs/protocol.md.
import type { Jwks, PublicJwk } from '../jwt/keys.ts';

export const FLOW_KINDS = ['discovery', 'jwt-exchange', 'jwt-bearer', 'client-credentials', 'refresh-token', 'authorization-code', 'api-key', 'introspect', 'revoke'] as const;
export type FlowKind = (typeof FLOW_KINDS)[number];

export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth', 'none'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** A client certificate and its key, as a probe, a flow's connections and the resource check send them. */
export interface ClientCredentials {
  /** Leaf certificate first, then any intermediates to send, PEM. */
  certificatePem: string;
  /** PKCS#8 (or PKCS#1/SEC1) PEM. Lives in relay memory for this run only. */
  privateKeyPem: string;
}

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

export interface TokenFlowBase extends ServerRef {
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

export const TOKEN_TYPE_HINTS = ['access_token', 'refresh_token'] as const;
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
