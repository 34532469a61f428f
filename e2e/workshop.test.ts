// The certificate workshop in Chromium against real peers: a CA made in the browser, its exports
// opened by the openssl CLI and presented to openssl s_server, the files read back by the
// inspector (fields compared with openssl's), the client certificate used by the probe, and
// IndexedDB persistence including a non-extractable key.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { test, expect, type Locator, type Page } from '@playwright/test';
import { opensslServer } from '../server/testing/peers.ts';
import { openHarness, verdictOf } from './harness.ts';

const P12_PASSWORD = 'e2e p12 sécret';

function openssl(cwd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function openWorkshop(page: Page): Promise<void> {
  await page.getByRole('link', { name: 'Certificate workshop' }).click();
  await expect(page.getByRole('heading', { name: 'Certificate workshop', level: 1 })).toBeVisible();
  await expect(page.getByTestId('storage-summary')).toContainText('Kept in this browser');
}

/** Makes one item with the Make form and returns its detail card. */
async function make(page: Page, kind: string, commonName: string, algorithm = 'P-256'): Promise<Locator> {
  await page.getByRole('button', { name: '+ Make new…' }).click();
  await page.getByRole('radio', { name: kind }).check();
  await page.getByLabel('Key algorithm').selectOption(algorithm);
  await page.getByLabel('Common name (CN)').fill(commonName);
  await page.getByRole('button', { name: /^Make / }).click();
  const card = page.getByRole('article', { name: commonName });
  await expect(card.getByRole('status')).toHaveText('Made just now and kept in this browser.');
  return card;
}

async function download(page: Page, button: Locator, path: string): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download'), button.click()]);
  await file.saveAs(path);
  return file.suggestedFilename();
}

test('a CA made in the browser: exports open in openssl, a real server accepts the client certificate, the inspector agrees with openssl, the probe presents it', async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'workshop-e2e-'));
  const frames = await openHarness(page);
  await openWorkshop(page);

  const root = await make(page, 'Root CA', 'E2E Root CA');
  await expect(root).toContainText('Private key: not extractable');
  await download(page, root.getByRole('button', { name: 'Download Certificate (PEM)' }), join(dir, 'root.pem'));

  const intermediate = await make(page, 'Intermediate CA', 'E2E Issuing CA');
  await expect(intermediate).toContainText('issued by CN=E2E Root CA');
  await download(page, intermediate.getByRole('button', { name: 'Download Certificate (PEM)' }), join(dir, 'intermediate.pem'));

  const client = await make(page, 'Client certificate', 'e2e-workshop-client');
  await expect(client).toContainText('issued by CN=E2E Issuing CA');
  await expect(client).toContainText('Private key: extractable');
  expect(await download(page, client.getByRole('button', { name: 'Download Certificate (PEM)' }), join(dir, 'leaf.pem'))).toBe('e2e-workshop-client.pem');
  await download(page, client.getByRole('button', { name: 'Download Chain (PEM)' }), join(dir, 'chain.pem'));
  await download(page, client.getByRole('button', { name: 'Download Private key (PKCS#8 PEM)' }), join(dir, 'leaf.key'));
  await client.getByLabel('PKCS#12 password').fill(P12_PASSWORD);
  expect(await download(page, client.getByRole('button', { name: 'Download e2e-workshop-client.p12' }), join(dir, 'client.p12'))).toBe('e2e-workshop-client.p12');
  const shownSha256 = await client.getByTestId('sha256').textContent();

  // openssl opens the PKCS#12 with the password (OpenSSL 3 default protection) and refuses another.
  const info = openssl(dir, ['pkcs12', '-info', '-nokeys', '-in', 'client.p12', '-passin', `pass:${P12_PASSWORD}`]);
  expect(info.status, info.stderr).toBe(0);
  expect(info.stderr).toContain('MAC: sha256, Iteration 2048');
  expect(info.stdout.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  expect(info.stdout).toContain('subject=CN = e2e-workshop-client');
  expect(info.stdout).toContain('friendlyName: e2e-workshop-client');
  expect(openssl(dir, ['pkcs12', '-info', '-nokeys', '-in', 'client.p12', '-passin', 'pass:wrong']).status).not.toBe(0);

  // The chain verifies for TLS client use, and the downloaded key is the certificate's key.
  const verify = openssl(dir, ['verify', '-CAfile', 'root.pem', '-untrusted', 'intermediate.pem', '-purpose', 'sslclient', 'leaf.pem']);
  expect(verify.stdout.trim(), verify.stderr).toBe('leaf.pem: OK');
  expect(openssl(dir, ['pkey', '-in', 'leaf.key', '-pubout']).stdout).toBe(openssl(dir, ['x509', '-in', 'leaf.pem', '-noout', '-pubkey']).stdout);
  const opensslSha256 = openssl(dir, ['x509', '-in', 'leaf.pem', '-noout', '-fingerprint', '-sha256']).stdout.trim().split('=')[1];
  expect(shownSha256).toBe(opensslSha256);

  // A real server that trusts only the exported root accepts the exported certificate, chain and key.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.pem', '-subj', '/CN=localhost', '-days', '1'], { cwd: dir, stdio: 'ignore' });
  const server = await opensslServer(['-cert', join(dir, 'server.pem'), '-key', join(dir, 'server.key'), '-Verify', '3', '-verify_return_error', '-CAfile', join(dir, 'root.pem'), '-www']);
  try {
    const response = await new Promise<string>((resolve, reject) => {
      let body = '';
      const socket = tls.connect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false, cert: readFileSync(join(dir, 'chain.pem')), key: readFileSync(join(dir, 'leaf.key')) }, () => socket.write('GET / HTTP/1.0\r\n\r\n'));
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (body += d));
      socket.on('error', reject);
      socket.on('close', () => resolve(body));
    });
    expect(response).toMatch(/^HTTP\/1\.0 200 ok/);
    expect(response).toMatch(/Client certificate[\s\S]*Subject: CN=e2e-workshop-client\n/);
  } finally {
    await server.close();
  }

  // Read back: the .p12 (with its password) and the root, as a partner would receive them.
  await page.getByRole('tab', { name: 'Import & inspect' }).click();
  await page.getByLabel('Files to inspect').setInputFiles([join(dir, 'client.p12'), join(dir, 'root.pem')]);
  await page.getByLabel('Password for PKCS#12 or an encrypted key').fill(P12_PASSWORD);
  await page.getByRole('button', { name: 'Inspect', exact: true }).click();
  const report = page.getByRole('region', { name: 'Inspection report' });
  await expect(report).toContainText('3 certificates, 1 key');
  await expect(report).toContainText('no problems found');
  const chain = report.getByRole('list', { name: 'Chain 1' });
  await expect(chain.locator('li[data-role]')).toHaveText([/CN=e2e-workshop-client/, /CN=E2E Issuing CA/, /CN=E2E Root CA/]);
  await expect(chain).toContainText('Ends at the trust anchor CN=E2E Root CA');
  const leafCard = report.locator('details[data-certificate="CN=e2e-workshop-client"]');
  await expect(leafCard.locator('[data-field="subject"]')).toHaveText('CN=e2e-workshop-client');
  await expect(leafCard.locator('[data-field="sha256"]')).toHaveText(opensslSha256!);
  await expect(leafCard).toContainText('client.p12, certificate 1 ("e2e-workshop-client")');
  await expect(report).toContainText('belongs to certificate 1');
  // A .p12 someone sent can go straight to the probe.
  await report.getByRole('button', { name: 'Use for mTLS probes' }).click();
  await expect(report.getByRole('status')).toHaveText('Added to Keys & certs as e2e-workshop-client (kept in this browser): choose it in the probe.');

  // A file dropped on the page is read the same way.
  await page.getByRole('button', { name: 'Clear' }).click();
  const dropped = await page.evaluateHandle((text) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([text], 'chain.pem', { type: 'application/x-pem-file' }));
    return transfer;
  }, readFileSync(join(dir, 'chain.pem'), 'utf8'));
  await page.getByRole('group', { name: 'Drop files here' }).dispatchEvent('drop', { dataTransfer: dropped });
  await expect(page.getByRole('list', { name: 'Files to read' })).toContainText('chain.pem');
  await page.getByRole('button', { name: 'Inspect', exact: true }).click();
  await expect(report).toContainText('2 certificates, 0 keys');
  await expect(report.locator('li[data-code="chain_root_not_included"]')).toContainText('CN=E2E Root CA');

  // A vendor API answer with the PEM in JSON (\r\n escapes), and input that is nothing at all.
  await page.getByRole('button', { name: 'Clear' }).click();
  const vendor = JSON.stringify({ entities: [{ name: 'upcoming', certificate: readFileSync(join(dir, 'leaf.pem'), 'utf8').replace(/\n/g, '\r\n') }] });
  await page.getByLabel('Or paste text (PEM, base64 or JSON)').fill(vendor);
  await page.getByRole('button', { name: 'Inspect', exact: true }).click();
  await expect(report.locator('[data-field="sha256"]')).toHaveText(opensslSha256!);
  await expect(report).toContainText('pasted text, entities[0].certificate');
  await expect(report.locator('li[data-code="chain_leaf_only"]')).toBeVisible();
  await page.getByLabel('Or paste text (PEM, base64 or JSON)').fill('not a certificate');
  await page.getByRole('button', { name: 'Inspect', exact: true }).click();
  await expect(report.locator('li[data-code="input_unrecognized"]')).toContainText('no certificate, key or PKCS#12 data was found');

  // The client certificate is in the key ring: the probe presents it, and the lab (which trusts
  // only its own CA) refuses it: the CA is not among the ones it accepts.
  await page.getByRole('tab', { name: 'Make & export' }).click();
  // The .p12 taken above is kept too (one rule for every key): the one made here is listed first.
  await page.getByRole('button', { name: /^e2e-workshop-client/ }).first().click();
  await page.getByRole('article', { name: 'e2e-workshop-client' }).getByRole('button', { name: 'Use in probe' }).click();
  await expect(page.getByLabel('Client certificate').locator('option:checked')).toContainText('e2e-workshop-client (P-256');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await verdictOf(page)).toBe('fail');
  const [runId] = frames.runIds();
  expect(frames.finished(runId!)?.diagnoses).toContain('client_ca_not_acceptable');
  const sent = frames.finalSteps(runId!).find((s) => s.id === 'tls');
  expect(JSON.stringify(sent?.details)).toContain('CN=e2e-workshop-client');
});

test('made keys survive a reload as stored, a JWT-only key stays non-extractable, and Forget everything empties the store', async ({ page }) => {
  await openHarness(page);
  await openWorkshop(page);
  const key = await make(page, 'Key pair', 'e2e-jwt-key');
  await expect(key).toContainText('Private key: not extractable');
  await expect(key.getByRole('button', { name: /Reveal Private key/ })).toHaveCount(0);
  await expect(key.getByRole('button', { name: 'Download JWKS' })).toBeVisible();
  await make(page, 'Self-signed certificate', 'e2e-self-signed');

  await page.reload();
  await expect(page.getByTestId('relay-state')).toHaveText(/^connected/);
  await openWorkshop(page);
  await expect(page.getByTestId('storage-summary')).toContainText('2 keys, 1 certificate, 1 key not extractable');
  await page.getByRole('button', { name: /^e2e-jwt-key/ }).click();
  await expect(page.getByRole('article', { name: 'e2e-jwt-key' })).toContainText('Private key: not extractable');

  // What the app stored: the CryptoKey itself, still non-extractable, still able to sign.
  const stored = await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('mtls-jwt-harness');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const items = await new Promise<{ label: string; keys: CryptoKeyPair }[]>((resolve, reject) => {
      const req = db.transaction('workshop-items').objectStore('workshop-items').getAll();
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    db.close();
    const jwt = items.find((i) => i.label === 'e2e-jwt-key')!;
    const exported = await crypto.subtle.exportKey('pkcs8', jwt.keys.privateKey).then(
      () => 'exported',
      (e: Error) => e.name,
    );
    const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, jwt.keys.privateKey, new TextEncoder().encode('payload'));
    return {
      labels: items.map((i) => i.label).sort(),
      isCryptoKey: jwt.keys.privateKey instanceof CryptoKey,
      extractable: jwt.keys.privateKey.extractable,
      exported,
      signatureBytes: signature.byteLength,
      selfSignedExtractable: items.find((i) => i.label === 'e2e-self-signed')!.keys.privateKey.extractable,
    };
  });
  expect(stored).toEqual({ labels: ['e2e-jwt-key', 'e2e-self-signed'], isCryptoKey: true, extractable: false, exported: 'InvalidAccessError', signatureBytes: 64, selfSignedExtractable: true });

  // The self-signed certificate came back into the key ring too, so the probe can use it.
  await page.getByRole('link', { name: 'Keys & certs' }).click();
  await expect(page.getByRole('article', { name: 'e2e-self-signed' })).toContainText('made in the certificate workshop');

  await openWorkshop(page);
  await page.getByRole('button', { name: 'Forget everything…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Forget everything?' });
  await expect(dialog).toContainText('One key cannot be exported and exists nowhere else.');
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await dialog.getByRole('button', { name: 'Forget everything' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('storage-summary')).toContainText('0 keys, 0 certificates');
  await page.reload();
  await openWorkshop(page);
  await expect(page.getByTestId('storage-summary')).toContainText('0 keys, 0 certificates');
  await expect(page.getByRole('list', { name: 'Made in this browser' })).toHaveCount(0);
  const left = await page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const open = indexedDB.open('mtls-jwt-harness');
        open.onsuccess = () => {
          const req = open.result.transaction('workshop-items').objectStore('workshop-items').count();
          req.onsuccess = () => {
            open.result.close();
            resolve(req.result);
          };
        };
      }),
  );
  expect(left).toBe(0);
});
