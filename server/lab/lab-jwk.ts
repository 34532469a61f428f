// What the lab accepts as a client's public key (lab.register): the members a signing key
// needs and nothing else, each the size its curve or modulus makes it. A registration is kept
// for the session's life, so padding (extra members, oversized values) must not get in.
import { createPublicKey } from 'node:crypto';
import { SIGNING_ALGS, type PublicJwk } from '../../shared/jwt/keys.ts';

/** Sizes of registered keys, in bits or characters as noted. */
const LAB_JWK_LIMITS = {
  rsaMinBits: 2048, // bits (jose refuses smaller RSA keys for RS*/PS*)
  rsaMaxBits: 4096, // bits
  /** Public exponent: 65537 is 3 bytes; anything beyond 8 bytes is not a real key. */
  rsaExponentBytes: 8, // bytes
  kid: 128, // characters
  /** One self-signed certificate (self_signed_tls_client_auth), base64 DER. */
  x5cChars: 8 * 1024, // characters
} as const;

/** Bytes of each coordinate for the curves the lab verifies. */
const CURVES: Record<string, { kty: 'EC' | 'OKP'; bytes: number }> = {
  'P-256': { kty: 'EC', bytes: 32 },
  'P-384': { kty: 'EC', bytes: 48 },
  'P-521': { kty: 'EC', bytes: 66 },
  Ed25519: { kty: 'OKP', bytes: 32 },
  Ed448: { kty: 'OKP', bytes: 57 },
};

const MEMBERS: Record<string, { required: readonly string[]; allowed: readonly string[] }> = {
  RSA: { required: ['n', 'e'], allowed: ['kty', 'n', 'e', 'kid', 'alg', 'use', 'x5c'] },
  EC: { required: ['crv', 'x', 'y'], allowed: ['kty', 'crv', 'x', 'y', 'kid', 'alg', 'use', 'x5c'] },
  OKP: { required: ['crv', 'x'], allowed: ['kty', 'crv', 'x', 'kid', 'alg', 'use', 'x5c'] },
};

const B64URL = /^[A-Za-z0-9_-]+$/;

/** Bytes of a base64url value, leading zero bytes not counted; null when it is not base64url. */
function significantBytes(v: unknown): number | null {
  if (typeof v !== 'string' || !B64URL.test(v) || v.length > 2048) return null;
  const bytes = Buffer.from(v, 'base64url');
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  return bytes.length - i;
}

/** Null when the key may be registered; otherwise what is wrong with it, in a sentence. */
export function labJwkProblem(jwk: PublicJwk, opts: { selfSigned: boolean }): string | null {
  const shape = MEMBERS[jwk.kty];
  if (!shape) return `publicJwk.kty must be RSA, EC or OKP, not ${String(jwk.kty).slice(0, 16)}`;
  for (const name of Object.keys(jwk)) {
    if (!shape.allowed.includes(name)) return `publicJwk.${name.slice(0, 32)} is not a member of a public ${jwk.kty} signing key (allowed: ${shape.allowed.join(', ')})`;
  }
  for (const name of shape.required) if (jwk[name] === undefined) return `publicJwk.${name} is required for a ${jwk.kty} key`;
  if (jwk.kty === 'RSA') {
    const n = significantBytes(jwk.n);
    if (n === null || n < LAB_JWK_LIMITS.rsaMinBits / 8 || n > LAB_JWK_LIMITS.rsaMaxBits / 8) return `publicJwk.n must be a base64url modulus of ${LAB_JWK_LIMITS.rsaMinBits}-${LAB_JWK_LIMITS.rsaMaxBits} bits`;
    const e = significantBytes(jwk.e);
    if (e === null || e === 0 || e > LAB_JWK_LIMITS.rsaExponentBytes) return `publicJwk.e must be a base64url exponent of at most ${LAB_JWK_LIMITS.rsaExponentBytes} bytes (usually AQAB)`;
  } else {
    const curve = typeof jwk.crv === 'string' ? CURVES[jwk.crv] : undefined;
    if (!curve || curve.kty !== jwk.kty) return `publicJwk.crv must be one of ${Object.keys(CURVES).filter((c) => CURVES[c]!.kty === jwk.kty).join(', ')} for a ${jwk.kty} key`;
    for (const coord of jwk.kty === 'EC' ? ['x', 'y'] : ['x']) {
      const v = jwk[coord];
      if (typeof v !== 'string' || !B64URL.test(v) || Buffer.from(v, 'base64url').length !== curve.bytes) return `publicJwk.${coord} must be ${curve.bytes} base64url bytes for ${String(jwk.crv)}`;
    }
  }
  try {
    const { kty, crv, n, e, x, y } = jwk as Record<string, string>;
    createPublicKey({ key: { kty, crv, n, e, x, y }, format: 'jwk' });
  } catch {
    return `publicJwk is not a valid ${jwk.kty} public key (a point off its curve, or a malformed modulus)`;
  }
  if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || !/^[\x21-\x7e]+$/.test(jwk.kid) || jwk.kid.length > LAB_JWK_LIMITS.kid)) return `publicJwk.kid must be 1-${LAB_JWK_LIMITS.kid} printable characters`;
  if (jwk.alg !== undefined && !(SIGNING_ALGS as readonly unknown[]).includes(jwk.alg)) return `publicJwk.alg must be one of ${SIGNING_ALGS.join(', ')}`;
  if (jwk.use !== undefined && jwk.use !== 'sig') return 'publicJwk.use must be "sig" (the key signs client assertions)';
  if (jwk.x5c !== undefined) {
    if (!opts.selfSigned) return 'publicJwk.x5c is only for self_signed_tls_client_auth';
    if (!Array.isArray(jwk.x5c) || jwk.x5c.length !== 1 || typeof jwk.x5c[0] !== 'string' || jwk.x5c[0].length > LAB_JWK_LIMITS.x5cChars) return `publicJwk.x5c must hold the one self-signed certificate (at most ${LAB_JWK_LIMITS.x5cChars} base64 characters)`;
  }
  return null;
}
