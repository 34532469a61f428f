// More runs that travel: a probe of a real server outside the lab (a Node HTTPS server on
// 127.0.0.1 that asks for a client certificate), a tls_client_auth token flow, an inbound check
// and a refresh-token run that uses the refresh token the relay kept from an Auth code run. Each
// is saved from the app, re-run headless with `harness run --check`, and opened in a fresh
// browser profile that is asked for what the file does not hold and reproduces the outcome.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect, type Browser, type Page } from '@playwright/test';
import { makeTestPki, type TestPki } from '../server/testing/test-pki.ts';
import { makeLabCredential, openHarness, relayUrl, saveFile, verdictOf } from './harness.ts';

const SCREENS = 'test-results/screens';

// Each test runs in the app, headless (a child process) and again in a fresh profile.
test.describe.configure({ timeout: 150_000 });

/** Asynchronous: the partner server lives in this test process and must keep answering meanwhile. */
function harnessRun(file: string, env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  const allow = Object.keys(env).flatMap((n) => ['--allow-env', n]);
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/harness.js', 'run', file, '--check', ...allow], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

/** A fresh profile (empty key ring) with the file opened on `screen`. */
async function openFresh(browser: Browser, screen: string, file: string): Promise<{ fresh: Page; close: () => Promise<void> }> {
  const other = await browser.newContext();
  const fresh = await other.newPage();
  await fresh.goto(relayUrl());
  await expect(fresh.getByTestId('relay-state')).toHaveText(/^connected/);
  await fresh.getByRole('link', { name: screen }).click();
  const chooser = fresh.waitForEvent('filechooser');
  await fresh.getByRole('button', { name: 'Open scenario…' }).click();
  await (await chooser).setFiles(file);
  return { fresh, close: () => other.close() };
}

test.describe('non-lab target', () => {
  let pki: TestPki;
  let server: Server;
  let url: string;

  test.beforeAll(async () => {
    pki = await makeTestPki();
    // A partner's server: TLS with its own CA, asks for a client certificate from its client CA.
    server = createServer({ key: pki.server.key, cert: pki.server.cert, ca: pki.clientCa.cert, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const authorized = (req.socket as import('node:tls').TLSSocket).authorized;
      res.writeHead(authorized ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ authorized }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://localhost:${(server.address() as AddressInfo).port}/orders`;
  });
  test.afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('a probe of a partner server saved from the app re-runs headless and in a fresh profile that asks for the key', async ({ page, browser }) => {
    await openHarness(page);
    await page.getByRole('link', { name: 'Keys & certs' }).click();
    const paste = page.getByRole('form', { name: 'Paste a certificate and key' });
    await paste.getByLabel('Certificate (PEM, leaf first, then intermediates)').fill(pki.client.cert);
    await paste.getByLabel('Private key (PEM, unencrypted)').fill(pki.client.key);
    await paste.getByRole('button', { name: 'Add certificate and key' }).click();
    await page.getByRole('article', { name: 'test-client' }).getByRole('button', { name: 'Use in probe' }).click();
    await page.getByLabel('Target URL').fill(url);
    await page.getByRole('button', { name: /Server trust/ }).click();
    await page.getByLabel('Server CA bundle (PEM, optional)').fill(pki.serverCa.cert);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    expect(await verdictOf(page)).toBe('pass');
    const { file: saved } = await saveFile(page, 'Partner probe');
    expect(saved.probe.url).toBe(url);
    expect(saved.secrets).toEqual({ client_key: { file: 'client-key.pem' } });
    expect(JSON.stringify(saved)).not.toContain('PRIVATE KEY');

    const dir = mkdtempSync(join(tmpdir(), 'roundtrip-partner-'));
    writeFileSync(join(dir, 'partner.json'), JSON.stringify(saved));
    writeFileSync(join(dir, 'client-key.pem'), pki.client.key);
    const r = await harnessRun(join(dir, 'partner.json'));
    expect(r.out).toContain('expectation met');
    expect(r.code).toBe(0);

    const { fresh, close } = await openFresh(browser, 'Probe', join(dir, 'partner.json'));
    const need = fresh.getByRole('region', { name: 'The opened scenario needs the private key of its client certificate' });
    await expect(need).toContainText('CN=test-client');
    await need.getByLabel('Private key (PEM) for this certificate').fill(pki.client.key);
    await need.getByRole('button', { name: 'Use this key' }).click();
    await fresh.getByRole('button', { name: 'Run', exact: true }).click();
    expect(await verdictOf(fresh)).toBe('pass');
    await expect(fresh.getByTestId('scenario-expect')).toContainText('Scenario “Partner probe”: expectation met');
    await close();
  });
});

test('tls_client_auth: a fresh profile gets the need card for the missing key, Run says what is missing, then reproduces the run', async ({ page, browser }) => {
  await openHarness(page);
  await makeLabCredential(page, 'P-256', 'e2e-tls-flow');
  await page.getByRole('link', { name: 'Token flows' }).click();
  await page.getByRole('radio', { name: 'Client credentials', exact: true }).check();
  const form = page.getByRole('form', { name: 'Client credentials flow' });
  await form.getByLabel('Method', { exact: true }).selectOption('tls_client_auth');
  await form.getByLabel('Client certificate', { exact: true }).selectOption({ label: (await form.getByLabel('Client certificate', { exact: true }).locator('option', { hasText: 'e2e-tls-flow' }).textContent())!.trim() });
  await form.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await verdictOf(page)).toBe('pass');
  const { file: withKey } = await saveFile(page, 'tls_client_auth with key', { includeSecrets: true });
  const { file: saved } = await saveFile(page, 'tls_client_auth');
  expect(saved.flow.tls.client.privateKeyPem).toEqual({ $secret: 'client_key' });
  const keyPem = withKey.secrets.client_key.value as string;

  const dir = mkdtempSync(join(tmpdir(), 'roundtrip-tls-'));
  writeFileSync(join(dir, 'tls.json'), JSON.stringify(saved));
  writeFileSync(join(dir, 'client-key.pem'), keyPem);
  const r = await harnessRun(join(dir, 'tls.json'));
  expect(r.out).toContain('expectation met');
  expect(r.code).toBe(0);

  const { fresh, close } = await openFresh(browser, 'Token flows', join(dir, 'tls.json'));
  const need = fresh.getByRole('region', { name: 'The opened scenario needs the private key of its client certificate' });
  await expect(need).toContainText('CN=e2e-tls-flow');
  await expect(need).toContainText('the file client-key.pem when run headless');
  const freshForm = fresh.getByRole('form', { name: 'Client credentials flow' });
  await freshForm.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(freshForm.getByRole('alert')).toContainText('give its private key above (client_key)');
  await expect(fresh.getByTestId('verdict')).toHaveCount(0);
  await fresh.screenshot({ path: `${SCREENS}/roundtrip-flow-need-card.png`, fullPage: true });
  await need.getByLabel('Private key (PEM) for this certificate').fill(keyPem);
  await need.getByRole('button', { name: 'Use this key' }).click();
  await expect(need).toHaveCount(0);
  await freshForm.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await verdictOf(fresh)).toBe('pass');
  await expect(fresh.getByTestId('scenario-expect')).toContainText('Scenario “tls_client_auth”: expectation met');
  await close();
});

test('an inbound check saved from the app re-runs headless and in a fresh profile with the same verdict and diagnosis', async ({ page, browser }) => {
  await openHarness(page);
  await makeLabCredential(page, 'P-256', 'e2e-inbound-rt');
  await page.getByRole('link', { name: 'Inbound check' }).click();
  // Only a partner's CN is let in: the key-ring client is refused by the access rule.
  await page.getByLabel('Subject CN must equal').fill('partner-only');
  await page.getByLabel('Test client').selectOption({ label: 'e2e-inbound-rt' });
  await page.getByRole('button', { name: 'Start and connect ▶' }).click();
  const rows = page.getByRole('table').locator('tbody tr');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute('data-outcome', 'fail');
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-outcome', 'fail');
  await page.screenshot({ path: `${SCREENS}/roundtrip-inbound-connect.png`, fullPage: true });
  const { file: withKey } = await saveFile(page, 'Inbound with key', { includeSecrets: true });
  const { file: saved } = await saveFile(page, 'Inbound partner-only');
  expect(saved.kind).toBe('inbound');
  expect(saved.expect).toEqual({ outcome: 'fail', diagnoses: ['access_denied'] });
  expect(saved.inbound.listener.rule).toEqual({ cnEquals: 'partner-only' });
  expect(saved.inbound.client.privateKeyPem).toEqual({ $secret: 'client_key' });
  expect(JSON.stringify(saved)).not.toContain('PRIVATE KEY');
  const keyPem = withKey.secrets.client_key.value as string;

  const dir = mkdtempSync(join(tmpdir(), 'roundtrip-inbound-'));
  writeFileSync(join(dir, 'inbound.json'), JSON.stringify(saved));
  writeFileSync(join(dir, 'with-key.json'), JSON.stringify(withKey));
  writeFileSync(join(dir, 'client-key.pem'), keyPem);
  for (const file of ['inbound.json', 'with-key.json']) {
    const r = await harnessRun(join(dir, file));
    expect(r.out).toContain('expectation met');
    expect(r.out).toContain('access_denied');
    expect(r.code).toBe(0);
  }

  const { fresh, close } = await openFresh(browser, 'Inbound check', join(dir, 'inbound.json'));
  await expect(fresh.getByLabel('Subject CN must equal')).toHaveValue('partner-only');
  const need = fresh.getByRole('region', { name: 'The opened scenario needs the private key of its client certificate' });
  await expect(need).toContainText('CN=e2e-inbound-rt');
  await fresh.getByRole('button', { name: 'Start and connect ▶' }).click();
  await expect(fresh.getByRole('alert')).toContainText('give its private key above (client_key)');
  await need.getByLabel('Private key (PEM) for this certificate').fill(keyPem);
  await need.getByRole('button', { name: 'Use this key' }).click();
  await expect(need).toHaveCount(0);
  await fresh.getByRole('button', { name: 'Start and connect ▶' }).click();
  await expect(fresh.getByTestId('verdict')).toHaveAttribute('data-outcome', 'fail');
  await expect(fresh.getByTestId('scenario-expect')).toContainText('Scenario “Inbound partner-only”: expectation met');
  await fresh.screenshot({ path: `${SCREENS}/roundtrip-inbound-fresh.png`, fullPage: true });
  await close();
});

test('refresh token: the one the relay kept from an Auth code run is used, saved as one the lab issues, and reproduced headless and in a fresh profile', async ({ page, browser }) => {
  const runAuthCode = async (p: Page) => {
    await p.getByRole('radio', { name: 'Auth code + PKCE', exact: true }).check();
    const form = p.getByRole('form', { name: 'Auth code + PKCE flow' });
    await form.getByRole('button', { name: 'Run', exact: true }).click();
    expect(await verdictOf(p)).toBe('pass');
  };
  await openHarness(page);
  await page.getByRole('link', { name: 'Token flows' }).click();
  await runAuthCode(page);
  await page.getByRole('radio', { name: 'Refresh token', exact: true }).check();
  const form = page.getByRole('form', { name: 'Refresh token flow' });
  await expect(form.getByLabel('Refresh token from')).toHaveValue(/^r[0-9a-f]{12}$/);
  await expect(form.getByLabel('Refresh token', { exact: true })).toHaveCount(0);
  await page.screenshot({ path: `${SCREENS}/roundtrip-refresh-source.png`, fullPage: true });
  await form.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await verdictOf(page)).toBe('pass');
  const { file: saved } = await saveFile(page, 'Refresh from auth code');
  expect(saved.secrets.refresh_token).toEqual({ lab: 'refresh-token:lab-basic' });
  expect(JSON.stringify(saved)).not.toMatch(/refreshTokenFromRun|"r[0-9a-f]{12}"/);

  const dir = mkdtempSync(join(tmpdir(), 'roundtrip-refresh-'));
  writeFileSync(join(dir, 'refresh.json'), JSON.stringify(saved));
  const r = await harnessRun(join(dir, 'refresh.json'), { CLIENT_SECRET: 'lab-basic-secret' });
  expect(r.out).toContain('expectation met');
  expect(r.code).toBe(0);

  const { fresh, close } = await openFresh(browser, 'Token flows', join(dir, 'refresh.json'));
  await expect(fresh.getByTestId('scenario-report')).toContainText('run Auth code + PKCE first');
  const freshForm = fresh.getByRole('form', { name: 'Refresh token flow' });
  await freshForm.getByLabel('Client secret', { exact: true }).fill('lab-basic-secret');
  await freshForm.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(freshForm.getByRole('alert')).toContainText('run Auth code + PKCE first');
  await runAuthCode(fresh);
  await fresh.getByRole('radio', { name: 'Refresh token', exact: true }).check();
  await expect(freshForm.getByLabel('Refresh token from')).toHaveValue(/^r[0-9a-f]{12}$/);
  await freshForm.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await verdictOf(fresh)).toBe('pass');
  await expect(fresh.getByTestId('scenario-expect')).toContainText('Scenario “Refresh from auth code”: expectation met');
  await close();
});
