// Names must print exactly as OpenSSL prints them (same code path as s_client's CA list):
// `openssl x509 -subject` is the oracle, over subjects chosen to hit every printing rule.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { certificateNames } from './certificate-names.ts';
import { parseDistinguishedName } from './distinguished-name.ts';
import { TlsTapError } from './errors.ts';

const run = promisify(execFile);

const SUBJECTS: { subject: string; stringMask?: 'utf8only' | 'pkix' | 'default' }[] = [
  { subject: '/C=US/O=Harness Test/CN=Tap Client Root' },
  { subject: '/O=Tap, Second "CA"+OU=Multi/L=#Hash Town/CN=Zweite Stelle é \\\\ x/emailAddress=ca@example.test' },
  { subject: '/CN= lead and trail /O=a\\+b;c<d>e/OU=x=y/L=mid # hash' },
  {
    subject:
      '/DC=com/DC=example/UID=jdoe/CN=John Doe/serialNumber=1234/street=1 Main St/title=Boss/GN=John/SN=Doe/initials=JD' +
      '/pseudonym=jd/postalCode=12345/ST=CA/L=SF/description=desc/organizationIdentifier=VATDE-123' +
      '/businessCategory=Private Organization/jurisdictionC=DE/jurisdictionST=Bavaria/jurisdictionL=Munich/name=nm' +
      '/dnQualifier=q/generationQualifier=III/role=r/unstructuredName=un/1.2.3.4=unknown oid',
  },
  // UTF8String (bytes escaped as they are), BMPString and T61String (converted to UTF-8 first).
  { subject: '/CN=é ü/O=plain/OU=😀', stringMask: 'utf8only' },
  { subject: '/CN=é ü/O=plain/OU=😀', stringMask: 'pkix' },
  { subject: '/CN=é ü/O=plain/OU=😀', stringMask: 'default' },
];

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tls-tap-dn-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('renders names exactly as `openssl x509 -subject` prints them', async () => {
  await Promise.all(
    SUBJECTS.map(async ({ subject, stringMask = 'utf8only' }, i) => {
      const config = join(dir, `${i}.cnf`);
      const certPath = join(dir, `${i}.pem`);
      await writeFile(config, `[req]\ndistinguished_name = dn\nstring_mask = ${stringMask}\n[dn]\n`);
      await run('openssl', ['req', '-config', config, '-x509', '-utf8', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, `${i}.key`), '-out', certPath, '-subj', subject, '-days', '1']);
      const { stdout } = await run('openssl', ['x509', '-in', certPath, '-noout', '-subject']);
      const der = new Uint8Array(new X509Certificate(await readFile(certPath)).raw);
      const names = certificateNames(der);
      assert.equal(`subject=${names.subject.openssl}`, stdout.trim(), `${subject} (${stringMask})`);
      assert.equal(names.issuer.openssl, names.subject.openssl, 'self-signed: issuer = subject');
    }),
  );
});

test('normalised form is RFC 4514 order (most specific first) without the spaces around =', () => {
  // SEQUENCE { SET { SEQUENCE { OID 2.5.4.6, PrintableString "US" } }, SET { SEQUENCE { OID 2.5.4.3, UTF8String "a = b" } } }
  const der = Uint8Array.from([
    0x30, 0x1e, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 0x55, 0x53,
    0x31, 0x0f, 0x30, 0x0d, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x06, 0x61, 0x20, 0x3d, 0x20, 0x62, 0x21,
  ]);
  const name = parseDistinguishedName(der);
  assert.equal(name.openssl, 'C = US, CN = a = b!');
  assert.equal(name.normalised, 'CN=a = b!, C=US');
  assert.deepEqual(name.rdns.map((rdn) => rdn.map((a) => a.oid)), [['2.5.4.6'], ['2.5.4.3']]);
});

test('a value that is not a string is dumped as #hex of its DER, as OpenSSL does', () => {
  // CN holding an INTEGER 5.
  const der = Uint8Array.from([0x30, 0x0c, 0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x02, 0x01, 0x05]);
  assert.equal(parseDistinguishedName(der).openssl, 'CN = #020105');
});

test('rejects what is not a Name with a coded error', () => {
  for (const bytes of [[], [0x31, 0x00], [0x30, 0x05, 0x31], [0x30, 0x02, 0x30, 0x00], [0x30, 0x04, 0x31, 0x02, 0x30, 0x00]]) {
    assert.throws(() => parseDistinguishedName(Uint8Array.from(bytes)), (e: unknown) => e instanceof TlsTapError && e.code === 'malformed', JSON.stringify(bytes));
  }
});
