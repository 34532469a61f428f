// Scenario files in the browser: a flow saved without its secrets and opened back, an example
// from examples/ opened and run against the lab with its expect block judged, and the probe's
// Save and Open (the component the probe page mounts).
import { readFileSync } from 'node:fs';
import { test, expect, type Page } from '@playwright/test';
import { makeLabCredential, openHarness, saveFile, verdictOf } from './harness.ts';

async function openFile(page: Page, name: string, text: string): Promise<void> {
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Open scenario…' }).click();
  await (await chooser).setFiles({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
}

test('save a flow as a scenario without its secrets, open it again', async ({ page }) => {
  await openHarness(page);
  await page.getByRole('link', { name: 'Token flows' }).click();
  await page.getByRole('radio', { name: 'Client credentials', exact: true }).check();
  const form = page.getByRole('form', { name: 'Client credentials flow' });
  await form.getByLabel('Scope (optional)').fill('orders:read orders:write');
  const { filename, file } = await saveFile(page, 'CC basic', { keepOpen: true });
  expect(filename).toBe('cc-basic.json');
  expect(file).toMatchObject({ version: 1, name: 'CC basic', kind: 'flow', flow: { kind: 'client-credentials', issuer: 'lab:issuer', scope: 'orders:read orders:write' } });
  expect(file.flow.clientAuth).toEqual({ method: 'client_secret_basic', clientId: 'lab-basic', clientSecret: { $secret: 'client_secret' } });
  expect(file.secrets).toEqual({ client_secret: { env: 'CLIENT_SECRET' } });
  expect(JSON.stringify(file)).not.toContain('lab-basic-secret');
  await expect(page.getByTestId('scenario-report')).toContainText('Secrets left out, named instead: client_secret');

  // Open it into a changed form: fields come back, the missing secret is named.
  await form.getByLabel('Scope (optional)').fill('');
  await openFile(page, 'cc-basic.json', JSON.stringify(file));
  await expect(page.getByTestId('scenario-report')).toContainText('Opened CC basic');
  await expect(page.getByTestId('scenario-report')).toContainText('environment variable CLIENT_SECRET');
  await expect(form.getByLabel('Scope (optional)')).toHaveValue('orders:read orders:write');
  await expect(form.getByLabel('Issuer', { exact: true })).toHaveValue(/^https:\/\/localhost:\d+$/);
  await expect(form.getByLabel('Client secret', { exact: true })).toHaveValue('');
});

test('an example scenario opens into the form, runs against the lab and is judged by its expect block', async ({ page }) => {
  await openHarness(page);
  await page.getByRole('link', { name: 'Token flows' }).click();
  await openFile(page, 'client-credentials-basic.json', readFileSync('examples/client-credentials-basic.json', 'utf8'));
  await expect(page.getByTestId('scenario-report')).toContainText('Opened Client credentials, client_secret_basic');
  await expect(page.getByRole('radio', { name: 'Client credentials', exact: true })).toBeChecked();
  const form = page.getByRole('form', { name: 'Client credentials flow' });
  await expect(form.getByLabel('Client secret', { exact: true })).toHaveValue('lab-basic-secret');
  await expect(form.getByLabel('Then call this API with the token (optional)')).toHaveValue(/\/api\/resource$/);
  await page.getByRole('button', { name: 'Close' }).click();
  await form.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await verdictOf(page)).toBe('pass');
  await expect(page.getByTestId('scenario-expect')).toContainText('as expected: pass []');

  // A probe scenario is refused here and says where it belongs.
  await openFile(page, 'probe-no-certificate.json', readFileSync('examples/probe-no-certificate.json', 'utf8'));
  await expect(page.getByTestId('scenario-report')).toContainText('is a probe scenario: open it on the Probe screen');
});

test('probe scenarios: an example opens and runs; a probe with a client certificate saves without its key', async ({ page }) => {
  await openHarness(page);
  await openFile(page, 'probe-no-certificate.json', readFileSync('examples/probe-no-certificate.json', 'utf8'));
  await expect(page.getByTestId('scenario-report')).toContainText('Opened mTLS probe without a client certificate');
  await expect(page.getByLabel('Target URL')).toHaveValue(/^https:\/\/localhost:\d+\/orders$/);
  await expect(page.getByLabel('Client certificate')).toHaveValue('');
  await page.getByRole('button', { name: 'Close' }).click();
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await verdictOf(page)).toBe('fail');

  await makeLabCredential(page, 'P-256', 'e2e-scenario-client');
  await page.getByRole('article', { name: 'e2e-scenario-client' }).getByRole('button', { name: 'Use in probe' }).click();
  const { file } = await saveFile(page, 'Probe with a client certificate', { keepOpen: true });
  expect(file).toMatchObject({ kind: 'probe', probe: { url: 'lab:mtls' } });
  expect(file.probe.client.certificatePem).toContain('BEGIN CERTIFICATE');
  expect(file.probe.client.privateKeyPem).toEqual({ $secret: 'client_key' });
  expect(file.secrets).toEqual({ client_key: { file: 'client-key.pem' } });
  expect(JSON.stringify(file)).not.toContain('PRIVATE KEY');

  // Opened again, the certificate finds its key-ring credential.
  await page.getByLabel('Client certificate').selectOption('');
  await openFile(page, 'probe.json', JSON.stringify(file));
  await expect(page.getByLabel('Client certificate').locator('option:checked')).toContainText('e2e-scenario-client');
});
