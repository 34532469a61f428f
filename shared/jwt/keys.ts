// Which key types can make which JWS algorithms, and whether two JWKs are the same key.
// Shared by the claim lint (before signing) and the explanations of a refused token.

/** A public JWK as it travels in JWKS documents; only the members this code reads are typed. */
export interface PublicJwk {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  crv?: string;
  n?: string;
  e?: string;
  x?: string;
  y?: string;
  x5c?: string[];
  'x5t#S256'?: string;
  [member: string]: unknown;
}

export interface Jwks {
  keys: PublicJwk[];
}

/** Asymmetric JWS algorithms the harness signs and verifies. */
export const SIGNING_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

const EC_CURVE: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

/** Null when `alg` can be made by `jwk`; otherwise why not, in a sentence. */
export function algKeyProblem(alg: string | undefined, jwk: PublicJwk): string | null {
  if (alg === undefined) return 'the header has no alg';
  if (alg === 'none') return 'alg "none" means unsigned; no server accepts it for authentication';
  if (typeof jwk.alg === 'string' && jwk.alg !== alg) return `the key is registered for ${jwk.alg}, the header says ${alg}`;
  if (alg.startsWith('HS')) return `${alg} is a shared-secret algorithm; a ${jwk.kty} key cannot make it`;
  if (/^(RS|PS)\d{3}$/.test(alg)) return jwk.kty === 'RSA' ? null : `${alg} needs an RSA key, this key is ${describeJwk(jwk)}`;
  const curve = EC_CURVE[alg];
  if (curve) return jwk.kty === 'EC' && jwk.crv === curve ? null : `${alg} needs an EC ${curve} key, this key is ${describeJwk(jwk)}`;
  if (alg === 'EdDSA' || alg === 'Ed25519') return jwk.kty === 'OKP' && jwk.crv === 'Ed25519' ? null : `${alg} needs an Ed25519 key, this key is ${describeJwk(jwk)}`;
  return `${alg} is not an algorithm the harness knows`;
}

function describeJwk(jwk: PublicJwk): string {
  if (jwk.kty === 'RSA') return typeof jwk.n === 'string' ? `RSA-${rsaBits(jwk.n)}` : 'RSA';
  if (jwk.kty === 'EC' || jwk.kty === 'OKP') return `${jwk.kty} ${jwk.crv ?? ''}`.trim();
  return jwk.kty;
}

function rsaBits(n: string): number {
  // base64url length → bytes → bits, rounded to the usual sizes.
  const bits = Math.floor((n.length * 6) / 8) * 8;
  for (const size of [1024, 2048, 3072, 4096]) if (Math.abs(bits - size) <= 16) return size;
  return bits;
}

/** Same public key material (kid and metadata aside). */
export function sameKey(a: PublicJwk, b: PublicJwk): boolean {
  if (a.kty !== b.kty) return false;
  if (a.kty === 'RSA') return a.n === b.n && a.e === b.e;
  if (a.kty === 'EC') return a.crv === b.crv && a.x === b.x && a.y === b.y;
  if (a.kty === 'OKP') return a.crv === b.crv && a.x === b.x;
  return false;
}

/** Only the public members of a JWK (drops d, p, q, … if a private JWK was pasted). */
export function publicPart(jwk: PublicJwk): PublicJwk {
  const keep = ['kty', 'kid', 'alg', 'use', 'crv', 'n', 'e', 'x', 'y', 'x5c', 'x5t#S256'];
  const out: PublicJwk = { kty: jwk.kty };
  for (const k of keep) if (jwk[k] !== undefined) out[k] = jwk[k];
  return out;
}
