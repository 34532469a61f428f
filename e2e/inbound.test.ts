// The inbound check against the real relay: a listener started from the page, real curl as the
// client (with a key-ring certificate saved through the page's own download buttons), and each
// connection appearing live with the verdict and diagnosis the relay's events carry.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test, expect, type Download, type Page } from '@playwright/test';
import { makeLabCredential, openHarness, relayOrigin } from './harness.ts';

const run = promisify(execFile);
const SCREENS = 'test-results/screens';

async function save(download: Promise<Download>, click: Promise<void>, to: string): Promise<string> {
  const [file] = await Promise.all([download, click]);
  await file.saveAs(to);
  return to;
}

/** curl as a partner's client would run it; resolves with its exit code and output, never rejects. */
async function curl(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run('curl', ['--silent', '--show-error', '--max-time', '10', ...args]);
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

function connectionRows(page: Page) {
  return page.getByRole('table').locator('tbody tr');
}

test('curl with a key-ring certificate passes live; a certificate from another CA and none at all are explained', async ({ page, context }) => {
  const dir = mkdtempSync(join(tmpdir(), 'inbound-e2e-'));
  try {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: relayOrigin() });
    const frames = await openHarness(page);
    await makeLabCredential(page, 'P-256', 'e2e-inbound');
    await page.getByRole('link', { name: 'Inbound check' }).click();
    await expect(page.getByRole('heading', { name: 'Inbound check', level: 1 })).toBeVisible();

    // The lab's client CA is the default bundle; let in only the key-ring certificate's CN.
    const lab = frames.messages.find((m) => m.type === 'welcome')?.relay.lab;
    await expect(page.getByRole('list', { name: 'Certificates in the bundle' })).toContainText(lab!.caSubject);
    await page.getByLabel('Take the CN from a key-ring certificate').selectOption({ label: 'e2e-inbound' });
    await expect(page.getByLabel('Subject CN must equal')).toHaveValue('e2e-inbound');
    await page.getByRole('button', { name: 'Start listener' }).click();

    const listener = page.getByTestId('listener');
    await expect(listener).toContainText('Listening on https://localhost:');
    const started = frames.messages.find((m) => m.type === 'inbound.started');
    expect(started).toBeDefined();
    if (started?.type !== 'inbound.started') throw new Error('no inbound.started');
    await expect(page.getByTestId('listener-url')).toHaveText(started.url);
    await expect(page.getByTestId('inbound-curl')).toHaveText(started.curl);
    await listener.getByRole('button', { name: 'Copy curl command' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(started.curl);

    // The files curl names, saved from the page: the listener's CA, the key-ring certificate and key.
    await save(page.waitForEvent('download'), listener.getByRole('button', { name: 'server-ca.pem' }).click(), join(dir, 'server-ca.pem'));
    await save(page.waitForEvent('download'), listener.getByRole('button', { name: 'client.pem', exact: true }).click(), join(dir, 'client.pem'));
    await listener.getByRole('button', { name: 'client.key (private key)…' }).click();
    await expect(listener.getByRole('alert')).toContainText('unencrypted private key of e2e-inbound');
    await save(page.waitForEvent('download'), listener.getByRole('button', { name: 'Download the private key' }).click(), join(dir, 'client.key'));

    // The command exactly as shown, run from the directory holding its files.
    const argv = started.curl.split(' ').slice(1);
    const good = await run('curl', ['--silent', '--show-error', '--max-time', '10', ...argv], { cwd: dir }).then((r) => r.stdout);
    expect(JSON.parse(good)).toMatchObject({ verdict: 'pass', status: 200 });
    const rows = connectionRows(page);
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toHaveAttribute('data-outcome', 'pass');
    await expect(rows.first()).toContainText('CN=e2e-inbound');
    const passRunId = (await rows.first().getAttribute('data-run'))!;
    expect(frames.messages.find((m) => m.type === 'run.finished' && m.runId === passRunId)).toMatchObject({ outcome: 'pass' });
    await expect(page.getByRole('heading', { name: `Run ${passRunId}` })).toBeVisible();
    await expect(page.getByTestId('verdict')).toHaveAttribute('data-outcome', 'pass');
    for (const id of ['tcp', 'tls', 'certificate', 'verify', 'rule', 'request', 'response']) {
      await expect(page.locator(`li[data-step="${id}"]`)).toHaveAttribute('data-status', 'ok');
    }
    await expect(page.locator('li[data-step="rule"]')).toContainText('matches "e2e-inbound"');

    // A certificate from a CA the listener does not trust.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'other.key'), '-out', join(dir, 'other.pem'),
      '-days', '30', '-subj', '/CN=e2e-inbound', '-addext', 'extendedKeyUsage=clientAuth'], { stdio: 'ignore' });
    const bad = await curl(['--cert', join(dir, 'other.pem'), '--key', join(dir, 'other.key'), '--cacert', join(dir, 'server-ca.pem'), started.url]);
    expect(bad.out).toContain('"The SSL certificate error"');
    await expect(rows).toHaveCount(2);
    const badRow = rows.first();
    await expect(badRow).toHaveAttribute('data-outcome', 'fail');
    const badRunId = (await badRow.getAttribute('data-run'))!;
    const badFinished = frames.messages.find((m) => m.type === 'run.finished' && m.runId === badRunId);
    if (badFinished?.type !== 'run.finished') throw new Error('no run.finished for the bad certificate');
    expect(badFinished.outcome).toBe('fail');
    const badCode = badFinished.diagnoses[0]!;
    await expect(badRow).toContainText(badCode);
    // Opening it shows the same timeline with the diagnosis and its fixes.
    await badRow.getByRole('button').click();
    await expect(page.getByRole('heading', { name: `Run ${badRunId}` })).toBeVisible();
    const diagnosis = page.getByRole('region', { name: `Diagnosis ${badCode}` });
    await expect(diagnosis).toBeVisible();
    await expect(diagnosis.getByRole('heading', { name: 'Fix on your side' })).toBeVisible();
    await expect(page.locator('li[data-step="verify"]')).toHaveAttribute('data-status', 'fail');
    await expect(page.locator('li[data-step="rule"]')).toHaveAttribute('data-status', 'skipped');

    // No certificate at all.
    const none = await curl(['--cacert', join(dir, 'server-ca.pem'), started.url]);
    expect(none.out).toContain('No required SSL certificate was sent');
    await expect(rows).toHaveCount(3);
    await expect(rows.first()).toHaveAttribute('data-outcome', 'fail');
    await expect(rows.first()).toContainText('client_cert_required');
    await expect(rows.first()).toContainText('no certificate');

    mkdirSync(SCREENS, { recursive: true });
    await rows.nth(1).getByRole('button').click();
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      await page.mouse.move(1270, 790);
      await page.evaluate(`document.querySelector('main').scrollTo(0, 0)`);
      await page.screenshot({ path: `${SCREENS}/inbound-${colorScheme}.png` });
      await page.evaluate(`document.querySelector('main').scrollTo(0, document.querySelector('.timeline').offsetTop - 16)`);
      await page.screenshot({ path: `${SCREENS}/inbound-run-${colorScheme}.png` });
    }

    await page.getByRole('button', { name: 'Stop listener' }).click();
    await expect(page.getByRole('button', { name: 'Start listener' })).toBeVisible();
    await expect.poll(() => frames.messages.some((m) => m.type === 'inbound.stopped')).toBe(true);
    // The connections stay to be read after the listener stopped.
    await expect(rows).toHaveCount(3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a workshop CA as the bundle: depth 1 refuses its intermediate-issued client with client_chain_too_deep, the suggested depth lets it in', async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'inbound-e2e-'));
  try {
    const frames = await openHarness(page);
    await page.getByRole('link', { name: 'Certificate workshop' }).click();
    for (const [kind, name] of [['Root CA', 'E2E Inbound Root'], ['Intermediate CA', 'E2E Inbound Issuing'], ['Client certificate', 'e2e-deep-client']] as const) {
      await page.getByRole('button', { name: '+ Make new…' }).click();
      await page.getByRole('radio', { name: kind }).check();
      await page.getByLabel('Common name (CN)').fill(name);
      await page.getByRole('button', { name: /^Make / }).click();
      await expect(page.getByRole('article', { name }).getByRole('status')).toHaveText('Made just now and kept in this browser.');
    }

    await page.getByRole('link', { name: 'Inbound check' }).click();
    await page.getByLabel('Take it from').selectOption({ label: 'E2E Inbound Issuing (intermediate CA, with its chain, workshop)' });
    const bundle = page.getByRole('list', { name: 'Certificates in the bundle' });
    await expect(bundle).toContainText('CN=E2E Inbound Issuing');
    await expect(bundle).toContainText('CN=E2E Inbound Root');
    await expect(page.getByText("this bundle's longest chain needs 2")).toBeVisible();
    await page.getByLabel('Verify depth').fill('1');
    await page.getByRole('button', { name: 'Start listener' }).click();

    const listener = page.getByTestId('listener');
    await expect(listener).toContainText('depth ≤ 1');
    await listener.getByLabel('From the key ring:').selectOption({ label: 'e2e-deep-client' });
    await save(page.waitForEvent('download'), listener.getByRole('button', { name: 'server-ca.pem' }).click(), join(dir, 'server-ca.pem'));
    await save(page.waitForEvent('download'), listener.getByRole('button', { name: 'client.pem', exact: true }).click(), join(dir, 'client.pem'));
    await listener.getByRole('button', { name: 'client.key (private key)…' }).click();
    await save(page.waitForEvent('download'), listener.getByRole('button', { name: 'Download the private key' }).click(), join(dir, 'client.key'));
    const url = (await page.getByTestId('listener-url').textContent())!;
    const args = ['--cert', join(dir, 'client.pem'), '--key', join(dir, 'client.key'), '--cacert', join(dir, 'server-ca.pem'), url];

    const tooDeep = await curl(args);
    expect(tooDeep.out).toContain('"The SSL certificate error"');
    const rows = connectionRows(page);
    await expect(rows.first()).toHaveAttribute('data-outcome', 'fail');
    await expect(rows.first()).toContainText('client_chain_too_deep');
    await expect(rows.first()).toContainText('CN=e2e-deep-client');
    const runId = (await rows.first().getAttribute('data-run'))!;
    expect(frames.messages.find((m) => m.type === 'run.finished' && m.runId === runId)).toMatchObject({ outcome: 'fail', diagnoses: ['client_chain_too_deep'] });
    await expect(page.getByRole('region', { name: 'Diagnosis client_chain_too_deep' })).toBeVisible();

    await page.getByRole('button', { name: 'Stop listener' }).click();
    await page.getByLabel('Verify depth').fill('2');
    await page.getByRole('button', { name: 'Start listener' }).click();
    const url2 = (await page.getByTestId('listener-url').textContent())!;
    const ok = await curl([...args.slice(0, -1), url2]);
    expect(JSON.parse(ok.out)).toMatchObject({ verdict: 'pass', status: 200 });
    await expect(rows).toHaveCount(2);
    await expect(rows.first()).toHaveAttribute('data-outcome', 'pass');
    await expect(page.locator('li[data-step="verify"]')).toContainText('depth 2 of at most 2');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
