import { test } from 'node:test';
import assert from 'node:assert/strict';
import { opensslPki, openssl, type OpensslPki } from './fixtures.test.ts';
import { pkcs8Pem } from './keys.ts';
import { readInput, type ReadOptions } from './read.ts';

const pki: OpensslPki = opensslPki();
const pem = (name: string): string => pki.read(name);
const base64Body = (text: string): string => text.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
/** 1-based lines of the BEGIN markers, counted independently of pem.ts. */
const begins = (text: string): number[] => text.split(/\r?\n/).flatMap((l, i) => (l.startsWith('-----BEGIN') ? [i + 1] : []));

type Want =
  | { format: string; certificates: string[]; keys?: [where: string, format: string, text: string][]; others?: string[]; warnings?: string[] }
  | { code: string; where?: string; message?: RegExp };

interface Case {
  name: string;
  input: () => string | Uint8Array;
  options?: ReadOptions;
  want: Want | ((input: string) => Want);
}

const cases: Case[] = [
  { name: 'PEM certificate', input: () => pem('client.pem'), options: { name: 'client.pem' }, want: { format: 'pem', certificates: ['client.pem, block 1 (line 1)'] } },
  {
    name: 'PEM with CRLF line ends',
    input: () => pem('chain.pem').replace(/\n/g, '\r\n'),
    options: { name: 'chain.pem' },
    want: (text) => ({ format: 'pem', certificates: begins(text).map((line, i) => `chain.pem, block ${i + 1} (line ${line})`) }),
  },
  {
    name: 'blank lines between blocks',
    input: () => pem('client.pem') + '\n\n\n' + pem('int.pem'),
    want: (text) => ({ format: 'pem', certificates: begins(text).map((line, i) => `block ${i + 1} (line ${line})`) }),
  },
  {
    name: 'text around the blocks (openssl x509 -text output)',
    input: () => openssl(pki.dir, ['x509', '-in', 'client.pem', '-text']) + 'end of paste\n',
    want: (text) => ({ format: 'pem', certificates: [`block 1 (line ${begins(text)[0]})`] }),
  },
  {
    name: 'openssl pkcs12 -nodes output: Bag Attributes around key and chain',
    input: () => openssl(pki.dir, ['pkcs12', '-in', 'client.p12', '-nodes', '-passin', 'pass:p12 secret']),
    want: (text) => {
      const [leaf, int, key] = begins(text);
      assert.match(text.split('\n')[key! - 1]!, /BEGIN PRIVATE KEY/);
      return { format: 'pem', certificates: [`block 1 (line ${leaf})`, `block 2 (line ${int})`], keys: [[`block 3 (line ${key})`, 'pkcs8', 'EC P-256']] };
    },
  },
  {
    name: 'mismatched BEGIN/END',
    input: () => pem('client.pem').replace('END CERTIFICATE', 'END PRIVATE KEY'),
    options: { name: 'client.pem' },
    want: (text) => ({ code: 'pem_mismatched_markers', where: 'client.pem, block 1 (line 1)', message: new RegExp(`BEGIN CERTIFICATE on line 1 ends with END PRIVATE KEY on line ${text.trimEnd().split('\n').length}$`) }),
  },
  { name: 'truncated DER file', input: () => pki.readBytes('client.der').subarray(0, 500), options: { name: 'client.der' }, want: { code: 'der_truncated', where: 'client.der', message: /missing/ } },
  {
    name: 'truncated DER inside a PEM block',
    input: () => {
      const body = base64Body(pem('client.pem'));
      return `-----BEGIN CERTIFICATE-----\n${body.slice(0, 400)}\n-----END CERTIFICATE-----\n`;
    },
    want: { code: 'der_truncated', where: 'block 1 (line 1)' },
  },
  { name: 'PKCS#12 (OpenSSL 3 default: AES-256-CBC, PBKDF2, HMAC-SHA256)', input: () => pki.readBytes('client.p12'), options: { password: 'p12 secret' }, want: { format: 'pkcs12', certificates: ['certificate 1 ("client")', 'certificate 2'], keys: [['key 1 ("client")', 'pkcs12', 'EC P-256']] } },
  { name: 'PKCS#12 -legacy (RC2-40, 3DES, HMAC-SHA1)', input: () => pki.readBytes('client-legacy.p12'), options: { name: 'old.pfx', password: 'p12 secret' }, want: { format: 'pkcs12', certificates: ['old.pfx, certificate 1 ("client")', 'old.pfx, certificate 2'], keys: [['old.pfx, key 1 ("client")', 'pkcs12', 'EC P-256']] } },
  { name: 'PKCS#12 with the wrong password', input: () => pki.readBytes('client.p12'), options: { name: 'client.p12', password: 'wrong' }, want: { code: 'p12_bad_password', where: 'client.p12' } },
  { name: 'PKCS#12 -legacy with the wrong password', input: () => pki.readBytes('client-legacy.p12'), options: { password: 'wrong' }, want: { code: 'p12_bad_password' } },
  { name: 'PKCS#12 without a password', input: () => pki.readBytes('client.p12'), want: { code: 'p12_password_required' } },
  { name: 'encrypted PKCS#8 without passphrase', input: () => pem('client-enc.key'), options: { name: 'key.pem' }, want: { code: 'key_encrypted', where: 'key.pem, block 1 (line 1)', message: /AES-256-CBC/ } },
  { name: 'encrypted PKCS#8 (PBES2, AES-256) with passphrase', input: () => pem('client-enc.key'), options: { password: 'key secret' }, want: { format: 'pem', certificates: [], keys: [['block 1 (line 1)', 'encrypted-pkcs8', 'EC P-256']] } },
  { name: 'encrypted PKCS#8 (PBE-SHA1-3DES) with passphrase', input: () => pem('server-enc-v1.key'), options: { password: 'key secret' }, want: { format: 'pem', certificates: [], keys: [['block 1 (line 1)', 'encrypted-pkcs8', 'RSA 2048 bits']] } },
  { name: 'encrypted PKCS#8 with the wrong passphrase', input: () => pem('client-enc.key'), options: { password: 'nope' }, want: { code: 'key_bad_passphrase' } },
  { name: 'legacy Proc-Type encrypted PEM key', input: () => pem('server-legacy-enc.key'), options: { password: 'key secret' }, want: { code: 'key_encrypted', message: /AES-128-CBC/ } },
  { name: 'certificate pasted where the key belongs', input: () => pem('client.pem'), options: { name: 'private key', expect: 'key' }, want: { code: 'not_a_key', where: 'private key, block 1 (line 1)' } },
  { name: 'key pasted where the certificate belongs', input: () => pem('client.key'), options: { name: 'certificate', expect: 'certificate' }, want: { code: 'not_a_certificate', where: 'certificate, block 1 (line 1)' } },
  { name: 'encrypted key pasted where the certificate belongs', input: () => pem('client-enc.key'), options: { expect: 'certificate' }, want: { code: 'not_a_certificate' } },
  { name: 'CSR pasted where the certificate belongs', input: () => pem('client.csr'), options: { expect: 'certificate' }, want: { code: 'not_a_certificate', message: /signing request: the CA turns it/ } },
  { name: 'PKCS#1 RSA PRIVATE KEY', input: () => pem('server-rsa.key'), want: { format: 'pem', certificates: [], keys: [['block 1 (line 1)', 'pkcs1', 'RSA 2048 bits']] } },
  { name: 'SEC1 EC PRIVATE KEY', input: () => pem('client-sec1.key'), want: { format: 'pem', certificates: [], keys: [['block 1 (line 1)', 'sec1', 'EC P-256']] } },
  { name: 'Ed25519 PKCS#8 key', input: () => pem('ed.key'), want: { format: 'pem', certificates: [], keys: [['block 1 (line 1)', 'pkcs8', 'Ed25519']] } },
  { name: 'DER certificate', input: () => pki.readBytes('client.der'), options: { name: 'client.cer' }, want: { format: 'der', certificates: ['client.cer'] } },
  { name: 'DER private key (PKCS#8)', input: () => pki.readBytes('client-key.der'), options: { name: 'key.der' }, want: { format: 'der', certificates: [], keys: [['key.der', 'pkcs8', 'EC P-256']] } },
  { name: 'DER private key (SEC1)', input: () => pki.readBytes('client-sec1.der'), want: { format: 'der', certificates: [], keys: [['input', 'sec1', 'EC P-256']] } },
  { name: 'PKCS#7 bundle (PEM)', input: () => pem('chain.p7b'), want: { format: 'pem', certificates: ['block 1 (line 1), PKCS#7 certificate 1', 'block 1 (line 1), PKCS#7 certificate 2'] } },
  { name: 'CSR alone is listed, not inspected', input: () => pem('client.csr'), want: { format: 'pem', certificates: [], others: ['a certificate signing request'] } },
  {
    name: 'JSON with escaped PEMs anywhere',
    input: () =>
      JSON.stringify({
        entities: [
          { name: 'current', certificate: pem('client.pem').replace(/\n/g, '\r\n') },
          { name: 'chain', chain: pem('chain.pem').replace(/\n/g, '\r\n'), meta: { 'ca-bundle': [pem('root.pem')] } },
        ],
      }),
    options: { name: 'api.json' },
    want: {
      format: 'json',
      // Each entry's JSON `name` is kept with where it was found: it says which certificate is which.
      certificates: ['api.json, entities[0].certificate ("current")', 'api.json, entities[1].chain ("chain"), block 1 (line 1)', `api.json, entities[1].chain ("chain"), block 2 (line ${begins(pem('chain.pem'))[1]})`, 'api.json, entities[1].meta["ca-bundle"][0] ("chain")'],
    },
  },
  {
    name: 'JWKS x5c (base64 DER in JSON)',
    input: () => JSON.stringify({ keys: [{ kty: 'EC', x5c: [base64Body(pem('client.pem')), base64Body(pem('int.pem'))] }] }),
    want: { format: 'json', certificates: ['keys[0].x5c[0]', 'keys[0].x5c[1]'] },
  },
  {
    name: 'broken JSON still yields its PEMs, with a warning',
    input: () => `{"certificate": ${JSON.stringify(pem('client.pem'))}, }`,
    want: { format: 'pem', certificates: ['block 1 (line 1)'], warnings: ['json_malformed'] },
  },
  { name: 'bare base64 of a DER certificate', input: () => base64Body(pem('client.pem')), want: { format: 'base64', certificates: ['base64 text'] } },
  { name: 'label says CERTIFICATE, content is a key', input: () => pem('client.key').replace(/PRIVATE KEY/g, 'CERTIFICATE'), want: { code: 'cert_malformed', message: /labelled CERTIFICATE but holds a PKCS#8 private key/ } },
  { name: 'empty input', input: () => '  \n ', want: { code: 'input_unrecognized', message: /empty/ } },
  { name: 'plain text', input: () => 'hello, this is not a certificate', want: { code: 'input_unrecognized' } },
];

for (const c of cases) {
  test(`readInput: ${c.name}`, async () => {
    const input = c.input();
    const result = await readInput(input, c.options);
    const want = typeof c.want === 'function' ? c.want(typeof input === 'string' ? input : '') : c.want;
    if ('code' in want) {
      const found = result.problems.find((p) => p.code === want.code);
      assert.ok(found, `expected ${want.code}, got ${JSON.stringify(result.problems)}`);
      if (want.where !== undefined) assert.equal(found.where, want.where);
      if (want.message) assert.match(found.message, want.message);
      return;
    }
    assert.deepEqual(
      result.problems.map((p) => p.code),
      want.warnings ?? [],
    );
    assert.equal(result.format, want.format);
    assert.deepEqual(
      result.certificates.map((x) => x.where),
      want.certificates,
    );
    assert.deepEqual(
      result.keys.map((k) => [k.where, k.format, k.key.text]),
      want.keys ?? [],
    );
    assert.deepEqual(
      result.others.map((o) => o.description),
      want.others ?? [],
    );
    for (const cert of result.certificates) assert.equal(cert.der[0], 0x30);
  });
}

test('readInput: a key from any form becomes the same PKCS#8', async () => {
  const forms = [pem('client.key'), pem('client-sec1.key'), pki.readBytes('client-key.der'), pki.readBytes('client-sec1.der')];
  const [pkcs8, sec1, der, sec1Der] = await Promise.all(forms.map((f) => readInput(f)));
  const viaEncrypted = await readInput(pem('client-enc.key'), { password: 'key secret' });
  const fromP12 = await readInput(pki.readBytes('client.p12'), { password: 'p12 secret' });
  const reference = pkcs8!.keys[0]!.pkcs8;
  // SEC1 → PKCS#8 wrapping differs from openssl's own encoding only in the optional fields, so compare what WebCrypto sees.
  const { subtle } = globalThis.crypto;
  const d = async (bytes: Uint8Array): Promise<string | undefined> => {
    const key = await subtle.importKey('pkcs8', bytes.slice(), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
    return ((await subtle.exportKey('jwk', key)) as JsonWebKey).d;
  };
  const expected = await d(reference);
  for (const r of [sec1, der, sec1Der, viaEncrypted, fromP12]) assert.equal(await d(r!.keys[0]!.pkcs8), expected);
  // The PKCS#8 PEM handed to Node TLS is one openssl reads as the same key.
  const roundTrip = openssl(pki.dir, ['pkey', '-pubout'], pkcs8Pem(sec1!.keys[0]!.pkcs8));
  assert.equal(roundTrip, openssl(pki.dir, ['pkey', '-in', 'client.key', '-pubout']));
});
