import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lintJwt, LINT_CODES, type LintCode, type LintOptions } from './lint.ts';
import type { JwtClaims, JwtHeader } from './decode.ts';
import type { PublicJwk } from './keys.ts';

// A frozen clock: every time below is relative to it.
const NOW = Date.parse('2026-06-01T12:00:00Z');
const T = NOW / 1000;
const TOKEN_ENDPOINT = 'https://as.example/token';
const RSA_A: PublicJwk = { kty: 'RSA', kid: 'a', n: 'x'.repeat(342), e: 'AQAB' };
const RSA_B: PublicJwk = { kty: 'RSA', kid: 'b', n: 'y'.repeat(342), e: 'AQAB' };
const EC_P256: PublicJwk = { kty: 'EC', kid: 'ec', crv: 'P-256', x: 'xx', y: 'yy' };

const goodHeader: JwtHeader = { alg: 'RS256', kid: 'a' };
const goodClaims: JwtClaims = { iss: 'client-1', sub: 'client-1', aud: TOKEN_ENDPOINT, iat: T, exp: T + 60, jti: 'j1' };
const base: LintOptions = { now: NOW, audience: TOKEN_ENDPOINT, issuer: 'client-1', subject: 'client-1', requireJti: true, jwks: { keys: [RSA_A] }, signingKey: RSA_A };

const cases: { name: string; header?: JwtHeader; claims?: JwtClaims; opts?: Partial<LintOptions>; want: LintCode[] }[] = [
  { name: 'a good client assertion', want: [] },
  { name: 'no exp', claims: { ...goodClaims, exp: undefined }, want: ['exp_missing'] },
  { name: 'exp as a string', claims: { ...goodClaims, exp: '1700000000' as unknown as number }, want: ['exp_missing'] },
  { name: 'exp one second ago', claims: { ...goodClaims, iat: T - 61, exp: T - 1 }, want: ['exp_past'] },
  { name: 'exp exactly now is expired', claims: { ...goodClaims, iat: T - 60, exp: T }, want: ['exp_past'] },
  { name: 'exp now passes with leeway', claims: { ...goodClaims, iat: T - 60, exp: T }, opts: { leewaySec: 5 }, want: [] },
  { name: 'lifetime one hour', claims: { ...goodClaims, exp: T + 3600 }, want: ['lifetime_too_long'] },
  { name: 'lifetime exactly 5 min is fine', claims: { ...goodClaims, exp: T + 300 }, want: [] },
  { name: 'lifetime without iat counts from now', claims: { ...goodClaims, iat: undefined, exp: T + 301 }, want: ['lifetime_too_long'] },
  { name: 'custom max lifetime', claims: { ...goodClaims, exp: T + 120 }, opts: { maxLifetimeSec: 60 }, want: ['lifetime_too_long'] },
  { name: 'exp equal to iat', claims: { ...goodClaims, iat: T + 10, exp: T + 10 }, want: ['exp_not_after_iat'] },
  { name: 'exp before iat', claims: { ...goodClaims, iat: T + 30, exp: T + 20 }, want: ['exp_not_after_iat'] },
  { name: 'nbf in the future', claims: { ...goodClaims, nbf: T + 30 }, want: ['nbf_future'] },
  { name: 'nbf now is fine', claims: { ...goodClaims, nbf: T }, want: [] },
  { name: 'aud is the issuer, not the token endpoint', claims: { ...goodClaims, aud: 'https://as.example' }, want: ['aud_mismatch'] },
  { name: 'aud is the issuer and the issuer is accepted', claims: { ...goodClaims, aud: 'https://as.example' }, opts: { audience: [TOKEN_ENDPOINT, 'https://as.example'] }, want: [] },
  { name: 'aud array containing the token endpoint', claims: { ...goodClaims, aud: ['x', TOKEN_ENDPOINT] }, want: [] },
  { name: 'aud missing', claims: { ...goodClaims, aud: undefined }, want: ['aud_mismatch'] },
  { name: 'aud with a trailing slash', claims: { ...goodClaims, aud: `${TOKEN_ENDPOINT}/` }, want: ['aud_mismatch'] },
  { name: 'no audience option: aud not checked', claims: { ...goodClaims, aud: 'anything' }, opts: { audience: undefined }, want: [] },
  { name: 'iss is not the client id', claims: { ...goodClaims, iss: 'someone' }, want: ['iss_mismatch'] },
  { name: 'sub is not the client id', claims: { ...goodClaims, sub: 'user-7' }, want: ['sub_mismatch'] },
  { name: 'jti missing', claims: { ...goodClaims, jti: undefined }, want: ['jti_missing'] },
  { name: 'jti empty', claims: { ...goodClaims, jti: '' }, want: ['jti_missing'] },
  { name: 'jti not required', claims: { ...goodClaims, jti: undefined }, opts: { requireJti: false }, want: [] },
  { name: 'kid not in the registered JWKS', header: { alg: 'RS256', kid: 'zzz' }, opts: { signingKey: undefined }, want: ['kid_not_in_jwks'] },
  { name: 'kid registered for another key', header: { alg: 'RS256', kid: 'a' }, opts: { signingKey: { ...RSA_B, kid: 'a' } }, want: ['kid_not_in_jwks'] },
  { name: 'no kid, signing key not registered', header: { alg: 'RS256' }, opts: { signingKey: RSA_B }, want: ['kid_not_in_jwks'] },
  { name: 'no kid, signing key registered', header: { alg: 'RS256' }, want: [] },
  { name: 'no kid, several registered keys, signer unknown', header: { alg: 'RS256' }, opts: { signingKey: undefined, jwks: { keys: [RSA_A, RSA_B] } }, want: ['kid_not_in_jwks'] },
  { name: 'no JWKS known: kid not checked', header: { alg: 'RS256', kid: 'zzz' }, opts: { jwks: undefined, signingKey: undefined }, want: [] },
  { name: 'kid is the signing key\'s thumbprint, no JWKS known', header: { alg: 'RS256', kid: 'thumb-a' }, opts: { jwks: undefined, signingKeyThumbprint: 'thumb-a' }, want: ['kid_is_thumbprint'] },
  { name: 'kid chosen by the partner, no JWKS known', header: { alg: 'RS256', kid: 'partner-2026' }, opts: { jwks: undefined, signingKeyThumbprint: 'thumb-a' }, want: [] },
  { name: 'thumbprint kid checked against a registered JWKS instead', header: { alg: 'RS256', kid: 'thumb-a' }, opts: { signingKeyThumbprint: 'thumb-a', signingKey: undefined }, want: ['kid_not_in_jwks'] },
  { name: 'ES256 header with an RSA key', header: { alg: 'ES256', kid: 'a' }, want: ['alg_key_mismatch'] },
  { name: 'RS256 header with an EC key', header: { alg: 'RS256', kid: 'ec' }, opts: { jwks: { keys: [EC_P256] }, signingKey: EC_P256 }, want: ['alg_key_mismatch'] },
  { name: 'ES384 with a P-256 key', header: { alg: 'ES384', kid: 'ec' }, opts: { jwks: { keys: [EC_P256] }, signingKey: EC_P256 }, want: ['alg_key_mismatch'] },
  { name: 'HS256 with an RSA key', header: { alg: 'HS256', kid: 'a' }, want: ['alg_key_mismatch'] },
  { name: 'alg none', header: { alg: 'none', kid: 'a' }, want: ['alg_key_mismatch'] },
  { name: 'registered key pinned to another alg', header: { alg: 'PS256', kid: 'a' }, opts: { signingKey: { ...RSA_A, alg: 'RS256' }, jwks: { keys: [{ ...RSA_A, alg: 'RS256' }] } }, want: ['alg_key_mismatch'] },
  { name: 'PS256 with an RSA key is fine', header: { alg: 'PS256', kid: 'a' }, want: [] },
  { name: 'iat 10 min behind the reference clock', claims: { ...goodClaims, iat: T - 600, exp: T + 60 }, opts: { referenceNow: NOW, maxLifetimeSec: 3600 }, want: ['clock_skew'] },
  { name: 'iat 30 s off is within tolerance', claims: { ...goodClaims, iat: T - 30 }, opts: { referenceNow: NOW }, want: [] },
  { name: 'signer clock 2 min ahead of the relay', claims: { ...goodClaims, iat: T + 120, exp: T + 180 }, opts: { referenceNow: NOW }, want: ['clock_skew'] },
  { name: 'no iat: the two clocks compared directly', claims: { ...goodClaims, iat: undefined }, opts: { referenceNow: NOW - 300_000 }, want: ['clock_skew'] },
  { name: 'iat in the future without a reference clock', claims: { ...goodClaims, iat: T + 600, exp: T + 660 }, want: ['clock_skew'] },
  { name: 'several problems at once, in rule order', claims: { iss: 'client-1', sub: 'client-1', iat: T - 4000, exp: T - 100 }, opts: { referenceNow: NOW }, want: ['exp_past', 'lifetime_too_long', 'aud_mismatch', 'jti_missing', 'clock_skew'] },
];

for (const c of cases) {
  test(`lintJwt: ${c.name}`, () => {
    const findings = lintJwt(c.header ?? goodHeader, c.claims ?? goodClaims, { ...base, ...c.opts });
    assert.deepEqual(findings.map((f) => f.code), c.want);
    for (const f of findings) assert.ok(f.message.length > 10, `${f.code} has a message`);
  });
}

test('every lint code is exercised by a case', () => {
  const covered = new Set(cases.flatMap((c) => c.want));
  for (const code of LINT_CODES) assert.ok(covered.has(code), `${code} has a table case`);
});

test('severities: clock skew and lifetime warn, the rest are errors', () => {
  const findings = lintJwt({ alg: 'RS256', kid: 'zzz' }, { iat: T - 4000, exp: T - 100 }, { ...base, referenceNow: NOW });
  const bySeverity = Object.fromEntries(findings.map((f) => [f.code, f.severity]));
  assert.equal(bySeverity.clock_skew, 'warning');
  assert.equal(bySeverity.lifetime_too_long, 'warning');
  assert.equal(bySeverity.exp_past, 'error');
  assert.equal(bySeverity.kid_not_in_jwks, 'error');
});

test('messages name the claim and the times', () => {
  const [f] = lintJwt(goodHeader, { ...goodClaims, iat: T - 70, exp: T - 10 }, base);
  assert.equal(f?.claim, 'exp');
  assert.match(f!.message, /expired 10 s ago \(exp 2026-06-01T11:59:50\.000Z\)/);
});
