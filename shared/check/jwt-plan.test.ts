// The JWT check's assertions as the browser makes them (WebCrypto keys, not extractable) and as
// the relay takes them back (plansFromAssertions): one per case, each differing from the valid
// one in its one property, the HS256 case keyed with the PEM a server derives from the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPublicKey } from 'node:crypto';
import { decodeProtectedHeader, decodeJwt, exportSPKI, generateKeyPair, jwtVerify } from 'jose';
import { jwtCasesFor, JWT_CHECK_KINDS } from './jwt-cases.ts';
import { planJwtCases, plansFromAssertions, signedCaseIds, spkiPem, type CaseSigningKey } from './jwt-plan.ts';
import { CheckInputError } from './request.ts';

const INPUT = { kind: 'private_key_jwt', tokenUrl: 'https://as.example/token', clientId: 'acme', kid: 'k1' } as const;

async function browserKey(alg: 'ES256' | 'RS256' | 'EdDSA') {
  const pair = await generateKeyPair(alg, { extractable: false, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  const signing: CaseSigningKey = { key: pair.privateKey, alg, publicPem: spkiPem(new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey))) };
  return { pair, signing };
}

for (const alg of ['ES256', 'RS256', 'EdDSA'] as const) {
  test(`planned with a non-extractable ${alg} key: every case, the valid one verifies, the HS256 secret is the server's PEM`, async () => {
    const { pair, signing } = await browserKey(alg);
    // What a server derives from the registered key (Node's PEM layout), byte for byte.
    assert.equal(signing.publicPem, createPublicKey(await exportSPKI(pair.publicKey)).export({ type: 'spki', format: 'pem' }).toString());
    const plans = await planJwtCases(INPUT, signing);
    assert.deepEqual(plans.map((p) => p.id), jwtCasesFor('private_key_jwt'));
    const byId = Object.fromEntries(plans.map((p) => [p.id, p]));
    const { payload } = await jwtVerify(byId.valid!.token, pair.publicKey, { audience: INPUT.tokenUrl, issuer: 'acme', subject: 'acme' });
    assert.equal(decodeProtectedHeader(byId.valid!.token).kid, 'k1');
    assert.equal(byId.replayed_jti!.token, byId.valid!.token);
    assert.notEqual(decodeJwt(byId.expired!.token).jti, payload.jti);
    assert.equal(byId.alg_none!.token.split('.')[2], '');
    const [h, c, sig] = byId.hs256_public_key!.token.split('.') as [string, string, string];
    assert.equal(sig, createHmac('sha256', signing.publicPem).update(`${h}.${c}`).digest('base64url'));
    assert.equal(decodeJwt(byId.wrong_aud!.token).aud, 'https://wrong-audience.harness-check.invalid/token');
    assert.equal(decodeJwt(byId.missing_exp!.token).exp, undefined);
    await assert.rejects(jwtVerify(byId.bad_signature!.token, pair.publicKey));
  });
}

const signed = async () => {
  const plans = await planJwtCases(INPUT, (await browserKey('ES256')).signing);
  const ids: string[] = signedCaseIds('private_key_jwt');
  return Object.fromEntries(plans.filter((p) => ids.includes(p.id)).map((p) => [p.id, p.token]));
};

test('plansFromAssertions: the signed assertions back as the plan, the replay re-sending the valid one', async () => {
  const assertions = await signed();
  for (const kind of JWT_CHECK_KINDS) assert.ok(!signedCaseIds(kind).includes('replayed_jti'));
  const plans = plansFromAssertions('private_key_jwt', assertions);
  assert.deepEqual(plans.map((p) => p.id), jwtCasesFor('private_key_jwt'));
  assert.equal(plans.find((p) => p.id === 'replayed_jti')!.token, assertions.valid);
  assert.equal(plans.find((p) => p.id === 'alg_none')!.header.alg, 'none');
});

const refusals: [name: string, change: (a: Record<string, unknown>) => unknown, field: string, message: RegExp][] = [
  ['not an object', () => 'x', 'assertions', /must be an object/],
  ['a case missing', (a) => ({ ...a, expired: undefined }), 'assertions.expired', /missing/],
  ['a case of another kind', (a) => ({ ...a, bogus: 'x' }), 'assertions.bogus', /is not a case of the private_key_jwt check/],
  ['the replay sent too', (a) => ({ ...a, replayed_jti: a.valid }), 'assertions.replayed_jti', /re-sends valid's/],
  ['not a compact JWT', (a) => ({ ...a, valid: 'abc' }), 'assertions.valid', /not a compact JWT/],
  ['a header that is not JSON', (a) => ({ ...a, valid: 'bm9wZQ.e30.c2ln' }), 'assertions.valid', /not a compact JWT/],
];

for (const [name, change, field, message] of refusals) {
  test(`plansFromAssertions refuses ${name}, naming ${field}`, async () => {
    const assertions = await signed();
    assert.throws(() => plansFromAssertions('private_key_jwt', change(assertions)), (err: unknown) => err instanceof CheckInputError && err.field === field && message.test(err.message) && !err.message.includes(String(assertions.valid).split('.')[2]!));
  });
}
