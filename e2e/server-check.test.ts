// The Server check screen against a real nginx configured from what the screen says to install:
// a test CA made in the browser, the CA and CRL files downloaded, the nginx lines copied from the
// page; the check grades it A, and the same server without its subject rule C, each case with
// its evidence and timeline.
import { test, expect, type Page } from '@playwright/test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openHarness } from './harness.ts';
import { makeTestPki } from '../server/testing/test-pki.ts';
import { startNginx } from '../server/testing/nginx.ts';

const CN = 'cxml-supplier.coupahost.com';

async function saveDownload(page: Page, name: string, dir: string): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name, exact: true }).click()]);
  const path = join(dir, name);
  await file.saveAs(path);
  return path;
}

test('make a test CA, install what the screen says on nginx, check it: A, and C without the subject rule', async ({ page }) => {
  test.setTimeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'check-e2e-'));
  const pki = await makeTestPki();
  await openHarness(page);
  await page.getByRole('link', { name: 'Server check' }).click();
  await expect(page.getByRole('heading', { name: 'Server check', level: 1 })).toBeVisible();

  await page.getByRole('button', { name: 'Make a test CA' }).click();
  await expect(page.getByLabel('Root')).not.toHaveValue('');
  await expect(page.getByLabel('Intermediate')).not.toHaveValue('');
  await page.getByLabel('Server URL').fill('https://127.0.0.1/');
  await page.getByLabel('Required name').fill(CN);
  await page.getByLabel('Verify depth').fill('3');
  await page.getByLabel("Server's CA (optional)").fill(pki.serverCa.cert);

  await page.getByRole('button', { name: 'What to install' }).click();
  const kit = page.getByRole('region', { name: 'What to install on the server' });
  await expect(kit).toContainText('check-ca.pem');
  const caFile = await saveDownload(page, 'check-ca.pem', dir);
  const crlFile = await saveDownload(page, 'check-crl.pem', dir);
  expect(readFileSync(caFile, 'utf8')).not.toContain('PRIVATE KEY');
  expect(readFileSync(crlFile, 'utf8')).toContain('BEGIN X509 CRL');
  const nginxConf = (await kit.getByTestId('check-nginx').getByRole('button', { name: 'Copy nginx lines' }).getAttribute('data-copy')) ?? '';
  expect(nginxConf).toContain('ssl_verify_client on;');
  const site = (port: number, weaken: boolean) => {
    let s = nginxConf
      .replace('/etc/ssl/harness-check/check-ca.pem', caFile)
      .replace('/etc/ssl/harness-check/check-crl.pem', crlFile)
      .replace('/etc/ssl/private/server.pem', pki.server.certFile)
      .replace('/etc/ssl/private/server.key', pki.server.keyFile)
      .replace('listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`);
    if (weaken) s = s.replace(/ {2}if \(\$ssl_client_s_dn[\s\S]*?\n {2}\}\n/, '');
    return s;
  };
  writeFileSync(join(dir, 'nginx-from-page.conf'), nginxConf);
  const nginx = await startNginx({ sites: { good: (port) => site(port, false), noRule: (port) => site(port, true) } });
  try {
    await page.getByLabel('Server URL').fill(nginx.url('good'));
    await page.getByRole('button', { name: 'Run check' }).click();
    const grade = page.getByTestId('check-grade');
    await expect(grade).toHaveAttribute('data-grade', 'A', { timeout: 60_000 });
    const cases = page.getByRole('list', { name: 'Cases' }).locator(':scope > li');
    expect(await cases.count()).toBeGreaterThanOrEqual(13);
    await expect(page.locator('li[data-verdict="not_enforced"]')).toHaveCount(0);
    await expect(page.locator('li[data-case="no_certificate"]')).toContainText('must refuse');

    await page.getByLabel('Server URL').fill(nginx.url('noRule'));
    await page.getByRole('button', { name: 'Run check' }).click();
    await expect(grade).toHaveAttribute('data-grade', 'C', { timeout: 60_000 });
    await expect(grade).toContainText('NOT enforced: wrong_subject');
    const wrong = page.locator('li[data-case="wrong_subject"]');
    await expect(wrong).toHaveAttribute('data-verdict', 'not_enforced');
    await wrong.getByRole('button').first().click();
    await expect(wrong).toContainText('Fix on the server:');
    await expect(wrong.getByRole('list', { name: 'Steps' })).toBeVisible();
    await expect(wrong.getByTestId('verdict')).toHaveAttribute('data-outcome', 'pass');

    const [report] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download report' }).click()]);
    const html = readFileSync((await report.path())!, 'utf8');
    expect(html).toContain('Server check: grade C');
    expect(html).not.toContain('PRIVATE KEY');
  } finally {
    await nginx.stop();
  }
});

test('a check the relay cannot use is refused with the field named, before anything is sent', async ({ page }) => {
  await openHarness(page);
  await page.getByRole('link', { name: 'Server check' }).click();
  await page.getByRole('button', { name: 'Run check' }).click();
  await expect(page.getByRole('alert')).toContainText('Choose the test CA first');
  await page.getByRole('button', { name: 'Make a test CA' }).click();
  await expect(page.getByLabel('Intermediate')).not.toHaveValue('');
  await page.getByLabel('Server URL').fill('http://127.0.0.1:1/');
  await page.getByLabel('Required name').fill(CN);
  await page.getByRole('button', { name: 'Run check' }).click();
  await expect(page.getByRole('alert')).toContainText('url: the check speaks TLS');
  await expect(page.getByRole('list', { name: 'Cases' })).toHaveCount(0);
});

test('the JWT check against the lab, run from the screen: rows fill in, grade A, a case opens to its timeline, no key or assertion in the downloads', async ({ page }) => {
  test.setTimeout(120_000);
  // What the page sends: the signed assertions (secrets of this check) and never a key.
  const sent: string[] = [];
  page.on('websocket', (ws) => ws.on('framesent', (frame) => { if (typeof frame.payload === 'string') sent.push(frame.payload); }));
  const frames = await openHarness(page);
  await page.getByRole('link', { name: 'Server check' }).click();
  await page.getByRole('radio', { name: /Token endpoint \(JWT assertions\)/ }).check();
  await expect(page.getByLabel('Server URL')).toHaveCount(0);
  await page.getByRole('button', { name: "Use the lab's token endpoint" }).click();
  await expect(page.getByLabel('Client id')).toHaveValue(/^lab-reg-/);
  await expect(page.getByLabel('Token endpoint URL')).toHaveValue(/^https:\/\/localhost:\d+\/token$/);
  await expect(page.getByLabel('Key id (kid)')).not.toHaveValue('');
  await expect(page.getByText('not extractable — the assertions are signed in this tab and the key never leaves it')).toBeVisible();

  await page.getByRole('button', { name: 'Run check' }).click();
  const cases = page.getByRole('list', { name: 'Cases' }).locator(':scope > li');
  await expect(cases).toHaveCount(16);
  const grade = page.getByTestId('check-grade');
  await expect(grade).toHaveAttribute('data-grade', 'A', { timeout: 60_000 });
  await expect(grade).toContainText(/JWT check of https:\/\/localhost:\d+\/token \(private_key_jwt\): grade A — 16\/16 cases as required/);
  await expect(page.locator('li[data-verdict="enforced"]')).toHaveCount(16);
  // The rows filled in one case at a time, as the relay judged them.
  const judged = frames.messages.filter((m) => m.type === 'check.case');
  expect(judged).toHaveLength(16);

  const none = page.locator('li[data-case="alg_none"]');
  await expect(none).toContainText('must refuse');
  await none.getByRole('button').first().click();
  await expect(none.getByRole('list', { name: 'Steps' })).toBeVisible();
  await expect(none).toContainText('the server refused it (HTTP 401 invalid_client)');
  await none.getByText('Assertion sent').click();
  await expect(none.locator('details.assertion pre')).toContainText('"alg": "none"');

  const start = JSON.parse(sent.find((f) => f.includes('"check.start"'))!) as { kind: string; jwt: { assertions: Record<string, string> } };
  expect(start.kind).toBe('jwt');
  expect(Object.keys(start.jwt.assertions)).toHaveLength(15);
  const signatures = Object.values(start.jwt.assertions).map((t) => t.split('.')[2]!).filter((s) => s.length > 20);
  for (const f of sent) expect(f).not.toMatch(/PRIVATE KEY|privateKeyPem|"d":/);

  const [report] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download report' }).click()]);
  expect(report.suggestedFilename()).toBe('jwt-check-report.html');
  const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSON' }).click()]);
  for (const text of [readFileSync((await report.path())!, 'utf8'), readFileSync((await json.path())!, 'utf8')]) {
    expect(text).toContain('grade A');
    expect(text).not.toContain('PRIVATE KEY');
    for (const s of signatures) expect(text).not.toContain(s);
  }
});

test('the JWT and resource checks refuse what they lack on the screen, and the relay names a field it cannot use', async ({ page }) => {
  await openHarness(page);
  await page.getByRole('link', { name: 'Server check' }).click();
  await page.getByRole('radio', { name: /Token endpoint/ }).check();
  await page.getByRole('button', { name: 'Run check' }).click();
  await expect(page.getByRole('alert')).toContainText("Give the token endpoint's https:// URL");
  await page.getByLabel('Token endpoint URL').fill('http://127.0.0.1:1/token');
  await page.getByLabel('Client id').fill('acme');
  await page.getByRole('button', { name: 'Run check' }).click();
  await expect(page.getByRole('alert')).toContainText('tokenUrl: assertions travel only over TLS');
  await page.getByRole('radio', { name: /API \(access tokens\)/ }).check();
  await page.getByLabel('API URL').fill('https://127.0.0.1:1/api');
  await page.getByLabel('Access token', { exact: true }).fill('not-a-jwt');
  await page.getByRole('button', { name: 'Run check' }).click();
  await expect(page.getByRole('alert')).toContainText('accessToken: must be a signed JWT access token');
  await expect(page.getByRole('list', { name: 'Cases' })).toHaveCount(0);
});
