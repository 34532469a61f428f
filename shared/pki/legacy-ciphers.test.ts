import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { bmpPassword, desDecryptBlock, PKCS12_KDF_ID, pkcs12Kdf, rc2CbcDecrypt, rc2DecryptBlockWithKey, tripleDesCbcDecrypt, unpad } from './legacy-ciphers.ts';
import { fromHex, toHex } from './encoding.ts';
import { OPENSSL } from './fixtures.test.ts';

const knownAnswers: { name: string; run: () => Uint8Array; want: string }[] = [
  { name: 'DES (FIPS 46 worked example)', run: () => desDecryptBlock(fromHex('133457799bbcdff1'), fromHex('85e813540f0ab405')), want: '0123456789abcdef' },
  { name: 'RC2, RFC 2268 vector 1 (63-bit effective key)', run: () => rc2DecryptBlockWithKey(fromHex('0000000000000000'), 63, fromHex('ebb773f993278eff')), want: '0000000000000000' },
  { name: 'RC2, RFC 2268 vector 2', run: () => rc2DecryptBlockWithKey(fromHex('ffffffffffffffff'), 64, fromHex('278b27e42e2f0d49')), want: 'ffffffffffffffff' },
  { name: 'RC2, RFC 2268 vector 3', run: () => rc2DecryptBlockWithKey(fromHex('3000000000000000'), 64, fromHex('30649edf9be7d2c2')), want: '1000000000000001' },
  { name: 'RC2, RFC 2268 vector 7 (128-bit key)', run: () => rc2DecryptBlockWithKey(fromHex('88bca90e90875a7f0f79c384627bafb2'), 128, fromHex('2269552ab0f85ca6')), want: '0000000000000000' },
];

for (const k of knownAnswers) {
  test(`known answer: ${k.name}`, () => assert.equal(toHex(k.run()), k.want));
}

function opensslEncrypt(args: string[], key: string, iv: string, plain: Uint8Array): Uint8Array {
  return new Uint8Array(execFileSync(OPENSSL, ['enc', ...args, '-K', key, '-iv', iv], { input: plain }));
}

const plain = new TextEncoder().encode('a partner certificate bundle, 44 bytes long.');
const cbcCases = [
  { name: 'DES-EDE3-CBC', args: ['-des-ede3-cbc'], key: '000102030405060708090a0b0c0d0e0f1011121314151617', decrypt: (k: Uint8Array, iv: Uint8Array, d: Uint8Array) => tripleDesCbcDecrypt(k, iv, d) },
  { name: 'DES-EDE-CBC (two-key)', args: ['-des-ede-cbc', '-provider', 'legacy', '-provider', 'default'], key: 'f0e1d2c3b4a5968778695a4b3c2d1e0f', decrypt: (k: Uint8Array, iv: Uint8Array, d: Uint8Array) => tripleDesCbcDecrypt(k, iv, d) },
  { name: 'RC2-40-CBC', args: ['-rc2-40-cbc', '-provider', 'legacy', '-provider', 'default'], key: '0102030405', decrypt: (k: Uint8Array, iv: Uint8Array, d: Uint8Array) => rc2CbcDecrypt(k, 40, iv, d) },
  { name: 'RC2-CBC (128-bit)', args: ['-rc2-cbc', '-provider', 'legacy', '-provider', 'default'], key: '00112233445566778899aabbccddeeff', decrypt: (k: Uint8Array, iv: Uint8Array, d: Uint8Array) => rc2CbcDecrypt(k, 128, iv, d) },
];

for (const c of cbcCases) {
  test(`${c.name} decrypts what openssl enc encrypted`, () => {
    const iv = '0706050403020100';
    const encrypted = opensslEncrypt(c.args, c.key, iv, plain);
    const decrypted = unpad(c.decrypt(fromHex(c.key), fromHex(iv), encrypted), 8);
    assert.deepEqual(decrypted, plain);
    // A wrong key yields garbage that (almost always) fails the padding check.
    const wrongKey = fromHex(c.key);
    wrongKey[0]! ^= 0x01;
    wrongKey[wrongKey.length - 1]! ^= 0x80;
    assert.notDeepEqual(unpad(c.decrypt(wrongKey, fromHex(iv), encrypted), 8), plain);
  });
}

test('PKCS#12 KDF: BMPString password and the RFC 7292 appendix B construction', () => {
  assert.equal(toHex(bmpPassword('pw')), '007000770000');
  // Independent construction for the single-block case: A = SHA1^c(D || S* || P*).
  const salt = fromHex('0102030405060708');
  const password = bmpPassword('secret');
  const fill = (src: Uint8Array): number[] => Array.from({ length: 64 }, (_, i) => src[i % src.length]!);
  let a = createHash('sha1').update(Uint8Array.from([...new Array(64).fill(PKCS12_KDF_ID.iv), ...fill(salt), ...fill(password)])).digest();
  for (let i = 1; i < 3; i++) a = createHash('sha1').update(a).digest();
  assert.equal(toHex(pkcs12Kdf(password, salt, 3, PKCS12_KDF_ID.iv, 8)), a.subarray(0, 8).toString('hex'));
  assert.equal(pkcs12Kdf(password, salt, 3, PKCS12_KDF_ID.key, 24).length, 24);
});
