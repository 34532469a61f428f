// The lab's lesson targets against a real TLS client: each location accepts the certificate its
// lesson solves with and refuses every wrong one with the evidence a real server gives (nginx's
// 400 page with the verification error, a 403 for a location rule).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLab, type RunningLab } from './lab.ts';
import { createCsr, exportPkcs8Pem, generateKeyPair, x509 } from '../../shared/pki/issue.ts';
import type { LabSignProfile } from '../../shared/protocol/index.ts';

let lab: RunningLab;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lab-targets-'));
  lab = await startLab({ dataDir: dir, port: 0 });
});
after(async () => {
  await lab.close();
  await rm(dir, { recursive: true, force: true });
});

interface Client { certPem: string; keyPem: string; serial: string }

async function client(cn: string, profile: LabSignProfile): Promise<Client> {
  const keys = await generateKeyPair('P-256', true);
  const signed = await lab.signCsr(await createCsr(keys, `CN=${cn}, O=Partner`), profile);
  // What the browser sends: the leaf and the chain it was given (intermediates, and a root that does no harm).
  return { certPem: signed.certificatePem + signed.chainPem, keyPem: await exportPkcs8Pem(keys.privateKey), serial: new x509.X509Certificate(signed.certificatePem).serialNumber };
}

function urlOf(id: string): string {
  const t = lab.info.targets.find((x) => x.id === id);
  assert.ok(t, `target ${id} is listed in info.targets`);
  return t.url;
}

function get(id: string, c: Client | null, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = https.request(urlOf(id), { method, ca: lab.serverCaPem, agent: false, ...(c ? { cert: c.certPem, key: c.keyPem } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '<cXML/>' : undefined);
  });
}

type Want = { status: 200 } | { status: 400 | 403; header: string; says: RegExp; page: RegExp };
const CASES: { target: string; cn: string; profile: LabSignProfile | null; want: Want }[] = [
  { target: 'mtls', cn: 'acme-client', profile: 'client', want: { status: 200 } },
  { target: 'mtls', cn: 'acme-client', profile: 'intermediate', want: { status: 200 } },
  { target: 'mtls', cn: 'acme-client', profile: 'expired', want: { status: 400, header: 'x-lab-verify-error', says: /^CERT_HAS_EXPIRED$/, page: /400 The SSL certificate error/ } },
  { target: 'mtls', cn: 'acme-client', profile: 'regional', want: { status: 403, header: 'x-lab-refused', says: /Regional CA EMEA/, page: /403 Forbidden/ } },
  { target: 'intermediate', cn: 'acme-client', profile: 'intermediate', want: { status: 200 } },
  { target: 'intermediate', cn: 'acme-client', profile: 'intermediate-no-chain', want: { status: 400, header: 'x-lab-verify-error', says: /^UNABLE_TO_VERIFY_LEAF_SIGNATURE$/, page: /400 The SSL certificate error/ } },
  { target: 'intermediate', cn: 'acme-client', profile: 'client', want: { status: 403, header: 'x-lab-refused', says: /accepts certificates issued by CN=Harness Lab Intermediate CA/, page: /403 Forbidden/ } },
  { target: 'intermediate', cn: 'acme-client', profile: null, want: { status: 400, header: 'x-lab-verify-error', says: /^$|.*/, page: /No required SSL certificate was sent/ } },
  { target: 'coupa', cn: 'acme-coupa-supplier', profile: 'client', want: { status: 200 } },
  { target: 'coupa', cn: 'lab-client', profile: 'client', want: { status: 403, header: 'x-lab-refused', says: /== 'acme-coupa-supplier' failed: the certificate's CN is 'lab-client'/, page: /You don't have permission to access this resource/ } },
  { target: 'coupa', cn: 'acme-coupa-supplier', profile: 'regional', want: { status: 403, header: 'x-lab-refused', says: /issued by CN=Harness Lab Regional CA/, page: /403 Forbidden/ } },
  { target: 'rotation', cn: 'acme-genesys', profile: 'regional', want: { status: 200 } },
  { target: 'rotation', cn: 'acme-genesys', profile: 'revoked', want: { status: 400, header: 'x-lab-verify-error', says: /^CERT_REVOKED$/, page: /400 The SSL certificate error/ } },
  { target: 'rotation', cn: 'acme-genesys', profile: 'client', want: { status: 400, header: 'x-lab-verify-error', says: /^UNABLE_TO_GET_ISSUER_CERT_LOCALLY$/, page: /400 The SSL certificate error/ } },
  { target: 'rotation', cn: 'acme-genesys', profile: 'expired', want: { status: 400, header: 'x-lab-verify-error', says: /^CERT_HAS_EXPIRED$/, page: /400 The SSL certificate error/ } },
];

for (const c of CASES) {
  test(`${c.target} with ${c.profile ?? 'no'} certificate (CN=${c.cn}) → ${c.want.status}`, async () => {
    const res = await get(c.target, c.profile ? await client(c.cn, c.profile) : null, c.target === 'coupa' ? 'POST' : 'GET');
    assert.equal(res.status, c.want.status, res.body.toString());
    if (c.want.status === 200) {
      const body = JSON.parse(res.body.toString()) as { ok: boolean; target: string; clientCertificate: { subject: string } };
      assert.equal(body.ok, true);
      assert.equal(body.target, c.target);
      assert.match(body.clientCertificate.subject, new RegExp(`CN=${c.cn}`));
    } else {
      if (c.profile) assert.match(String(res.headers[c.want.header]), c.want.says);
      assert.match(res.body.toString(), c.want.page);
    }
  });
}

test('the regional CRL is served without a client certificate, signed by the regional CA, and lists a revoked certificate', async () => {
  const revoked = await client('old-genesys', 'revoked');
  const good = await client('new-genesys', 'regional');
  const res = await get('rotation-crl', null);
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'application/pkix-crl');
  const crl = new x509.X509Crl(new Uint8Array(res.body));
  assert.match(crl.issuer, /CN=Harness Lab Regional CA EMEA/);
  assert.ok(crl.entries.some((e) => e.serialNumber === revoked.serial), 'the revoked serial is listed');
  assert.ok(!crl.entries.some((e) => e.serialNumber === good.serial), 'a good one is not');
  assert.ok(crl.nextUpdate && crl.nextUpdate.getTime() > Date.now());
});

test('the lab directory holds public copies of the intermediate and the regional CA', async () => {
  const { readFile } = await import('node:fs/promises');
  assert.match(new x509.X509Certificate(await readFile(join(dir, 'intermediate-ca.pem'), 'utf8')).subject, /Harness Lab Intermediate CA/);
  assert.match(new x509.X509Certificate(await readFile(join(dir, 'regional-ca.pem'), 'utf8')).subject, /Harness Lab Regional CA EMEA/);
});

test('a lab restart keeps the targets\' CAs, so certificates it issued stay good', async () => {
  const before = await client('keep-me', 'intermediate');
  await lab.close();
  lab = await startLab({ dataDir: dir, port: 0 });
  const res = await get('intermediate', before);
  assert.equal(res.status, 200);
});
