// A saved run reproduces anywhere: a probe saved from the app re-runs headless with the same
// outcome, and a fresh browser profile that opens the file without its key is asked for the key
// (Run refuses to probe without it) and then reproduces the run, judged by the file's expect.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect, type Page } from '@playwright/test';
import { openHarness, relayUrl, saveFile, verdictOf } from './harness.ts';

// Each test runs in the app, headless (a child process) and again in a fresh profile: the probe
// test took 58 s of the default 60 on a loaded two-core machine, and timed out twice.
test.describe.configure({ timeout: 150_000 });

function harnessRun(file: string): { code: number; out: string } {
  const r = spawnSync(process.execPath, ['bin/harness.js', 'run', file, '--check'], { encoding: 'utf8', env: process.env, timeout: 60_000 });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

test('a probe saved from the app re-runs headless and in a fresh profile, which asks for the missing key', async ({ page, browser }) => {
  await openHarness(page);
  await page.getByRole('button', { name: 'Run the lab demo' }).click();
  expect(await verdictOf(page)).toBe('pass');
  const { file: withSecrets } = await saveFile(page, 'Lab probe with key', { includeSecrets: true });
  const { file: withoutSecrets } = await saveFile(page, 'Lab probe');
  expect(withoutSecrets.expect).toEqual({ outcome: 'pass', diagnoses: [] });
  expect(JSON.stringify(withoutSecrets)).not.toContain('PRIVATE KEY');
  const keyPem = withSecrets.secrets.client_key.value as string;
  expect(keyPem).toContain('PRIVATE KEY');

  // Headless, with the secrets in the file and with the key in the file the scenario names.
  const dir = mkdtempSync(join(tmpdir(), 'roundtrip-'));
  writeFileSync(join(dir, 'with-key.json'), JSON.stringify(withSecrets));
  writeFileSync(join(dir, 'lab-probe.json'), JSON.stringify(withoutSecrets));
  writeFileSync(join(dir, 'client-key.pem'), keyPem);
  for (const file of ['with-key.json', 'lab-probe.json']) {
    const r = harnessRun(join(dir, file));
    expect(r.out).toContain('expectation met');
    expect(r.code).toBe(0);
  }

  // A fresh profile: nothing in its key ring.
  const other = await browser.newContext();
  const fresh = await other.newPage();
  await fresh.goto(relayUrl());
  const chooser = fresh.waitForEvent('filechooser');
  await fresh.getByRole('button', { name: 'Open scenario…' }).click();
  await (await chooser).setFiles(join(dir, 'lab-probe.json'));
  const need = fresh.getByRole('region', { name: 'The opened scenario needs the private key of its client certificate' });
  await expect(need).toContainText('client_key');
  await expect(need).toContainText('the file client-key.pem when run headless');
  await expect(fresh.getByTestId('scenario-report')).toContainText('give it in the box above the form');

  // Run says what is missing instead of running another test; the notice covers nothing.
  await fresh.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(fresh.getByRole('alert').filter({ hasText: 'presents a client certificate' })).toContainText('give its private key above (client_key)');
  await expect(fresh.getByTestId('verdict')).toHaveCount(0);

  await need.getByLabel('Private key (PEM) for this certificate').fill(keyPem);
  await need.getByRole('button', { name: 'Use this key' }).click();
  await expect(need).toHaveCount(0);
  await expect(fresh.getByLabel('Client certificate').locator('option:checked')).toContainText('lab-client');
  await fresh.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await verdictOf(fresh)).toBe('pass');
  await expect(fresh.getByTestId('scenario-expect')).toContainText('Scenario “Lab probe”: expectation met');
  await other.close();
});

/** Each token flow the app can run against the lab: how to set the form up. */
const FLOWS: { kind: string; setup?: (page: Page) => Promise<void>; env?: Record<string, string> }[] = [
  // The lab client made for this browser's key arrives after the form: wait for it, as a user sees it.
  { kind: 'JWT exchange', setup: (page) => expect(page.getByRole('form', { name: 'JWT exchange flow' }).getByLabel('Client id', { exact: true })).toHaveValue(/^lab-reg-/) },
  { kind: 'RFC 7523 grant', setup: (page) => expect(page.getByRole('form', { name: 'RFC 7523 grant flow' }).getByLabel('Issuer (iss)')).toHaveValue(/^lab-reg-/) },
  {
    kind: 'Client credentials',
    setup: async (page) => {
      const form = page.getByRole('form', { name: 'Client credentials flow' });
      await form.getByLabel('Method', { exact: true }).selectOption('private_key_jwt');
      await form.getByLabel('Assertion algorithm').selectOption('ES256');
      await expect(form.getByLabel('Client id', { exact: true })).toHaveValue(/^lab-reg-/);
    },
  },
  { kind: 'Discovery' },
  { kind: 'API key', env: { API_KEY: 'lab-api-key' } },
  { kind: 'Auth code + PKCE', env: { CLIENT_SECRET: 'lab-basic-secret' } },
];

for (const flow of FLOWS) {
  test(`token flow "${flow.kind}" saved from the app re-runs headless and in a fresh profile with the same outcome`, async ({ page, browser }) => {
    await openHarness(page);
    await page.getByRole('link', { name: 'Token flows' }).click();
    await page.getByRole('radio', { name: flow.kind, exact: true }).check();
    await flow.setup?.(page);
    const form = page.getByRole('form', { name: `${flow.kind} flow` });
    await form.getByRole('button', { name: 'Run', exact: true }).click();
    expect(await verdictOf(page)).toBe('pass');
    const { file: saved } = await saveFile(page, `${flow.kind} round trip`);
    const text = JSON.stringify(saved);
    expect(text).not.toMatch(/lab-reg-|eyJ[\w-]+\.eyJ/);

    const dir = mkdtempSync(join(tmpdir(), 'roundtrip-flow-'));
    writeFileSync(join(dir, 'flow.json'), text);
    const envNames = Object.keys(flow.env ?? {});
    const r = spawnSync(process.execPath, ['bin/harness.js', 'run', join(dir, 'flow.json'), '--check', ...envNames.flatMap((n) => ['--allow-env', n])], { encoding: 'utf8', env: { ...process.env, ...flow.env }, timeout: 60_000 });
    expect(`${r.stdout}${r.stderr}`).toContain('expectation met');
    expect(r.status).toBe(0);

    const other = await browser.newContext();
    const fresh = await other.newPage();
    await fresh.goto(relayUrl());
    await expect(fresh.getByTestId('relay-state')).toHaveText(/^connected/);
    await fresh.getByRole('link', { name: 'Token flows' }).click();
    const chooser = fresh.waitForEvent('filechooser');
    await fresh.getByRole('button', { name: 'Open scenario…' }).click();
    await (await chooser).setFiles(join(dir, 'flow.json'));
    await expect(fresh.getByTestId('scenario-report')).toContainText(`Opened ${flow.kind} round trip`);
    const freshForm = fresh.getByRole('form', { name: `${flow.kind} flow` });
    if (flow.kind === 'JWT exchange') await expect(freshForm.getByLabel('Client id', { exact: true })).toHaveValue(/^lab-reg-/);
    if (flow.kind === 'RFC 7523 grant') await expect(freshForm.getByLabel('Issuer (iss)')).toHaveValue(/^lab-reg-/);
    // The secrets a file names but does not hold are typed in, as a user would.
    if (flow.kind === 'API key') await freshForm.getByLabel('API key', { exact: true }).fill('lab-api-key');
    if (flow.env?.CLIENT_SECRET) await freshForm.getByLabel('Client secret', { exact: true }).fill(flow.env.CLIENT_SECRET);
    await freshForm.getByRole('button', { name: 'Run', exact: true }).click();
    expect(await verdictOf(fresh)).toBe('pass');
    await expect(fresh.getByTestId('scenario-expect')).toContainText('expectation met');
    await other.close();
  });
}
