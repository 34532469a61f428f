// Rough edges a new user hit (issue 14), each checked in real Chromium against the real relay.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect, type Page } from '@playwright/test';
import { makeLabCredential, openHarness, verdictOf } from './harness.ts';
import { generateKeyPair, issue, selfSign } from '../shared/pki/issue.ts';

/** Console errors and failed requests of the page, from before it loads. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`${r.status()} ${r.url().split('?')[0]}`);
  });
  return errors;
}

test('JWT builder: a token signed with a key-ring key is verified with that key by "Verify it below"', async ({ page }) => {
  await openHarness(page);
  await makeLabCredential(page, 'P-256', 'e2e-verify-below');
  await page.getByRole('link', { name: 'JWT builder' }).click();
  const builder = page.getByRole('form', { name: 'Build and sign' });
  await builder.getByLabel('Algorithm (alg)').selectOption('ES256');
  const keys = builder.getByLabel('Signing key', { exact: true });
  await keys.selectOption((await keys.locator('option', { hasText: 'e2e-verify-below' }).getAttribute('value'))!);
  await builder.getByRole('button', { name: 'Sign', exact: true }).click();
  const signed = page.getByRole('region', { name: 'Signed JWT' });
  await expect(signed).toContainText('the key of e2e-verify-below from the key ring');
  await signed.getByRole('button', { name: 'Verify it below' }).click();
  const verify = page.getByRole('region', { name: 'Decode & verify a JWT' });
  await expect(verify.getByLabel('Verify with')).toHaveValue('pem');
  await expect(verify.getByLabel('Public key or certificate (PEM)')).toHaveValue(/^-----BEGIN CERTIFICATE-----/);
  await expect(verify.getByTestId('verify-result')).toHaveAttribute('data-ok', 'true');
  await expect(verify.getByTestId('verify-result')).toContainText('Signature verified with the pasted certificate');

  // The browser's own key still verifies with the browser's key.
  await keys.selectOption({ index: 0 });
  await builder.getByRole('button', { name: 'Sign', exact: true }).click();
  await expect(signed).toContainText("this browser's ES256 key");
  await signed.getByRole('button', { name: 'Verify it below' }).click();
  await expect(verify.getByLabel('Verify with')).toHaveValue('browser');
  await expect(verify.getByTestId('verify-result')).toHaveAttribute('data-ok', 'true');
});

test('JWT builder: opening it logs no console error (the clock comes from the relay\'s welcome, not a 426)', async ({ page }) => {
  const errors = watchErrors(page);
  await openHarness(page);
  await page.getByRole('link', { name: 'JWT builder' }).click();
  await expect(page.getByRole('heading', { name: 'JWT builder', level: 1 })).toBeVisible();
  await page.getByRole('form', { name: 'Build and sign' }).getByRole('button', { name: 'Sign', exact: true }).click();
  const signed = page.getByRole('region', { name: 'Signed JWT' });
  await expect(signed).toContainText("the relay's clock");
  expect(errors).toEqual([]);
});

test('the "Lab: N targets" pill is a control that lists the lab\'s targets', async ({ page }) => {
  const frames = await openHarness(page);
  const lab = frames.messages.find((m) => m.type === 'welcome')!.relay.lab!;
  const pill = page.getByText(`Lab: ${lab.targets.length} targets`);
  const list = page.getByRole('region', { name: 'Lab targets' });
  await expect(list).toBeHidden();
  await pill.focus();
  await page.keyboard.press('Enter');
  await expect(list).toBeVisible();
  for (const target of lab.targets) await expect(list).toContainText(target.url);
  await pill.click();
  await expect(list).toBeHidden();
});

test('distinguished names read one way in a run: RFC 4514, most specific first', async ({ page }) => {
  // A partner's certificate made by openssl, encoded C first as CAs do.
  const dir = mkdtempSync(join(tmpdir(), 'e2e-dn-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '30',
    '-subj', '/C=US/O=Acme Partner/CN=partner-client', '-addext', 'extendedKeyUsage=clientAuth'], { cwd: dir, stdio: 'ignore' });
  const rfc4514 = 'CN=partner-client, O=Acme Partner, C=US';
  const frames = await openHarness(page);
  await page.getByRole('link', { name: 'Keys & certs' }).click();
  const paste = page.getByRole('form', { name: 'Paste a certificate and key' });
  await paste.getByLabel('Certificate (PEM, leaf first, then intermediates)').fill(readFileSync(join(dir, 'cert.pem'), 'utf8'));
  await paste.getByLabel('Private key (PEM, unencrypted)').fill(readFileSync(join(dir, 'key.pem'), 'utf8'));
  await paste.getByRole('button', { name: 'Add certificate and key' }).click();
  const card = page.getByRole('article', { name: 'partner-client' });
  await expect(card).toContainText(rfc4514);
  await card.getByRole('button', { name: 'Use in probe' }).click();
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await verdictOf(page);
  // The relay's Inputs step names it the same way; the lab CA too.
  await expect(page.locator('li[data-step="inputs"]')).toContainText(rfc4514);
  const caSubject = frames.messages.find((m) => m.type === 'welcome')!.relay.lab!.caSubject;
  expect(caSubject).toMatch(/^CN=Harness Lab Client CA [0-9a-f]{8}, O=mTLS Harness Lab$/);
  await expect(page.getByText('C=US, O=Acme Partner')).toHaveCount(0);
});

test('Keys & certs keeps what the workshop keeps: the lab demo key, a pasted pair and an imported PKCS#12 survive a reload', async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-keep-'));
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  // A pasted RSA pair in the traditional PKCS#1 form, and a partner's .p12.
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rsa8.pem', '-out', 'rsa.pem', '-days', '30', '-subj', '/CN=kept-pasted-rsa', '-addext', 'extendedKeyUsage=clientAuth']);
  run(['pkey', '-in', 'rsa8.pem', '-traditional', '-out', 'rsa1.pem']);
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'p12.key', '-out', 'p12.pem', '-days', '30', '-subj', '/CN=kept-from-p12', '-addext', 'extendedKeyUsage=clientAuth']);
  run(['pkcs12', '-export', '-in', 'p12.pem', '-inkey', 'p12.key', '-out', 'partner.p12', '-passout', 'pass:e2e-p12']);

  await openHarness(page);
  await page.getByRole('button', { name: 'Run the lab demo' }).click();
  expect(await verdictOf(page)).toBe('pass');

  await page.getByRole('link', { name: 'Keys & certs' }).click();
  const paste = page.getByRole('form', { name: 'Paste a certificate and key' });
  await paste.getByLabel('Certificate (PEM, leaf first, then intermediates)').fill(readFileSync(join(dir, 'rsa.pem'), 'utf8'));
  await paste.getByLabel('Private key (PEM, unencrypted)').fill(readFileSync(join(dir, 'rsa1.pem'), 'utf8'));
  await paste.getByRole('button', { name: 'Add certificate and key' }).click();
  await expect(page.getByRole('article', { name: 'kept-pasted-rsa' })).toContainText('IndexedDB, kept across reloads');

  await page.getByRole('link', { name: 'Certificate workshop' }).click();
  await page.getByRole('tab', { name: 'Import & inspect' }).click();
  await page.getByLabel('Files to inspect').setInputFiles(join(dir, 'partner.p12'));
  await page.getByLabel('Password for PKCS#12 or an encrypted key').fill('e2e-p12');
  await page.getByRole('button', { name: 'Inspect', exact: true }).click();
  const report = page.getByRole('region', { name: 'Inspection report' });
  await report.getByRole('button', { name: 'Use for mTLS probes' }).click();
  await expect(report.getByRole('status')).toHaveText('Added to Keys & certs as kept-from-p12 (kept in this browser): choose it in the probe.');

  await page.reload();
  await expect(page.getByTestId('relay-state')).toHaveText(/^connected/);
  const keys = page.getByRole('list', { name: 'Keys' });
  await expect(keys.getByRole('listitem')).toHaveText([/lab-client/, /kept-pasted-rsa/, /kept-from-p12/]);
  await page.getByRole('link', { name: 'Keys & certs' }).click();
  const demo = page.getByRole('article', { name: 'lab-client' });
  await expect(demo).toContainText('P-256 key · generated in this browser');
  await expect(demo).toContainText('Certificate from the lab CA');
  await expect(page.getByRole('article', { name: 'kept-pasted-rsa' })).toContainText('RSA-2048 key · pasted');
  await expect(page.getByRole('article', { name: 'kept-from-p12' })).toContainText('P-256 key · pasted');

  // The kept key still works: the lab's mTLS target accepts it after the reload.
  await demo.getByRole('button', { name: 'Use in probe' }).click();
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await verdictOf(page)).toBe('pass');
});

test('rotation check: certificates come from Import & inspect, JSON names show, a successor not valid yet is not an error', async ({ page }) => {
  const day = 86_400_000;
  const rootKeys = await generateKeyPair('P-256', true);
  const root = await selfSign(rootKeys, { subject: 'CN=Partner Rotation Root', profile: 'root-ca', notBefore: new Date(Date.now() - 400 * day) });
  const issuer = { certificate: root, privateKey: rootKeys.privateKey };
  const client = async (notBefore: Date, notAfter: Date) =>
    (await issue((await generateKeyPair('P-256', true)).publicKey, issuer, { subject: 'CN=partner-api-client', profile: 'client', notBefore, notAfter })).toString('pem');
  const bundle = JSON.stringify({
    ca: { name: 'partner root', pem: root.toString('pem') },
    certificates: [
      { name: 'partner current', pem: await client(new Date(Date.now() - 340 * day), new Date(Date.now() + 20 * day)) },
      { name: 'partner next', pem: await client(new Date(Date.now() + 10 * day), new Date(Date.now() + 375 * day)) },
    ],
  });

  await openHarness(page);
  await page.getByRole('link', { name: 'Certificate workshop' }).click();
  await page.getByRole('tab', { name: 'Import & inspect' }).click();
  await page.getByLabel('Or paste text (PEM, base64 or JSON)').fill(bundle);
  await page.getByRole('button', { name: 'Inspect', exact: true }).click();
  const report = page.getByRole('region', { name: 'Inspection report' });
  await expect(report).toContainText('certificates[1].pem ("partner next")');
  await page.getByRole('button', { name: 'Send to rotation check' }).click();

  await expect(page.getByRole('tab', { name: 'Rotation check' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByLabel('CA bundle the server trusts (PEM)')).toHaveValue(/^-----BEGIN CERTIFICATE-----/);
  const candidates = page.getByRole('list', { name: 'Client certificates to check' });
  await expect(candidates.getByRole('listitem')).toHaveCount(2);
  await expect(candidates).toContainText('("partner current")');
  await expect(page.getByLabel('Role of client certificate 2')).toHaveValue('upcoming');
  await page.getByRole('button', { name: 'Check rotation' }).click();
  const result = page.getByRole('region', { name: 'Rotation result' });
  const next = result.locator('tr', { hasText: '("partner next")' }).first();
  await expect(next).toContainText('trusted, ready for the switch');
  await expect(next.locator('[data-status]')).toHaveAttribute('data-status', 'ok');
  await expect(result.locator('li[data-code="cert_not_yet_valid"]')).toHaveCount(0);
  await expect(result.locator('li[data-code="rotation_no_upcoming"]')).toHaveCount(0);
});

test('token flows: a key-ring key signs the client assertion, is registered with the lab, and is still there after a reload', async ({ page }) => {
  await openHarness(page);
  await makeLabCredential(page, 'P-256', 'e2e-partner-signer');
  await page.getByRole('link', { name: 'Token flows' }).click();
  await page.getByRole('radio', { name: 'Client credentials', exact: true }).check();
  const form = page.getByRole('form', { name: 'Client credentials flow' });
  await form.getByLabel('Method', { exact: true }).selectOption('private_key_jwt');
  const clientId = form.getByLabel('Client id', { exact: true });
  await expect(clientId).toHaveValue(/^lab-reg-/);
  const browserClient = await clientId.inputValue();
  await form.getByLabel('Assertion algorithm').selectOption('ES256');
  const signingKey = form.getByLabel('Signing key');
  await signingKey.selectOption({ label: 'e2e-partner-signer (P-256)' });
  // The lab now knows this key: a client of its own, not the browser key's.
  await expect(clientId).toHaveValue(/^lab-reg-/);
  await expect(clientId).not.toHaveValue(browserClient);
  await expect(form).toContainText('Signed here at run time with e2e-partner-signer from Keys & certs');
  await form.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await verdictOf(page)).toBe('pass');

  // After a reload the same key is offered again (the browser's own key would be a new one).
  await page.reload();
  await expect(page.getByTestId('relay-state')).toHaveText(/^connected/);
  await page.getByRole('radio', { name: 'Client credentials', exact: true }).check();
  await form.getByLabel('Method', { exact: true }).selectOption('private_key_jwt');
  await form.getByLabel('Assertion algorithm').selectOption('ES256');
  await expect(form.getByLabel('Signing key').locator('option', { hasText: 'e2e-partner-signer (P-256)' })).toBeEnabled();
});
