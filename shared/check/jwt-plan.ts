// The JWT check's assertions, one per case, made wherever the key is: the CLI signs with the PEM
// it read, the browser with its own (non-extractable) key or a key-ring key — so the key never
// travels to the relay. Each assertion differs from the valid one in one property (and its jti);
// some are made by hand, as a JWT library rightly refuses to make them (alg none, HS256 keyed
// with the public key). Pure: jose and WebCrypto only, no Node or DOM APIs.
import { base64url, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTHeaderParameters, type KeyObject } from 'jose';
import { jwtCasesFor, type JwtCaseId, type JwtCheckKind } from './jwt-cases.ts';
import { CheckInputError } from './request.ts';

/** Lifetime of the assertions that must pass: well inside the usual five-minute policies. */
const VALID_LIFETIME_SEC = 120;
/** How far the time cases are off: beyond any sane clock tolerance, inside a 5-minute lifetime limit. */
const SKEW_SEC = 180;
const LONG_LIFETIME_SEC = 86_400;
const WRONG_AUDIENCE = 'https://wrong-audience.harness-check.invalid/token';
const WRONG_ISSUER = 'harness-check-wrong-issuer';
const WRONG_SUBJECT = 'harness-check-wrong-subject';
const UNKNOWN_KID = 'harness-check-unknown-kid';
const CRIT_EXTENSION = 'urn:harness-check:critical';

/** Algorithms the check signs with; the key's type decides. */
const JWT_CHECK_ALGS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const;

/** The user's key, as the side that holds it has it. */
export interface CaseSigningKey {
  key: CryptoKey | KeyObject;
  alg: (typeof JWT_CHECK_ALGS)[number];
  /** SPKI PEM of the public key, in OpenSSL's layout (64-character lines, final newline): the HS256 case's "secret". */
  publicPem: string;
}

/** What the assertions are made of (a JwtCheckRequest less what only the token request needs). */
interface JwtPlanInput {
  kind: JwtCheckKind;
  tokenUrl: string;
  clientId: string;
  kid?: string;
  audience?: string;
  issuer?: string;
  subject?: string;
}

export interface PlannedJwtCase {
  id: JwtCaseId;
  token: string;
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

const b64json = (v: unknown) => base64url.encode(JSON.stringify(v));

/** By hand: a JWT library refuses to make these, which is the point. */
async function handMade(header: Record<string, unknown>, claims: Record<string, unknown>, sign: (input: string) => Promise<string> | string): Promise<string> {
  const input = `${b64json(header)}.${b64json(claims)}`;
  return `${input}.${await sign(input)}`;
}

async function hmacSha256(secret: string, input: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return base64url.encode(new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(input))));
}

function jti(): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(16)));
}

/** SPKI DER as PEM in OpenSSL's layout, so the HS256 case's secret matches what a server derives. */
export function spkiPem(der: Uint8Array): string {
  let b64 = '';
  for (let i = 0; i < der.length; i += 0x8000) b64 += String.fromCharCode(...der.subarray(i, i + 0x8000));
  const lines = btoa(b64).match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`;
}

/** One assertion per case of the request's kind, in catalogue order (valid first, the replay right after it). */
export async function planJwtCases(req: JwtPlanInput, signing: CaseSigningKey): Promise<PlannedJwtCase[]> {
  const now = Math.floor(Date.now() / 1000);
  const iss = req.kind === 'private_key_jwt' ? req.clientId : req.issuer ?? req.clientId;
  const sub = req.kind === 'private_key_jwt' ? req.clientId : req.subject ?? req.clientId;
  const aud = req.audience ?? req.tokenUrl;
  const header = (extra: Record<string, unknown> = {}) => ({ alg: signing.alg, typ: 'JWT', ...(req.kid ? { kid: req.kid } : {}), ...extra });
  const claims = (extra: Record<string, unknown> = {}) => ({ iss, sub, aud, iat: now, exp: now + VALID_LIFETIME_SEC, jti: jti(), ...extra });
  const sign = (h: Record<string, unknown>, c: Record<string, unknown>, key: CryptoKey | KeyObject = signing.key, opts: { crit?: Record<string, boolean> } = {}) =>
    new SignJWT(c).setProtectedHeader(h as JWTHeaderParameters).sign(key, opts);

  const out = new Map<JwtCaseId, PlannedJwtCase>();
  const add = async (id: JwtCaseId, h: Record<string, unknown>, c: Record<string, unknown>, make?: () => Promise<string> | string) => {
    out.set(id, { id, header: h, claims: c, token: make ? await make() : await sign(h, c) });
  };
  await add('valid', header(), claims());
  out.set('replayed_jti', { ...out.get('valid')!, id: 'replayed_jti' });
  await add('expired', header(), claims({ iat: now - 900, exp: now - 600 }));
  await add('nbf_future', header(), claims({ nbf: now + SKEW_SEC, exp: now + SKEW_SEC + VALID_LIFETIME_SEC / 2 }));
  await add('iat_future', header(), claims({ iat: now + SKEW_SEC, exp: now + SKEW_SEC + VALID_LIFETIME_SEC / 2 }));
  await add('long_lifetime', header(), claims({ exp: now + LONG_LIFETIME_SEC }));
  const noExp: Record<string, unknown> = claims();
  delete noExp.exp;
  await add('missing_exp', header(), noExp);
  await add('wrong_aud', header(), claims({ aud: WRONG_AUDIENCE }));
  await add('wrong_iss', header(), claims({ iss: WRONG_ISSUER }));
  await add('wrong_sub', header(), claims({ sub: WRONG_SUBJECT }));
  await add('unknown_kid', header({ kid: UNKNOWN_KID }), claims());
  const badSig = claims();
  await add('bad_signature', header(), badSig, async () => {
    const [h, c, s] = (await sign(header(), badSig)).split('.') as [string, string, string];
    const sig = base64url.decode(s);
    sig[sig.length >> 1]! ^= 0x01;
    return `${h}.${c}.${base64url.encode(sig)}`;
  });
  const noneHeader = { alg: 'none', typ: 'JWT' };
  const noneClaims = claims();
  await add('alg_none', noneHeader, noneClaims, () => handMade(noneHeader, noneClaims, () => ''));
  const hsHeader = { alg: 'HS256', typ: 'JWT', ...(req.kid ? { kid: req.kid } : {}) };
  const hsClaims = claims();
  await add('hs256_public_key', hsHeader, hsClaims, () => handMade(hsHeader, hsClaims, (input) => hmacSha256(signing.publicPem, input)));
  // Another key of the same kind, carried in the header; no kid, so only the jwk names a key.
  const other = await generateKeyPair(signing.alg === 'EdDSA' ? 'Ed25519' : signing.alg, { extractable: true });
  const { kty, n, e, crv, x, y } = (await exportJWK(other.publicKey)) as Record<string, string>;
  const jwkHeader = { alg: signing.alg, typ: 'JWT', jwk: { kty, ...(n ? { n, e } : {}), ...(crv ? { crv, x, ...(y ? { y } : {}) } : {}) } };
  const jwkClaims = claims();
  await add('embedded_jwk', jwkHeader, jwkClaims, () => sign(jwkHeader, jwkClaims, other.privateKey));
  const critHeader = header({ crit: [CRIT_EXTENSION], [CRIT_EXTENSION]: true });
  const critClaims = claims();
  await add('unknown_crit', critHeader, critClaims, () => sign(critHeader, critClaims, signing.key, { crit: { [CRIT_EXTENSION]: true } }));
  return jwtCasesFor(req.kind).map((id) => out.get(id)!);
}

/** The case ids whose assertion a signed request carries: every case of the kind but the replay, which re-sends `valid`'s. */
export function signedCaseIds(kind: JwtCheckKind): JwtCaseId[] {
  return jwtCasesFor(kind).filter((id) => id !== 'replayed_jti');
}

const COMPACT = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)$/;

function jsonPart(part: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64url.decode(part)));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The plan of a check whose assertions were signed elsewhere (the browser): exactly one compact
 * JWT per case of the kind but the replay. Errors name the case (`assertions.alg_none`) and never
 * quote a token.
 */
export function plansFromAssertions(kind: JwtCheckKind, raw: unknown): PlannedJwtCase[] {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new CheckInputError('assertions', 'must be an object of one signed assertion per case id');
  const given = raw as Record<string, unknown>;
  const wanted = signedCaseIds(kind);
  const extra = Object.keys(given).filter((id) => !(wanted as string[]).includes(id));
  if (extra.length) throw new CheckInputError(`assertions.${extra[0]!.slice(0, 40)}`, `is not a case of the ${kind} check (its cases: ${wanted.join(', ')}; replayed_jti re-sends valid's)`);
  const plans = new Map<JwtCaseId, PlannedJwtCase>();
  for (const id of wanted) {
    const token = given[id];
    if (typeof token !== 'string') throw new CheckInputError(`assertions.${id}`, 'missing: give the case\'s signed assertion (compact JWT)');
    const parts = COMPACT.exec(token);
    const header = parts ? jsonPart(parts[1]!) : undefined;
    const claims = parts ? jsonPart(parts[2]!) : undefined;
    if (!header || !claims) throw new CheckInputError(`assertions.${id}`, 'is not a compact JWT with a JSON header and claims');
    plans.set(id, { id, token, header, claims });
  }
  if (plans.has('valid')) plans.set('replayed_jti', { ...plans.get('valid')!, id: 'replayed_jti' });
  return jwtCasesFor(kind).map((id) => plans.get(id)!);
}
