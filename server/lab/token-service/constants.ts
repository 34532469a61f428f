// The lab authorization server's fixed facts: the demo API's credentials, its scopes, the grant
// and assertion type URNs, the algorithms it verifies, and its lifetimes and limits.
export const LAB_API_KEY = 'lab-api-key';
export const LAB_API_USER = 'lab-user';
export const LAB_USER = 'lab-user';
export const LAB_SCOPES = ['openid', 'offline_access', 'orders:read', 'orders:write'];
/** How the ids of the clients register() makes begin. */
export const LAB_REGISTERED_PREFIX = 'lab-reg-';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const SIGNING_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'];

/** Lifetimes and limits of the lab server. */
export const LAB_TOKEN_DEFAULTS = {
  accessTokenSec: 300, // s
  shortAccessTokenSec: 2, // s, tenant short-tokens
  codeSec: 60, // s
  /** Longest assertion lifetime accepted (exp − iat); like many real servers, 5 minutes. */
  maxAssertionSec: 300, // s
  clockToleranceSec: 5, // s
  maxBodyBytes: 64 * 1024, // bytes
  /** Entries kept in the jti replay cache and the code and refresh-token stores. */
  maxEntries: 10_000,
} as const;
