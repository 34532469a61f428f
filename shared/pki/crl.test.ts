// CRLs from createCrl() read by the openssl CLI: the signature verifies against the CA, the
// fields are what was asked for, and `openssl verify -crl_check` refuses exactly the revoked
// certificate. Bad options are TypeErrors naming the option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, selfSign, issue, x509, type Issuer } from './issue.ts';
import { createCrl, crlPem } from './crl.ts';

function openssl(dir: string, args: string[]): { out: string; ok: boolean } {
  try {
    return { out: execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }), ok: true };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { out: `${e.stdout ?? ''}${e.stderr ?? ''}`, ok: false };
  }
}

async function ca(): Promise<Issuer> {
  const keys = await generateKeyPair('P-256', true);
  return { certificate: await selfSign(keys, { subject: 'CN=CRL Test Root, O=Harness Tests', profile: 'root-ca' }), privateKey: keys.privateKey };
}

test('openssl reads the CRL, verifies its signature and refuses only the revoked certificate', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harness-crl-'));
  try {
    const root = await ca();
    const leaf = async (cn: string) => issue((await generateKeyPair('P-256', true)).publicKey, root, { subject: `CN=${cn}`, profile: 'client' });
    const [revoked, good] = await Promise.all([leaf('revoked'), leaf('good')]);
    const thisUpdate = new Date('2026-01-01T00:00:00Z');
    const crl = await createCrl(root, {
      revoked: [{ serialNumber: revoked.serialNumber.toUpperCase(), reason: x509.X509CrlReason.keyCompromise }],
      crlNumber: 300,
      thisUpdate: new Date(Date.now() - 60_000),
    });
    const pem = crlPem(crl);
    assert.match(pem, /^-----BEGIN X509 CRL-----\n[\s\S]+\n-----END X509 CRL-----\n$/);
    writeFileSync(join(dir, 'ca.pem'), root.certificate.toString('pem'));
    writeFileSync(join(dir, 'crl.pem'), pem);
    writeFileSync(join(dir, 'revoked.pem'), revoked.toString('pem'));
    writeFileSync(join(dir, 'good.pem'), good.toString('pem'));

    const text = openssl(dir, ['crl', '-in', 'crl.pem', '-noout', '-text', '-CAfile', 'ca.pem']);
    assert.ok(text.ok, text.out);
    assert.match(text.out, /Version 2/);
    assert.match(text.out, /Issuer: O = Harness Tests, CN = CRL Test Root/);
    assert.match(text.out, /X509v3 CRL Number:\s+300/);
    assert.match(text.out, /X509v3 Authority Key Identifier/);
    assert.match(text.out, new RegExp(`Serial Number: ${revoked.serialNumber.toUpperCase()}`));
    assert.match(text.out, /Key Compromise/);

    const verify = (name: string) => openssl(dir, ['verify', '-crl_check', '-CAfile', 'ca.pem', '-CRLfile', 'crl.pem', name]);
    assert.equal(verify('good.pem').ok, true, verify('good.pem').out);
    const refused = verify('revoked.pem');
    assert.equal(refused.ok, false);
    assert.match(refused.out, /certificate revoked/);

    // Default validity: nextUpdate seven days after thisUpdate.
    const dated = await createCrl(root, { thisUpdate });
    assert.equal(dated.thisUpdate.getTime(), thisUpdate.getTime());
    assert.equal(dated.nextUpdate?.getTime(), thisUpdate.getTime() + 7 * 86_400_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const refused: { name: string; opts: Parameters<typeof createCrl>[1]; want: RegExp }[] = [
  { name: 'serial not hexadecimal', opts: { revoked: [{ serialNumber: '0x12' }] }, want: /^revoked\[0\]\.serialNumber must be hexadecimal$/ },
  { name: 'negative CRL number', opts: { crlNumber: -1 }, want: /^crlNumber must be a non-negative integer$/ },
  { name: 'nextUpdate before thisUpdate', opts: { thisUpdate: new Date(2000), nextUpdate: new Date(1000) }, want: /^nextUpdate must be later than thisUpdate$/ },
];

for (const c of refused) {
  test(`createCrl refuses: ${c.name}`, async () => {
    await assert.rejects(createCrl(await ca(), c.opts), (err: unknown) => err instanceof TypeError && c.want.test(err.message));
  });
}
