// JWK export against jose (a maintained JOSE implementation) as the oracle: the same key members,
// the same RFC 7638 thumbprint, a JWK that imports back to the certificate's public key and
// verifies a signature made with the private key; x5t#S256 against openssl's fingerprint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as jose from 'jose';
import { parseCertificate } from './certificate.ts';
import { issuedPki, openssl, tempDir } from './fixtures.test.ts';
import type { KeyAlgorithmName } from './issue.ts';
import { jwks, jwkThumbprint, publicJwkOfSpki } from './jwk.ts';

function der(pem: string): Uint8Array {
  return new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'));
}

const pki = await issuedPki();

const CASES: { algorithm: KeyAlgorithmName; alg: string; kty: string }[] = [
  { algorithm: 'RSA-2048', alg: 'RS256', kty: 'RSA' },
  { algorithm: 'P-256', alg: 'ES256', kty: 'EC' },
  { algorithm: 'P-384', alg: 'ES384', kty: 'EC' },
  { algorithm: 'Ed25519', alg: 'EdDSA', kty: 'OKP' },
];

for (const c of CASES) {
  test(`${c.algorithm}: the JWK is the certificate's key, as jose sees it`, async () => {
    const leaf = await pki.issueWith('intermediate', { subject: `CN=jwk-${c.algorithm}` }, c.algorithm);
    const certificate = der(leaf.pem);
    const jwk = await publicJwkOfSpki(parseCertificate(certificate).spki, { certificates: [certificate, der(pki.intermediate.pem)] });

    const oracle = await jose.exportJWK(await jose.importX509(leaf.pem.trim(), c.alg, { extractable: true }));
    for (const member of ['kty', 'n', 'e', 'crv', 'x', 'y'] as const) assert.equal(jwk[member], oracle[member], member);
    assert.equal(jwk.kty, c.kty);
    assert.equal(jwk.alg, c.alg);
    assert.equal(jwk.use, 'sig');
    assert.equal(jwk.kid, await jose.calculateJwkThumbprint(oracle, 'sha256'));
    assert.equal('d' in jwk, false, 'no private member');

    // A JWS signed with the private key verifies with the exported JWK.
    const privateKey = await jose.importPKCS8(leaf.keyPem, c.alg);
    const jws = await new jose.CompactSign(new TextEncoder().encode('hello')).setProtectedHeader({ alg: c.alg, kid: jwk.kid }).sign(privateKey);
    const verified = await jose.compactVerify(jws, await jose.importJWK(jwk, c.alg));
    assert.equal(new TextDecoder().decode(verified.payload), 'hello');

    // x5c is standard base64 DER, x5t#S256 the base64url of openssl's SHA-256 fingerprint.
    assert.deepEqual(jwk.x5c, [Buffer.from(certificate).toString('base64'), Buffer.from(der(pki.intermediate.pem)).toString('base64')]);
    const dir = tempDir();
    writeFileSync(join(dir, 'leaf.pem'), leaf.pem);
    const hex = openssl(dir, ['x509', '-in', 'leaf.pem', '-noout', '-fingerprint', '-sha256']).trim().split('=')[1]!.replace(/:/g, '');
    assert.equal(jwk['x5t#S256'], Buffer.from(hex, 'hex').toString('base64url'));
  });
}

test('without a certificate there is no x5c; the JWKS wraps the keys', async () => {
  const jwk = await publicJwkOfSpki(parseCertificate(der(pki.root.pem)).spki);
  assert.equal(jwk.x5c, undefined);
  assert.equal(jwk['x5t#S256'], undefined);
  assert.deepEqual(jwks([jwk]), { keys: [jwk] });
});

test('the RFC 7638 example thumbprint', async () => {
  // RFC 7638 section 3.1.
  const jwk = {
    kty: 'RSA',
    n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
    e: 'AQAB',
    alg: 'RS256',
    kid: '2011-04-29',
  };
  assert.equal(await jwkThumbprint(jwk), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  await assert.rejects(jwkThumbprint({ kty: 'oct' }), TypeError);
});
