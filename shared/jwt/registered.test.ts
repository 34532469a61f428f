import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair, type CryptoKey } from 'jose';
import { checkRegisteredKey, type RegisteredVerdict } from './registered.ts';
import { publicJwkOf, signJwt } from './sign.ts';
import type { PublicJwk } from './keys.ts';

let a: { privateKey: CryptoKey; jwk: PublicJwk; thumbprint: string };
let b: { privateKey: CryptoKey; jwk: PublicJwk };

before(async () => {
  const pa = await generateKeyPair('ES256', { extractable: true });
  const pb = await generateKeyPair('ES256', { extractable: true });
  a = { privateKey: pa.privateKey, jwk: await publicJwkOf(pa.publicKey, 'key-a'), thumbprint: (await publicJwkOf(pa.publicKey)).kid! };
  b = { privateKey: pb.privateKey, jwk: await publicJwkOf(pb.publicKey, 'key-b') };
});

const sign = (key: CryptoKey, kid?: string) => signJwt({ iss: 'c', sub: 'c', exp: Math.floor(Date.now() / 1000) + 60 }, { alg: 'ES256', ...(kid !== undefined ? { kid } : {}) }, key);

const cases: { name: string; token: () => Promise<string>; keys: () => PublicJwk[]; want: RegisteredVerdict; message?: RegExp }[] = [
  { name: 'kid registered, its key signed', token: () => sign(a.privateKey, 'key-a'), keys: () => [a.jwk, b.jwk], want: 'verified' },
  { name: 'no kid, the one registered key signed', token: () => sign(a.privateKey), keys: () => [a.jwk], want: 'verified' },
  { name: 'no kid, one of several registered keys signed', token: () => sign(a.privateKey), keys: () => [b.jwk, a.jwk], want: 'other_kid', message: /no kid and 2 keys are registered/ },
  { name: 'kid unknown, no registered key signed', token: () => sign(b.privateKey, 'mine'), keys: () => [a.jwk], want: 'kid_unknown', message: /"mine" is not among the registered keys \("key-a"\)/ },
  { name: 'thumbprint kid, the key registered under its own kid', token: () => sign(a.privateKey, a.thumbprint), keys: () => [a.jwk], want: 'other_kid', message: /verifies with the registered key "key-a" \(the header's kid is that key's RFC 7638 thumbprint/ },
  { name: 'registered kid, another key signed', token: () => sign(b.privateKey, 'key-a'), keys: () => [a.jwk], want: 'signature_mismatch', message: /signed with another private key/ },
  { name: 'registered kid, the other registered key signed', token: () => sign(b.privateKey, 'key-a'), keys: () => [a.jwk, b.jwk], want: 'signature_mismatch', message: /verifies with the registered key "key-b"/ },
];

for (const c of cases) {
  test(`checkRegisteredKey: ${c.name} → ${c.want}`, async () => {
    const r = await checkRegisteredKey(await c.token(), { keys: c.keys() });
    assert.equal(r?.verdict, c.want, r?.message);
    if (c.message) assert.match(r!.message, c.message);
  });
}

test('checkRegisteredKey: nothing to say for an unreadable token or an empty key set', async () => {
  assert.equal(await checkRegisteredKey('not-a-jwt', { keys: [a.jwk] }), null);
  assert.equal(await checkRegisteredKey(await sign(a.privateKey, 'key-a'), { keys: [] }), null);
});
