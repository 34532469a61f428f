// Rough edges a new user hit (issue 14), each checked in real Chromium against the real relay.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect, type Page } from '@playwright/test';
import { makeLabCredential, openHarness, verdictOf } from './harness.ts';

/** Console errors and failed requests of the page, from before it loads. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
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
