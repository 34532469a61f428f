// The probe shows what the wire said (CertificateRequest, acceptable CA names, both chains as
// sent, the server's verification), where the time went, the HTTP exchange, and commands that
// reproduce the run outside the harness — each compared with the relay's own events.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect, type Page } from '@playwright/test';
import type { Step } from '../shared/protocol/index.ts';
import { expectTimelineMatchesEvents, makeLabCredential, openHarness, relayOrigin, verdictOf, type RelayFrames } from './harness.ts';
import { findStep, type ProbeStep } from '../shared/protocol/index.ts';

const SCREENS = 'test-results/screens';

function formatMs(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

async function runAndFinish(page: Page, frames: RelayFrames): Promise<{ runId: string; steps: Step[] }> {
  const before = frames.runIds().length;
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect.poll(() => frames.runIds().length).toBe(before + 1);
  await verdictOf(page);
  const runId = frames.runIds().at(-1)!;
  await expect.poll(() => frames.finished(runId)).toBeTruthy();
  return { runId, steps: await expectTimelineMatchesEvents(page, frames, runId) };
}

async function openStep(page: Page, id: string) {
  const row = page.locator(`li[data-step="${id}"]`);
  const line = row.locator('button.line');
  if ((await line.getAttribute('aria-expanded')) === 'false') await line.click();
  return row;
}

test('a lab probe shows the CertificateRequest, both chains, timings, and copies the exact curl and openssl commands', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: relayOrigin() });
  const frames = await openHarness(page);
  await makeLabCredential(page, 'P-256', 'e2e-wire');
  await page.getByRole('article', { name: 'e2e-wire' }).getByRole('button', { name: 'Use in probe' }).click();
  const { runId, steps } = await runAndFinish(page, frames);
  expect(frames.finished(runId)?.outcome).toBe('pass');

  const tlsEvent = findStep(steps as ProbeStep[], 'tls')!;
  const labCa = frames.messages.find((m) => m.type === 'welcome')?.relay.lab?.caSubject ?? '';
  const acceptable = tlsEvent.details!.acceptableCAs as string[];
  expect(acceptable.length).toBeGreaterThan(0);
  expect(acceptable.join('|')).toContain(labCa.split(',')[0]!); // the lab's client CA, as the server named it

  const tls = await openStep(page, 'tls');
  await expect(tls.getByTestId('certificate-requested')).toContainText('yes');
  for (const name of acceptable) await expect(tls.getByTestId('acceptable-cas')).toContainText(name);
  await expect(tls.getByTestId('acceptable-cas')).toContainText('Your chain reaches one of these names.');
  await expect(tls.getByTestId('sent-chain')).toContainText('CN=e2e-wire');
  await expect(tls.getByTestId('sent-chain')).toContainText(`Certificate message on the wire: ${String(tlsEvent.details!.clientCertificateMessage)}`);
  const serverChain = tlsEvent.details!.serverChain as Array<{ subject: string }>;
  await expect(tls.getByTestId('server-chain')).toContainText(serverChain[0]!.subject);
  await expect(tls.getByTestId('server-verification')).toContainText('verified');
  for (const fact of [tlsEvent.details!.protocol, tlsEvent.details!.cipher, tlsEvent.details!.group]) await expect(tls).toContainText(String(fact));
  await expect(tls).toContainText('OCSP stapled');
  await expect(tls).toContainText(`all ${(tlsEvent.details!.signatureAlgorithms as string[]).length}`);

  // Phase timings: the numbers the events carry.
  const timings = page.getByTestId('phase-timings');
  const http = findStep(steps as ProbeStep[], 'response')!.details!.timings!;
  const verdictStep = findStep(steps as ProbeStep[], 'verdict')!;
  for (const id of ['dns', 'tcp', 'tls']) {
    const step = steps.find((s) => s.id === id)!;
    await expect(timings.locator(`tr[data-timing="${id}"]`)).toContainText(formatMs(step.durationMs!));
  }
  await expect(timings.locator('tr[data-timing="sent"]')).toContainText(formatMs(http.requestSentMs!));
  await expect(timings.locator('tr[data-timing="headers"]')).toContainText(formatMs(http.headersMs! - http.requestSentMs!));
  await expect(timings.locator('tr[data-timing="first-byte"]')).toContainText(formatMs(http.firstByteMs!));
  await expect(timings.locator('tr[data-timing="total"]')).toContainText(formatMs(verdictStep.details!.totalMs as number));
  for (const label of ['DNS', 'TCP', 'TLS', 'Request sent', 'Response headers', 'First body byte', 'Total']) await expect(timings).toContainText(label);

  // Copy as curl / openssl: exactly the verdict's reproduce commands.
  const reproduce = verdictStep.details!.reproduce as { curl: string; openssl: string };
  const panel = page.getByTestId('reproduce');
  await panel.getByRole('button', { name: 'Copy as curl' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(reproduce.curl);
  await panel.getByRole('button', { name: 'Copy as openssl s_client' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(reproduce.openssl);
  await expect(panel).toContainText('client.pem');
  await expect(panel).toContainText('client.key');

  // The files the commands name: the certificate at once, the key only after a warning.
  const [certDownload] = await Promise.all([page.waitForEvent('download'), panel.getByRole('button', { name: 'client.pem' }).click()]);
  expect(certDownload.suggestedFilename()).toBe('client.pem');
  expect(readFileSync(await certDownload.path(), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
  await panel.getByRole('button', { name: 'client.key (private key)…' }).click();
  await expect(panel.getByRole('alert')).toContainText('unencrypted private key of e2e-wire');
  const [keyDownload] = await Promise.all([page.waitForEvent('download'), panel.getByRole('button', { name: 'Download the private key' }).click()]);
  expect(keyDownload.suggestedFilename()).toBe('client.key');
  expect(readFileSync(await keyDownload.path(), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  // No frame ever carried the key back: downloads come from the browser's own key ring.
  expect(JSON.stringify(frames.messages)).not.toContain('PRIVATE KEY');
});

test('a cXML order is one click: POST with Content-Type text/xml, the body indented, the response shown', async ({ page }) => {
  const frames = await openHarness(page);
  await makeLabCredential(page, 'P-256', 'e2e-cxml');
  await page.getByRole('article', { name: 'e2e-cxml' }).getByRole('button', { name: 'Use in probe' }).click();

  await page.getByRole('button', { name: 'cXML example' }).click();
  await expect(page.getByRole('button', { name: 'Headers and body' })).toHaveAttribute('aria-expanded', 'true');
  await expect(page.getByLabel('Method')).toHaveValue('POST');
  await expect(page.getByLabel('Headers (one "Name: value" a line)')).toHaveValue('Content-Type: text/xml');
  await expect(page.getByLabel(/^Body/)).toHaveValue(/<cXML payloadID=/);

  const { runId, steps } = await runAndFinish(page, frames);
  expect(frames.finished(runId)?.outcome).toBe('pass');
  const requestEvent = findStep(steps as ProbeStep[], 'request')!;
  expect(requestEvent.details!.method).toBe('POST');
  expect((requestEvent.details!.headers as Record<string, string>)['Content-Type']).toBe('text/xml');
  expect(requestEvent.details!.bodyBytes).toBeGreaterThan(500);

  const request = await openStep(page, 'request');
  const sent = request.getByTestId('http-request');
  await expect(sent).toContainText('POST /orders');
  await expect(sent).toContainText('Content-Type: text/xml');
  await expect(sent).toContainText(`${String(requestEvent.details!.bodyBytes)} bytes`);
  await expect(sent.locator('pre')).toContainText('\n    <OrderRequest>\n      <OrderRequestHeader');

  const response = await openStep(page, 'response');
  const got = response.getByTestId('http-response');
  await expect(got).toContainText('HTTP/1.1 200');
  await expect(got).toContainText('content-type: application/json');
  await expect(got.locator('pre')).toContainText('"method": "POST"');
  await expect(got.locator('pre')).toContainText('"subject": "CN=e2e-cxml');

  const reproduce = findStep(steps as ProbeStep[], 'verdict')!.details!.reproduce as { curl: string };
  expect(reproduce.curl).toContain('--data-binary @body.txt');
  await expect(page.getByTestId('reproduce').getByRole('button', { name: 'body.txt' })).toBeVisible();

  mkdirSync(SCREENS, { recursive: true });
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.locator('li[data-step="tls"] button.line').click();
    await page.getByRole('heading', { name: /^Run r/ }).scrollIntoViewIfNeeded();
    await page.mouse.move(1270, 790);
    await page.screenshot({ path: `${SCREENS}/probe-wire-${colorScheme}.png` });
    await page.locator('li[data-step="tls"] button.line').click();
    await page.getByTestId('phase-timings').scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SCREENS}/probe-exchange-${colorScheme}.png` });
  }
});

test('a certificate from another CA gets the pre-flight warning; an unverified server still shows its chain', async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'probe-wire-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'),
      '-days', '30', '-subj', '/CN=e2e-elsewhere', '-addext', 'extendedKeyUsage=clientAuth'], { stdio: 'ignore' });
    const frames = await openHarness(page);
    await page.getByRole('link', { name: 'Keys & certs' }).click();
    const paste = page.getByRole('form', { name: 'Paste a certificate and key' });
    await paste.getByLabel('Certificate (PEM, leaf first, then intermediates)').fill(readFileSync(join(dir, 'c.pem'), 'utf8'));
    await paste.getByLabel('Private key (PEM, unencrypted)').fill(readFileSync(join(dir, 'k.pem'), 'utf8'));
    await paste.getByRole('button', { name: 'Add certificate and key' }).click();
    await page.getByRole('article', { name: 'e2e-elsewhere' }).getByRole('button', { name: 'Use in probe' }).click();

    // Without the lab's server CA, and with verification not enforced, the run goes on.
    await page.getByRole('button', { name: /Server trust/ }).click();
    await page.getByLabel("Trust the lab's server CA for lab targets").uncheck();
    await page.getByLabel("Stop the run if the server's certificate does not verify").uncheck();
    const { runId, steps } = await runAndFinish(page, frames);
    const diagnoses = frames.finished(runId)!.diagnoses;
    expect(diagnoses).toContain('client_ca_not_acceptable');

    const tlsEvent = findStep(steps as ProbeStep[], 'tls')!;
    expect(tlsEvent.details!.chainReachesAcceptableCA).toBe(false);
    expect(tlsEvent.details!.serverVerified).toBe(false);
    const tls = await openStep(page, 'tls');
    await expect(tls.getByTestId('preflight-warning')).toContainText('client_ca_not_acceptable');
    await expect(tls.getByTestId('preflight-warning')).toContainText('CN=e2e-elsewhere');
    await expect(tls.getByTestId('server-verification')).toContainText(`not verified: ${String(tlsEvent.details!.serverVerifyError)}`);
    await expect(tls.getByTestId('server-verification')).toContainText('trusted: system store');
    const serverChain = tlsEvent.details!.serverChain as Array<{ subject: string }>;
    expect(serverChain.length).toBeGreaterThan(0);
    await expect(tls.getByTestId('server-chain')).toContainText(serverChain[0]!.subject);
    mkdirSync(SCREENS, { recursive: true });
    await tls.scrollIntoViewIfNeeded();
    await page.mouse.move(1270, 790);
    await page.screenshot({ path: `${SCREENS}/probe-preflight-light.png` });

    const reproduce = findStep(steps as ProbeStep[], 'verdict')!.details!.reproduce as { curl: string };
    expect(reproduce.curl).toContain('--insecure');
    await expect(page.getByTestId('reproduce').locator('pre').first()).toHaveText(reproduce.curl);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
