import { test, expect } from '@playwright/test';
import { makeLabCredential, openHarness, verdictOf } from './harness.ts';

test('a pasted certificate and key work in a probe; the key stays masked until revealed', async ({ page }) => {
  await openHarness(page);
  await makeLabCredential(page, 'P-256', 'e2e-pasted');
  const source = page.getByRole('article', { name: 'e2e-pasted' });

  await expect(source.locator('pre', { hasText: 'PRIVATE KEY' })).toHaveCount(0);
  await source.getByRole('button', { name: 'Reveal Private key (PEM)' }).click();
  const keyPem = (await source.locator('pre', { hasText: 'BEGIN PRIVATE KEY' }).textContent()) ?? '';
  expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----$/);
  await source.getByRole('button', { name: 'Hide Private key (PEM)' }).click();
  await expect(source.locator('pre', { hasText: 'PRIVATE KEY' })).toHaveCount(0);
  const certPem = (await source.locator('pre', { hasText: 'BEGIN CERTIFICATE-----' }).first().textContent()) ?? '';

  const paste = page.getByRole('form', { name: 'Paste a certificate and key' });
  await paste.getByLabel('Certificate (PEM, leaf first, then intermediates)').fill(certPem);
  await paste.getByLabel('Private key (PEM, unencrypted)').fill('-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n');
  await paste.getByRole('button', { name: 'Add certificate and key' }).click();
  await expect(paste.getByRole('alert')).toContainText('The key is encrypted');

  await paste.getByLabel('Private key (PEM, unencrypted)').fill(keyPem);
  await paste.getByRole('button', { name: 'Add certificate and key' }).click();
  const pasted = page.getByRole('article', { name: 'e2e-pasted' }).filter({ hasText: 'P-256 key · pasted' });
  await expect(pasted).toContainText('Where the key lives: in this browser');
  await pasted.getByRole('button', { name: 'Use in probe' }).click();

  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await verdictOf(page)).toBe('pass');
  const response = page.locator('li[data-step="response"]');
  await response.getByRole('button', { expanded: false }).first().click();
  await expect(response).toContainText('CN=e2e-pasted');
});
