// Splits a compact JWS into what a person wants to see — header, claims, signature — without
// verifying anything. Each way a token can be unreadable has its own code.
import { base64url } from 'jose';

export type JwtHeader = Record<string, unknown> & { alg?: string; kid?: string; typ?: string; x5c?: string[] };
export type JwtClaims = Record<string, unknown> & {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
};

export interface DecodedJwt {
  header: JwtHeader;
  claims: JwtClaims;
  /** base64url of the signature bytes, as sent. */
  signature: string;
  /** The two parts the signature covers: `header.payload`. */
  signingInput: string;
}

type DecodeProblem = 'not_a_jwt' | 'encrypted' | 'header_invalid' | 'claims_invalid' | 'signature_missing';

export type DecodeResult = { ok: true; jwt: DecodedJwt } | { ok: false; code: DecodeProblem; message: string };

const B64URL = /^[A-Za-z0-9_-]*$/;

function parsePart(part: string): Record<string, unknown> | null {
  if (!B64URL.test(part)) return null;
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64url.decode(part)));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** `allowUnsigned`: read an unsigned JWT (alg none, empty signature) too — the server check sends one on purpose. */
export function decodeJwt(token: string, opts: { allowUnsigned?: boolean } = {}): DecodeResult {
  const text = token.trim();
  const parts = text.split('.');
  if (parts.length === 5) return { ok: false, code: 'encrypted', message: 'this is an encrypted JWT (JWE, five parts); only signed JWTs (three parts) can be read here' };
  if (parts.length !== 3) return { ok: false, code: 'not_a_jwt', message: `a JWT has three dot-separated parts; this has ${parts.length}` };
  const [h, p, s] = parts as [string, string, string];
  const header = parsePart(h);
  if (!header) return { ok: false, code: 'header_invalid', message: 'the first part (header) is not base64url-encoded JSON' };
  const claims = parsePart(p);
  if (!claims) return { ok: false, code: 'claims_invalid', message: 'the second part (claims) is not base64url-encoded JSON' };
  if (!B64URL.test(s)) return { ok: false, code: 'signature_missing', message: 'the third part (signature) is not base64url' };
  if (s === '' && !opts.allowUnsigned) return { ok: false, code: 'signature_missing', message: 'the token is unsigned (empty signature part)' };
  return { ok: true, jwt: { header: header as JwtHeader, claims: claims as JwtClaims, signature: s, signingInput: `${h}.${p}` } };
}

/** Seconds-since-epoch claims shown as ISO dates next to the numbers, for people. */
export function describeTimes(claims: JwtClaims): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['iat', 'nbf', 'exp'] as const) {
    const v = claims[name];
    if (typeof v === 'number' && Number.isFinite(v)) out[name] = new Date(v * 1000).toISOString();
  }
  return out;
}
