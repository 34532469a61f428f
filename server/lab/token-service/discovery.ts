// What the lab publishes: RFC 8414 / OpenID discovery metadata for each tenant, and the list of
// lab targets the relay shows (one per tenant plus the token endpoint, the exchange and the APIs).
import type { LabInfo, LabTarget } from '../../../shared/protocol/index.ts';
import { JWT_BEARER, LAB_API_KEY, LAB_API_USER, LAB_REGISTERED_PREFIX, LAB_SCOPES, SIGNING_ALGS } from './constants.ts';
import type { LabState } from './state.ts';
import { TENANTS, type Tenant } from './tenants.ts';

export function metadata(lab: LabState, t: Tenant) {
  const issuer = lab.issuerOf(t);
  return {
    issuer,
    authorization_endpoint: `${lab.authorizeOrigin}${t.prefix}/authorize`,
    token_endpoint: `${issuer}/token`,
    introspection_endpoint: `${issuer}/introspect`,
    revocation_endpoint: `${issuer}/revoke`,
    jwks_uri: `${issuer}/jwks`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials', JWT_BEARER],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth', 'none'],
    token_endpoint_auth_signing_alg_values_supported: [...SIGNING_ALGS, 'HS256'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: LAB_SCOPES,
    tls_client_certificate_bound_access_tokens: true,
    authorization_response_iss_parameter_supported: true,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
  };
}

/** The JSON Web Key Set at /jwks: the server's signing key. */
export function jwks(lab: LabState) {
  return { keys: [lab.keys.serverPublic] };
}

export function labTargets(lab: LabState): LabTarget[] {
  const { origin } = lab;
  return [
    ...TENANTS.map((t) => ({ id: t.name || 'issuer', title: t.title, url: lab.issuerOf(t), expect: t.expect })),
    { id: 'token', title: 'Lab token endpoint', url: `${origin}/token`, expect: 'client_credentials, authorization_code, refresh_token and RFC 7523 jwt-bearer with every client authentication method; refuses like real servers (one opaque invalid_client).' },
    { id: 'jwt-exchange', title: 'Lab JWT exchange', url: `${origin}/exchange`, expect: 'POST client_id=lab-seed, client_secret=lab-seed-secret and jwt_token (iss=lab-seed, sub, exp within 5 min, aud if any this server, each jti once, signed with the lab demo key or a registered one).' },
    { id: 'api', title: 'Lab protected API', url: `${origin}/api/resource`, expect: 'Accepts a lab access token as Bearer; a certificate-bound token needs the same client certificate.' },
    { id: 'apikey', title: 'Lab API-key API', url: `${origin}/api/key-resource`, expect: `apiKey: ${LAB_API_KEY} and username: ${LAB_API_USER} → 200; a wrong key → 403; missing headers → 401.` },
  ];
}

/** What the welcome's lab info says about this service (its demo clients, issuers…), so the app copies none of it. */
export type LabFacts = Pick<LabInfo, 'clients' | 'issuers' | 'registeredClientPrefix' | 'apiKey'>;

export function labFacts(lab: LabState): LabFacts {
  return {
    // The demo clients only (read at start, before any registration): a client register() makes is its session's, not the lab's.
    clients: [...lab.clients.values()].map((c) => ({ clientId: c.clientId, method: c.method, ...(c.secret ? { secret: c.secret } : {}) })),
    issuers: TENANTS.map((t) => t.name || 'issuer'),
    registeredClientPrefix: LAB_REGISTERED_PREFIX,
    apiKey: { key: LAB_API_KEY, username: LAB_API_USER },
  };
}
