import { test, expect } from '@playwright/test';
import { expectTimelineMatchesEvents, makeLabCredential, openHarness, verdictOf } from './harness.ts';

for (const algorithm of ['P-256', 'RSA-2048'] as const) {
  test(`${algorithm} key made in the browser, CSR, lab certificate, probe passes`, async ({ page }) => {
    const commonName = `e2e-${algorithm.toLowerCase()}`;
    const frames = await openHarness(page);
    await makeLabCredential(page, algorithm, commonName);

    const card = page.getByRole('article', { name: commonName });
    await expect(card).toContainText('Where the key lives: in this browser');
    await expect(card.getByText('hidden — reveal only when nobody is watching')).toBeVisible();
    await expect(card.locator('pre', { hasText: 'PRIVATE KEY' })).toHaveCount(0);

    await card.getByRole('button', { name: 'Use in probe' }).click();
    await expect(page.getByRole('heading', { name: 'Probe', level: 1 })).toBeVisible();
    await expect(page.getByLabel('Client certificate')).toHaveValue(/.+/);
    await expect(page.getByLabel('Client certificate').locator('option:checked')).toContainText(`${commonName} (${algorithm}`);
    await expect(page.getByText('Run sends this certificate and its private key to the relay')).toBeVisible();

    await page.getByRole('button', { name: 'Run', exact: true }).click();
    expect(await verdictOf(page)).toBe('pass');

    const [runId] = frames.runIds();
    expect(runId).toBeTruthy();
    const steps = await expectTimelineMatchesEvents(page, frames, runId!);
    expect(steps.map((s) => s.id)).toEqual(expect.arrayContaining(['inputs', 'dns', 'tcp', 'tls', 'request', 'response']));
    expect(frames.finished(runId!)?.outcome).toBe('pass');
    await expect(page.getByRole('heading', { name: `Run ${runId}` })).toBeVisible();

    // The lab answers with the certificate it received: proof the browser-made key was presented.
    const response = page.locator('li[data-step="response"]');
    await expect(response).toContainText('HTTP 200');
    await response.getByRole('button', { expanded: false }).first().click();
    await expect(response).toContainText('Client certificate accepted by the harness lab');
    await expect(response).toContainText(`CN=${commonName}`);

    const tls = page.locator('li[data-step="tls"]');
    await tls.getByRole('button', { expanded: false }).first().click();
    await expect(tls).toContainText(`CN=${commonName}`);

    await page.getByRole('link', { name: 'Keys & certs' }).click();
    await expect(page.getByRole('article', { name: commonName })).toContainText(`sent to the relay for run ${runId} only`);
  });
}

test('a probe without a client certificate fails with client_cert_required and its fix', async ({ page }) => {
  const frames = await openHarness(page);
  await expect(page.getByLabel('Target URL')).toHaveValue(/^https:\/\/.+/);
  await expect(page.getByLabel('Client certificate')).toHaveValue('');
  await expect(page.getByText('No client certificate: the relay connects without one')).toBeVisible();

  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await verdictOf(page)).toBe('fail');

  const [runId] = frames.runIds();
  const steps = await expectTimelineMatchesEvents(page, frames, runId!);
  expect(frames.finished(runId!)?.diagnoses).toContain('client_cert_required');
  const diagnosed = steps.find((s) => s.diagnosis?.code === 'client_cert_required');
  expect(diagnosed).toBeDefined();

  const diagnosis = page.getByRole('region', { name: 'Diagnosis client_cert_required' });
  await expect(diagnosis).toHaveCount(1);
  await expect(diagnosis.getByTestId('diagnosis-code')).toHaveText('client_cert_required');
  await expect(diagnosis).toContainText(diagnosed!.diagnosis!.summary);
  await expect(diagnosis.getByRole('heading', { name: 'Fix on your side' })).toBeVisible();
  await expect(diagnosis).toContainText(diagnosed!.diagnosis!.fix.client);
  await expect(diagnosis.getByRole('heading', { name: 'Fix on the server side' })).toBeVisible();
  await expect(diagnosis).toContainText(diagnosed!.diagnosis!.fix.server);
  for (const line of diagnosed!.diagnosis!.evidence) await expect(diagnosis).toContainText(line);

  const verdict = page.getByTestId('verdict');
  await expect(verdict).toContainText('Fail');
  await expect(verdict).toContainText('client_cert_required');

  // The raw evidence is one click away.
  const row = page.locator(`li[data-step="${diagnosed!.id}"]`);
  await row.getByRole('button', { name: 'Raw event' }).click();
  await expect(row.locator('pre', { hasText: '"code": "client_cert_required"' })).toBeVisible();
});

test('Ctrl+Enter runs the probe from the keyboard', async ({ page }) => {
  const frames = await openHarness(page);
  await makeLabCredential(page, 'P-256', 'e2e-keyboard');
  await page.getByRole('article', { name: 'e2e-keyboard' }).getByRole('button', { name: 'Use in probe' }).click();
  await expect(page.getByRole('list', { name: 'Steps' })).toHaveCount(0);

  await page.getByLabel('Target URL').focus();
  await page.keyboard.press('Control+Enter');
  expect(await verdictOf(page)).toBe('pass');
  expect(frames.runIds()).toHaveLength(1);

  // Also from inside the headers field, where Enter alone adds a line.
  await page.getByRole('button', { name: 'Headers and body' }).click();
  await page.getByLabel('Headers (one "Name: value" a line)').fill('Accept: application/json');
  await page.getByLabel('Headers (one "Name: value" a line)').press('Control+Enter');
  await expect.poll(() => frames.runIds().length).toBe(2);
  expect(await verdictOf(page)).toBe('pass');
  const [, second] = frames.runIds();
  await expectTimelineMatchesEvents(page, frames, second!);
  await expect(page.locator('li[data-step="request"]')).toBeVisible();
});
