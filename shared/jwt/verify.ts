// Verifies a JWT with jose against a key given as PEM (public key or certificate), a JWK, a
// JWKS, or the token's own x5c header, and says exactly what failed as a coded result:
// the signature, the algorithm, a claim, or no key to try.
import { createLocalJWKSet, errors, importJWK, importSPKI, importX509, jwtVerify, type CryptoKey, type JWK, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { decodeJwt, type JwtClaims, type JwtHeader } from './decode.ts';
import type { Jwks, PublicJwk } from './keys.ts';

export type KeySource =
  | { type: 'pem'; pem: string }
  | { type: 'jwk'; jwk: PublicJwk }
  | { type: 'jwks'; jwks: Jwks }
  /** The leaf certificate in the token's x5c header. Trust in that certificate is a separate question. */
  | { type: 'x5c' };

const VERIFY_FAILURES = ['malformed', 'key_unusable', 'key_not_found', 'alg_not_allowed', 'signature_invalid', 'expired', 'not_yet_valid', 'claim_invalid'] as const;
export type VerifyFailure = (typeof VERIFY_FAILURES)[number];

export interface VerifyOptions {
  /** Accepted algorithms; default: any asymmetric one the key supports. */
  algorithms?: string[];
  issuer?: string | string[];
  audience?: string | string[];
  subject?: string;
  /** Epoch ms; default Date.now(). */
  now?: number;
  clockToleranceSec?: number;
  requiredClaims?: string[];
}

export type VerifyResult =
  | { ok: true; header: JwtHeader; claims: JwtClaims; keyId?: string }
  | { ok: false; code: VerifyFailure; message: string; claim?: string; header?: JwtHeader; claims?: JwtClaims };

const DEFAULT_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

function pemLabel(pem: string): string | undefined {
  return pem.match(/-----BEGIN ([A-Z0-9 ]+)-----/)?.[1];
}

async function resolveKey(source: KeySource, header: JwtHeader): Promise<CryptoKey | JWTVerifyGetKey | { problem: string; code: VerifyFailure }> {
  const alg = header.alg ?? 'RS256';
  try {
    switch (source.type) {
      case 'pem': {
        const label = pemLabel(source.pem);
        if (label === 'CERTIFICATE') return await importX509(source.pem, alg);
        if (label === 'PUBLIC KEY') return await importSPKI(source.pem, alg);
        if (label?.includes('PRIVATE')) return { code: 'key_unusable', problem: 'a private key was given; verification needs the public key or certificate' };
        return { code: 'key_unusable', problem: 'the PEM is neither a PUBLIC KEY nor a CERTIFICATE' };
      }
      case 'jwk': {
        const key = await importJWK(source.jwk as JWK, alg);
        if (key instanceof Uint8Array) return { code: 'key_unusable', problem: 'a symmetric (oct) JWK cannot verify an asymmetric signature' };
        return key;
      }
      case 'jwks':
        return createLocalJWKSet(source.jwks as { keys: JWK[] });
      case 'x5c': {
        const first = Array.isArray(header.x5c) ? header.x5c[0] : undefined;
        if (typeof first !== 'string') return { code: 'key_not_found', problem: 'the header has no x5c certificate to take the key from' };
        const pem = `-----BEGIN CERTIFICATE-----\n${first.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END CERTIFICATE-----`;
        return await importX509(pem, alg);
      }
    }
  } catch (err) {
    return { code: 'key_unusable', problem: `the key cannot be used for ${alg}: ${(err as Error).message}` };
  }
}

/** Turns jose's errors into the harness's codes. */
function classify(err: unknown): { code: VerifyFailure; message: string; claim?: string } {
  if (err instanceof errors.JWTExpired) return { code: 'expired', message: `the token expired (${err.reason})`, claim: 'exp' };
  if (err instanceof errors.JWTClaimValidationFailed) {
    const code: VerifyFailure = err.claim === 'nbf' || (err.claim === 'iat' && err.reason === 'check_failed') ? 'not_yet_valid' : 'claim_invalid';
    return { code, message: `claim ${err.claim}: ${err.message}`, claim: err.claim };
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return { code: 'signature_invalid', message: 'the signature does not verify with this key: signed by another key, or the token was altered' };
  if (err instanceof errors.JOSEAlgNotAllowed) return { code: 'alg_not_allowed', message: err.message };
  if (err instanceof errors.JWKSNoMatchingKey) return { code: 'key_not_found', message: 'no key in the JWKS matches the token (kid/alg/kty)' };
  if (err instanceof errors.JWKSMultipleMatchingKeys) return { code: 'key_not_found', message: 'several keys in the JWKS match and none verified the signature' };
  if (err instanceof errors.JOSENotSupported) return { code: 'alg_not_allowed', message: err.message };
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return { code: 'malformed', message: err.message };
  if (err instanceof TypeError) return { code: 'key_unusable', message: `the key does not fit the token's algorithm: ${err.message}` };
  return { code: 'malformed', message: err instanceof Error ? err.message : String(err) };
}

export async function verifyJwt(token: string, source: KeySource, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const decoded = decodeJwt(token);
  if (!decoded.ok) return { ok: false, code: 'malformed', message: decoded.message };
  const { header, claims } = decoded.jwt;
  const algorithms = opts.algorithms ?? DEFAULT_ALGS;
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) {
    return { ok: false, code: 'alg_not_allowed', message: `alg ${String(header.alg)} is not among the accepted ${algorithms.join(', ')}`, claim: 'alg', header, claims };
  }
  const key = await resolveKey(source, header);
  if ('problem' in key) return { ok: false, code: key.code, message: key.problem, header, claims };
  const options: JWTVerifyOptions = {
    algorithms,
    currentDate: new Date(opts.now ?? Date.now()),
    ...(opts.clockToleranceSec !== undefined ? { clockTolerance: opts.clockToleranceSec } : {}),
    ...(opts.issuer !== undefined ? { issuer: opts.issuer } : {}),
    ...(opts.audience !== undefined ? { audience: opts.audience } : {}),
    ...(opts.subject !== undefined ? { subject: opts.subject } : {}),
    ...(opts.requiredClaims ? { requiredClaims: opts.requiredClaims } : {}),
  };
  try {
    const result = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
    return { ok: true, header, claims: result.payload as JwtClaims, ...(typeof header.kid === 'string' ? { keyId: header.kid } : {}) };
  } catch (err) {
    return { ok: false, ...classify(err), header, claims };
  }
}
