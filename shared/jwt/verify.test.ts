import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { exportSPKI, generateKeyPair, type CryptoKey } from 'jose';
import { verifyJwt, type KeySource, type VerifyFailure, type VerifyOptions } from './verify.ts';
import { decodeJwt, describeTimes } from './decode.ts';
import { signJwt, publicJwkOf, importSigningKey } from './sign.ts';
import { templateClaims, TemplateError } from './claims.ts';
import type { PublicJwk } from './keys.ts';
import { generateKeyPair as pkiKeyPair, selfSign, exportPkcs8Pem } from '../pki/issue.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const T = NOW / 1000;

let rsa: { privateKey: CryptoKey; publicKey: CryptoKey; jwk: PublicJwk; spki: string };
let other: { privateKey: CryptoKey; jwk: PublicJwk };
let ec: { privateKey: CryptoKey; jwk: PublicJwk };
let certPem: string;
let certKey: CryptoKey;
let certB64: string;

before(async () => {
  const a = await generateKeyPair('RS256', { extractable: true });
  rsa = { ...a, jwk: await publicJwkOf(a.publicKey, 'rsa-1'), spki: await exportSPKI(a.publicKey) };
  const b = await generateKeyPair('RS256', { extractable: true });
  other = { privateKey: b.privateKey, jwk: await publicJwkOf(b.publicKey, 'rsa-2') };
  const e = await generateKeyPair('ES256', { extractable: true });
  ec = { privateKey: e.privateKey, jwk: await publicJwkOf(e.publicKey, 'ec-1') };
  const keys = await pkiKeyPair('P-256', true);
  const cert = await selfSign(keys, { subject: 'CN=x5c signer', profile: 'client' });
  certPem = cert.toString('pem');
  certB64 = Buffer.from(cert.rawData).toString('base64');
  certKey = await importSigningKey(await exportPkcs8Pem(keys.privateKey), 'ES256');
});

const claims = () => ({ iss: 'c1', sub: 'c1', aud: 'https://as.example/token', iat: T, exp: T + 60, jti: 'j' });

interface Case {
  name: string;
  make: () => Promise<string>;
  source: () => KeySource;
  opts?: VerifyOptions;
  want: true | VerifyFailure;
  claim?: string;
}

const cases: Case[] = [
  { name: 'JWK', make: () => signJwt(claims(), { alg: 'RS256', kid: 'rsa-1' }, rsa.privateKey), source: () => ({ type: 'jwk', jwk: rsa.jwk }), want: true },
  { name: 'SPKI PEM', make: () => signJwt(claims(), { alg: 'RS256' }, rsa.privateKey), source: () => ({ type: 'pem', pem: rsa.spki }), want: true },
  { name: 'JWKS picks by kid', make: () => signJwt(claims(), { alg: 'RS256', kid: 'rsa-1' }, rsa.privateKey), source: () => ({ type: 'jwks', jwks: { keys: [other.jwk, rsa.jwk] } }), want: true },
  { name: 'certificate PEM', make: () => signJwt(claims(), { alg: 'ES256' }, certKey), source: () => ({ type: 'pem', pem: certPem }), want: true },
  { name: 'x5c header', make: () => signJwt(claims(), { alg: 'ES256', x5c: [certB64] }, certKey), source: () => ({ type: 'x5c' }), want: true },
  { name: 'x5c missing from the header', make: () => signJwt(claims(), { alg: 'ES256' }, certKey), source: () => ({ type: 'x5c' }), want: 'key_not_found' },
  { name: 'signed by another key', make: () => signJwt(claims(), { alg: 'RS256', kid: 'rsa-1' }, other.privateKey), source: () => ({ type: 'jwk', jwk: rsa.jwk }), want: 'signature_invalid' },
  { name: 'altered claims', make: async () => { const t = await signJwt(claims(), { alg: 'RS256' }, rsa.privateKey); const [h, , s] = t.split('.'); return `${h}.${Buffer.from(JSON.stringify({ ...claims(), sub: 'admin' })).toString('base64url')}.${s}`; }, source: () => ({ type: 'jwk', jwk: rsa.jwk }), want: 'signature_invalid' },
  { name: 'kid not in the JWKS', make: () => signJwt(claims(), { alg: 'RS256', kid: 'nope' }, rsa.privateKey), source: () => ({ type: 'jwks', jwks: { keys: [other.jwk] } }), want: 'key_not_found' },
  { name: 'ES256 token against an RSA-only JWKS', make: () => signJwt(claims(), { alg: 'ES256' }, ec.privateKey), source: () => ({ type: 'jwks', jwks: { keys: [rsa.jwk] } }), want: 'key_not_found' },
  { name: 'alg outside the accepted list', make: () => signJwt(claims(), { alg: 'ES256' }, ec.privateKey), source: () => ({ type: 'jwk', jwk: ec.jwk }), opts: { algorithms: ['RS256'] }, want: 'alg_not_allowed' },
  { name: 'RS256 header, EC key', make: () => signJwt(claims(), { alg: 'ES256' }, ec.privateKey).then((t) => t.replace(/^[^.]+/, Buffer.from('{"alg":"RS256"}').toString('base64url'))), source: () => ({ type: 'jwk', jwk: ec.jwk }), want: 'key_unusable' },
  { name: 'expired', make: () => signJwt({ ...claims(), iat: T - 120, exp: T - 60 }, { alg: 'RS256' }, rsa.privateKey), source: () => ({ type: 'jwk', jwk: rsa.jwk }), want: 'expired', claim: 'exp' },
  { name: 'expired, within tolerance', make: () => signJwt({ ...claims(), iat: T - 120, exp: T - 5 }, { alg: 'RS256' }, rsa.privateKey), source: () => ({ type: 'jwk', jwk: rsa.jwk }), opts: { clockToleranceSec: 10 }, want: true },
  { name: 'not yet valid (nbf)', make: () => signJwt({ ...claims(), nbf: T + 60, exp: T + 120 }, { alg: 'RS256' }, rsa.privateKey), source: () => ({ type: 'jwk', jwk: rsa.jwk }), want: 'not_yet_valid', claim: 'nbf' },
  { name: 'wrong audience', make: () => signJwt(claims(), { alg: 'RS256' }, rsa.privateKey), source: () => ({ type: 'jwk', jwk: rsa.jwk }), opts: { audience: 'https://other/token' }, want: 'claim_invalid', claim: 'aud' },
  { name: 'wrong issuer', make: () => signJwt(claims(), { alg: 'RS256' }, rsa.privateKey), source: () => ({ type: 'jwk', jwk: rsa.jwk }), opts: { issuer: 'c2' }, want: 'claim_invalid', claim: 'iss' },
  { name: 'required claim missing', make: () => signJwt({ iss: 'c1', exp: T + 60 }, { alg: 'RS256' }, rsa.privateKey), source: () => ({ type: 'jwk', jwk: rsa.jwk }), opts: { requiredClaims: ['jti'] }, want: 'claim_invalid', claim: 'jti' },
  { name: 'private key PEM given to verify', make: () => signJwt(claims(), { alg: 'RS256' }, rsa.privateKey), source: () => ({ type: 'pem', pem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' }), want: 'key_unusable' },
  { name: 'not a JWT', make: async () => 'abc.def', source: () => ({ type: 'jwk', jwk: rsa.jwk }), want: 'malformed' },
  { name: 'alg none', make: async () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`, source: () => ({ type: 'jwk', jwk: rsa.jwk }), want: 'malformed' },
];

for (const c of cases) {
  test(`verifyJwt: ${c.name} → ${c.want === true ? 'ok' : c.want}`, async () => {
    const result = await verifyJwt(await c.make(), c.source(), { now: NOW, ...c.opts });
    if (c.want === true) {
      assert.ok(result.ok, result.ok ? '' : `${result.code}: ${result.message}`);
    } else {
      assert.equal(result.ok, false);
      if (!result.ok) {
        assert.equal(result.code, c.want, result.message);
        if (c.claim) assert.equal(result.claim, c.claim);
      }
    }
  });
}

test('decodeJwt: parts, problems and times', async () => {
  const token = await signJwt(claims(), { alg: 'RS256', kid: 'rsa-1' }, rsa.privateKey);
  const d = decodeJwt(token);
  assert.ok(d.ok);
  if (d.ok) {
    assert.equal(d.jwt.header.kid, 'rsa-1');
    assert.equal(d.jwt.claims.iss, 'c1');
    assert.equal(d.jwt.signingInput, token.split('.').slice(0, 2).join('.'));
    assert.deepEqual(describeTimes(d.jwt.claims), { iat: '2026-06-01T12:00:00.000Z', exp: '2026-06-01T12:01:00.000Z' });
  }
  const bad: [string, string][] = [
    ['a.b', 'not_a_jwt'],
    ['a.b.c.d.e', 'encrypted'],
    ['!!.e30.sig', 'header_invalid'],
    [`${Buffer.from('[1]').toString('base64url')}.e30.sig`, 'header_invalid'],
    ['e30.bm90IGpzb24.sig', 'claims_invalid'],
    ['e30.e30.', 'signature_missing'],
  ];
  for (const [text, code] of bad) {
    const r = decodeJwt(text);
    assert.equal(r.ok ? 'ok' : r.code, code, text);
  }
});

test('templates: seed, jwt-bearer and client assertion claims from a frozen clock', () => {
  assert.deepEqual(templateClaims('seed', { now: NOW, clientId: 'acme', subject: 'user-7' }), { iss: 'acme', sub: 'user-7', iat: T, exp: T + 60 });
  assert.deepEqual(templateClaims('jwt-bearer', { now: NOW, clientId: 'acme', subject: 'user-7', audience: 'https://as/token', jti: 'j1' }),
    { iss: 'acme', sub: 'user-7', aud: 'https://as/token', iat: T, exp: T + 120, jti: 'j1' });
  assert.deepEqual(templateClaims('client-assertion', { now: NOW + 999, clientId: 'acme', audience: 'https://as/token', jti: 'j2', lifetimeSec: 30 }),
    { iss: 'acme', sub: 'acme', aud: 'https://as/token', iat: T, exp: T + 30, jti: 'j2' });
  assert.deepEqual(templateClaims('seed', { now: NOW, clientId: 'acme', subject: 'u', claims: { exp: T - 5, scope: 'a' } }), { iss: 'acme', sub: 'u', iat: T, exp: T - 5, scope: 'a' });
  assert.throws(() => templateClaims('client-assertion', { now: NOW, clientId: 'acme', jti: 'j' }), (e: unknown) => e instanceof TemplateError && /audience/.test(e.message));
  assert.throws(() => templateClaims('seed', { now: NOW, subject: 'u' }), TemplateError);
});

test('publicJwkOf drops private members and sets a thumbprint kid', async () => {
  const jwk = await publicJwkOf(rsa.privateKey);
  assert.equal(jwk.kty, 'RSA');
  assert.equal(jwk.d, undefined);
  assert.match(jwk.kid!, /^[A-Za-z0-9_-]{43}$/);
});
