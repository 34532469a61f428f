// The JWT / token-endpoint check's cases as data: the assertion each case sends, what a refusal
// proves, the server-side fix, and the grade a server gets at best when it gets the case wrong.
// Same shape and grading as the mTLS catalogue (cases.ts); codes are stable, as there.
import type { CaseEntry } from './cases.ts';

/**
 * How the user's key is used at the token endpoint:
 * - `exchange`: the seed's form POST of client_id, client_secret and jwt_token (iss = client id);
 * - `jwt-bearer`: RFC 7523 §2.1 authorization grant (iss = the trusted issuer, sub = the user);
 * - `private_key_jwt`: RFC 7523 §2.2 client authentication (iss = sub = client id), with the
 *   client_credentials grant.
 */
export const JWT_CHECK_KINDS = ['exchange', 'jwt-bearer', 'private_key_jwt'] as const;
export type JwtCheckKind = (typeof JWT_CHECK_KINDS)[number];

/** An mTLS case's shape, with a fix in words (no Apache or nginx lines apply to a JWT). */
interface JwtCaseEntry extends Omit<CaseEntry, 'fix'> {
  fix: { text: string };
  /** The kinds the case applies to (a wrong `sub` is only wrong where sub must be the client). */
  kinds: readonly JwtCheckKind[];
}

const ALL = JWT_CHECK_KINDS;
const VERIFY = 'Verify every assertion with a maintained JWT library, with the algorithms and keys registered for the client pinned, never taken from the token.';

export const JWT_CASES = {
  valid: {
    title: 'Valid assertion',
    proves: 'The server accepts a correct assertion signed with the registered key: every refusal below is about the one property that differs.',
    expect: 'accept',
    weakness: 'refuses the valid assertion',
    capIfNotEnforced: 'F',
    capIfInconclusive: 'F',
    fix: { text: 'Register the public key (and kid) for the client, and accept the agreed iss, sub and aud with a lifetime of a few minutes.' },
    kinds: ALL,
  },
  replayed_jti: {
    title: 'Replayed jti',
    proves: 'The server remembers the jti of each assertion until it expires: the valid assertion sent a second time is refused.',
    expect: 'refuse',
    weakness: 'accepts the same assertion twice (no jti replay cache)',
    capIfNotEnforced: 'B',
    capIfInconclusive: 'B',
    fix: { text: 'Keep each (iss, jti) until the assertion\'s exp and refuse a second use (RFC 7523 §3 item 7, OpenID Connect Core §9).' },
    kinds: ALL,
  },
  expired: {
    title: 'Expired',
    proves: 'The server checks exp: an assertion that expired ten minutes ago is refused.',
    expect: 'refuse',
    weakness: 'accepts expired assertions',
    capIfNotEnforced: 'F',
    capIfInconclusive: 'B',
    fix: { text: `Refuse assertions past exp, with at most a minute of clock tolerance. ${VERIFY}` },
    kinds: ALL,
  },
  nbf_future: {
    title: 'nbf in the future',
    proves: 'The server checks nbf: an assertion not valid for another three minutes is refused.',
    expect: 'refuse',
    weakness: 'accepts assertions before their nbf',
    capIfNotEnforced: 'C',
    capIfInconclusive: 'B',
    fix: { text: `Refuse assertions whose nbf is later than now plus the clock tolerance. ${VERIFY}` },
    kinds: ALL,
  },
  iat_future: {
    title: 'iat in the future',
    proves: 'The server checks iat: an assertion claiming to be issued three minutes from now is refused (it was made with a wrong clock or to outlive its lifetime limit).',
    expect: 'refuse',
    weakness: 'accepts assertions issued in the future',
    capIfNotEnforced: 'B',
    capIfInconclusive: 'B',
    fix: { text: 'Refuse assertions whose iat is later than now plus the clock tolerance.' },
    kinds: ALL,
  },
  long_lifetime: {
    title: 'Lifetime far beyond policy',
    proves: 'The server limits how long an assertion lives: one valid for 24 hours (exp − iat) is refused.',
    expect: 'refuse',
    weakness: 'accepts assertions that live for a day (no lifetime limit)',
    capIfNotEnforced: 'B',
    capIfInconclusive: 'B',
    fix: { text: 'Refuse assertions whose exp − iat exceeds the policy (a few minutes), and require iat.' },
    kinds: ALL,
  },
  missing_exp: {
    title: 'Missing exp',
    proves: 'The server requires exp: an assertion without one, usable forever if stolen, is refused.',
    expect: 'refuse',
    weakness: 'accepts assertions without exp (they never expire)',
    capIfNotEnforced: 'D',
    capIfInconclusive: 'B',
    fix: { text: 'Require exp (RFC 7523 §3 item 4): a JWT library\'s "required claims" option.' },
    kinds: ALL,
  },
  wrong_aud: {
    title: 'Wrong aud',
    proves: 'The server checks the audience: an assertion meant for another server cannot be replayed here.',
    expect: 'refuse',
    weakness: 'accepts assertions meant for another audience',
    capIfNotEnforced: 'D',
    capIfInconclusive: 'B',
    fix: { text: 'Require aud to be the token endpoint URL or the issuer identifier (RFC 7523 §3 item 3).' },
    kinds: ALL,
  },
  wrong_iss: {
    title: 'Wrong iss',
    proves: 'The server checks the issuer: an assertion with another iss, signed with the registered key, is refused.',
    expect: 'refuse',
    weakness: 'accepts assertions whose iss is not the registered issuer',
    capIfNotEnforced: 'C',
    capIfInconclusive: 'B',
    fix: { text: 'Look up the key by iss and refuse an iss that is not the registered issuer (the client id for client assertions and the seed exchange).' },
    kinds: ALL,
  },
  wrong_sub: {
    title: 'Wrong sub',
    proves: 'For client authentication sub must be the client id (RFC 7523 §3 item 2.B): an assertion with another sub is refused.',
    expect: 'refuse',
    weakness: 'accepts client assertions whose sub is not the client id',
    capIfNotEnforced: 'C',
    capIfInconclusive: 'B',
    fix: { text: 'Refuse client assertions whose iss and sub are not both the client_id.' },
    kinds: ['private_key_jwt'],
  },
  unknown_kid: {
    title: 'Unknown kid',
    proves: 'The server selects the key by kid: an assertion naming a kid that is not registered is refused, so rotating a key out really retires it.',
    expect: 'refuse',
    weakness: 'accepts assertions naming an unregistered kid',
    capIfNotEnforced: 'B',
    capIfInconclusive: 'B',
    fix: { text: 'Select the verification key by kid among the client\'s registered keys and refuse a kid that is not there.' },
    kinds: ALL,
  },
  bad_signature: {
    title: 'Bad signature',
    proves: 'The server verifies the signature: the valid assertion with its signature altered is refused.',
    expect: 'refuse',
    weakness: 'accepts assertions with an invalid signature',
    capIfNotEnforced: 'F',
    capIfInconclusive: 'B',
    fix: { text: VERIFY },
    kinds: ALL,
  },
  alg_none: {
    title: 'alg: none',
    proves: 'The server refuses unsigned JWTs (alg none, empty signature).',
    expect: 'refuse',
    weakness: 'accepts unsigned assertions (alg none)',
    capIfNotEnforced: 'F',
    capIfInconclusive: 'B',
    fix: { text: `Allow only the asymmetric algorithms registered for the client (e.g. RS256, ES256); never none. ${VERIFY}` },
    kinds: ALL,
  },
  hs256_public_key: {
    title: 'HS256 with the public key as secret',
    proves: 'The server is not open to algorithm confusion: an HS256 assertion whose HMAC key is the registered public key (PEM) is refused.',
    expect: 'refuse',
    weakness: 'accepts HS256 assertions keyed with the public key (algorithm confusion: anyone can forge them)',
    capIfNotEnforced: 'F',
    capIfInconclusive: 'B',
    fix: { text: `Pin the algorithm to the key type: a public key never verifies an HMAC. ${VERIFY}` },
    kinds: ALL,
  },
  embedded_jwk: {
    title: 'Embedded jwk header with another key',
    proves: 'The server verifies with the registered key only: an assertion signed by another key that carries that key in its jwk header is refused.',
    expect: 'refuse',
    weakness: 'trusts the key embedded in the assertion\'s jwk header (anyone can sign)',
    capIfNotEnforced: 'F',
    capIfInconclusive: 'B',
    fix: { text: 'Ignore jwk, jku, x5u and x5c headers for verification: use only the keys registered for the client.' },
    kinds: ALL,
  },
  unknown_crit: {
    title: 'Unknown crit header',
    proves: 'The server honours crit (RFC 7515 §4.1.11): an assertion marking an extension it does not understand as critical is refused.',
    expect: 'refuse',
    weakness: 'ignores crit headers it does not understand',
    capIfNotEnforced: 'B',
    capIfInconclusive: 'B',
    fix: { text: 'Refuse a JWS whose crit lists an extension the server does not implement (JWT libraries do unless told otherwise).' },
    kinds: ALL,
  },
} as const satisfies Record<string, JwtCaseEntry>;

export type JwtCaseId = keyof typeof JWT_CASES;
export const JWT_CASE_IDS = Object.keys(JWT_CASES) as JwtCaseId[];

/** The cases of one kind, in catalogue order (valid first, the replay right after it). */
export function jwtCasesFor(kind: JwtCheckKind): JwtCaseId[] {
  return JWT_CASE_IDS.filter((id) => (JWT_CASES[id].kinds as readonly JwtCheckKind[]).includes(kind));
}

export function jwtCaseEntry(id: string): JwtCaseEntry | undefined {
  return Object.hasOwn(JWT_CASES, id) ? JWT_CASES[id as JwtCaseId] : undefined;
}

// ---- protected resource: what an API must refuse of the access tokens it is shown

interface ResourceCaseEntry extends Omit<JwtCaseEntry, 'kinds'> {
  /** Only run when the token is certificate-bound (cnf x5t#S256, RFC 8705). */
  boundOnly?: true;
}

export const RESOURCE_CASES = {
  valid: {
    title: 'Valid access token',
    proves: 'The API accepts the access token as issued (with its certificate when it is bound): every refusal below is about the one thing that differs.',
    expect: 'accept',
    weakness: 'refuses the valid access token',
    capIfNotEnforced: 'F',
    capIfInconclusive: 'F',
    fix: { text: 'Accept the authorization server\'s tokens: its issuer, its JWKS, the API\'s audience.' },
  },
  tampered: {
    title: 'Tampered token',
    proves: 'The API verifies the token\'s signature: the valid token with a claim changed and the signature kept is refused.',
    expect: 'refuse',
    weakness: 'accepts access tokens whose claims were changed (signature not verified)',
    capIfNotEnforced: 'F',
    capIfInconclusive: 'B',
    fix: { text: 'Verify every JWT access token\'s signature with the issuer\'s JWKS (RFC 9068 §4) before reading a claim.' },
  },
  alg_none: {
    title: 'alg: none',
    proves: 'The API refuses an unsigned copy of the token.',
    expect: 'refuse',
    weakness: 'accepts unsigned access tokens (alg none)',
    capIfNotEnforced: 'F',
    capIfInconclusive: 'B',
    fix: { text: 'Pin the algorithms the issuer signs with; never accept none.' },
  },
  bound_without_certificate: {
    title: 'Bound token without its certificate',
    proves: 'The API enforces the certificate binding (RFC 8705 §3): the token presented over a connection without a client certificate is refused.',
    expect: 'refuse',
    weakness: 'accepts certificate-bound tokens without the certificate (a stolen token works)',
    capIfNotEnforced: 'D',
    capIfInconclusive: 'B',
    fix: { text: 'Require a client certificate and compare its SHA-256 thumbprint with the token\'s cnf x5t#S256; refuse when absent or different.' },
    boundOnly: true,
  },
  bound_other_certificate: {
    title: 'Bound token with another certificate',
    proves: 'The API compares the certificate with the binding: the token presented with another client certificate is refused.',
    expect: 'refuse',
    weakness: 'accepts certificate-bound tokens with any certificate',
    capIfNotEnforced: 'D',
    capIfInconclusive: 'B',
    fix: { text: 'Compare the presented certificate\'s SHA-256 thumbprint with cnf x5t#S256 (RFC 8705 §3.1).' },
    boundOnly: true,
  },
} as const satisfies Record<string, ResourceCaseEntry>;

export type ResourceCaseId = keyof typeof RESOURCE_CASES;

export function resourceCaseEntry(id: string): ResourceCaseEntry | undefined {
  return Object.hasOwn(RESOURCE_CASES, id) ? RESOURCE_CASES[id as ResourceCaseId] : undefined;
}
