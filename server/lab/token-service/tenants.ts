// The lab's issuers: the default one at the root, and tenants under /t/<name> that fail on
// purpose, each by one switch (state dropped, no refresh token, refresh refused, tokens of two
// seconds, and the weaknesses the JWT and resource checks must find).

export interface Tenant {
  name: string;
  prefix: string;
  title: string;
  expect: string;
  dropState?: boolean;
  noRefresh?: boolean;
  refuseRefresh?: boolean;
  shortTokens?: boolean;
  alterState?: boolean;
  /** The first access token of each authorization is revoked at the API (a 401 the client must recover from). */
  revokeFirstToken?: boolean;
  /** Training switches for the JWT check: each makes one weakness of assertion checking real. */
  jwt?: JwtWeakness;
  /** The tenant's API (/t/<name>/api/resource) reads the token's claims without verifying its signature. */
  apiSkipsSignature?: boolean;
  /** The tenant's API ignores the certificate binding (cnf x5t#S256) of the tokens it is shown. */
  apiIgnoresBinding?: boolean;
}

export interface JwtWeakness {
  acceptAlgNone?: true;
  skipExp?: true;
  ignoreAud?: true;
  forgetJti?: true;
  /** HS256 verified with the registered public key's PEM as the HMAC secret (algorithm confusion). */
  acceptHmacWithPublicKey?: true;
  ignoreCrit?: true;
  trustEmbeddedJwk?: true;
}

export const TENANTS: Tenant[] = [
  { name: '', prefix: '', title: 'Lab authorization server', expect: 'Discovery, JWKS and every token flow; clients lab-basic, lab-post, lab-pkjwt, lab-mtls, lab-selfsigned, lab-seed, lab-public (see docs/scenarios.md).' },
  { name: 'no-state', prefix: '/t/no-state', title: 'Lab issuer that drops state', dropState: true, expect: 'Authorization code: the redirect comes back without state → state_missing.' },
  { name: 'no-refresh', prefix: '/t/no-refresh', title: 'Lab issuer without refresh tokens', noRefresh: true, expect: 'Authorization code: no refresh token is issued → refresh_token_missing.' },
  { name: 'bad-refresh', prefix: '/t/bad-refresh', title: 'Lab issuer that refuses its refresh tokens', refuseRefresh: true, expect: 'Authorization code: the refresh token it issued is refused → refresh_token_rejected.' },
  { name: 'short-tokens', prefix: '/t/short-tokens', title: 'Lab issuer with 2-second access tokens', shortTokens: true, expect: 'Access tokens live 2 s → access_token_short_lived; the flow refreshes before calling.' },
  { name: 'altered-state', prefix: '/t/altered-state', title: 'Lab issuer that alters state', alterState: true, expect: 'Authorization code: the redirect comes back with another state → state_mismatch.' },
  { name: 'revoked-token', prefix: '/t/revoked-token', title: 'Lab issuer whose first access token is revoked', revokeFirstToken: true, expect: 'Authorization code: the API answers 401 to the first access token; the flow refreshes and retries once → passes, noting api_token_rejected.' },
  // Each JWT weakness, for the JWT check (docs/server-check.md): /token and /exchange of the tenant.
  { name: 'jwt-alg-none', prefix: '/t/jwt-alg-none', title: 'Lab issuer that accepts alg none', jwt: { acceptAlgNone: true }, expect: 'JWT check: accepts unsigned assertions → alg_none not enforced.' },
  { name: 'jwt-no-exp', prefix: '/t/jwt-no-exp', title: 'Lab issuer that skips exp', jwt: { skipExp: true }, expect: 'JWT check: neither requires nor checks exp, nor the lifetime → expired, long_lifetime, missing_exp not enforced.' },
  { name: 'jwt-any-aud', prefix: '/t/jwt-any-aud', title: 'Lab issuer that ignores aud', jwt: { ignoreAud: true }, expect: 'JWT check: any audience → wrong_aud not enforced.' },
  { name: 'jwt-no-jti', prefix: '/t/jwt-no-jti', title: 'Lab issuer that never remembers jti', jwt: { forgetJti: true }, expect: 'JWT check: the same assertion works twice → replayed_jti not enforced.' },
  { name: 'jwt-hmac-confusion', prefix: '/t/jwt-hmac-confusion', title: 'Lab issuer open to algorithm confusion', jwt: { acceptHmacWithPublicKey: true }, expect: 'JWT check: HS256 keyed with the registered public key → hs256_public_key not enforced.' },
  { name: 'jwt-ignore-crit', prefix: '/t/jwt-ignore-crit', title: 'Lab issuer that ignores crit', jwt: { ignoreCrit: true }, expect: 'JWT check: unknown critical headers pass → unknown_crit not enforced.' },
  { name: 'jwt-embedded-jwk', prefix: '/t/jwt-embedded-jwk', title: 'Lab issuer that trusts an embedded jwk', jwt: { trustEmbeddedJwk: true }, expect: 'JWT check: verifies with the key in the jwk header → embedded_jwk not enforced.' },
  { name: 'api-unverified', prefix: '/t/api-unverified', title: 'Lab API that does not verify signatures', apiSkipsSignature: true, expect: 'Resource check of /t/api-unverified/api/resource: tampered and alg none tokens pass → tampered, alg_none not enforced.' },
  { name: 'api-unbound', prefix: '/t/api-unbound', title: 'Lab API that ignores certificate binding', apiIgnoresBinding: true, expect: 'Resource check of /t/api-unbound/api/resource with a bound token: no or another certificate passes → bound_without_certificate, bound_other_certificate not enforced.' },
];

/** The default tenant: the lab's own issuer at the root. */
export const DEFAULT_TENANT = TENANTS[0]!;

/** The tenant a request path belongs to, and the path within it. */
export function tenantOf(path: string): { t: Tenant; rest: string } {
  const t = TENANTS.find((x) => x.prefix && path.startsWith(`${x.prefix}/`));
  return t ? { t, rest: path.slice(t.prefix.length) } : { t: DEFAULT_TENANT, rest: path };
}
