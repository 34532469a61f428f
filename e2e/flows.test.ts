// Token flows in real Chromium against the real relay and its lab: the JWT exchange signed in
// the browser, a lab refusal explained, the API-key call, and authorization code + PKCE +
// refresh through a real popup — each run checked against the events the relay sent.
import { mkdirSync } from 'node:fs';
import { test, expect, type Page } from '@playwright/test';
import { expectTimelineMatchesEvents, makeLabCredential, openHarness, verdictOf, type RelayFrames } from './harness.ts';
import { findStep } from '../shared/protocol/index.ts';

// Screens for people to look at; HARNESS_SCREENS moves them out of test-results.
const SCREENS = process.env.HARNESS_SCREENS ?? 'test-results/screens';

async function openFlows(page: Page, kind: string): Promise<RelayFrames> {
  const frames = await openHarness(page);
  await page.getByRole('link', { name: 'Token flows' }).click();
  await expect(page.getByRole('heading', { name: 'Token flows', level: 1 })).toBeVisible();
  await page.getByRole('radio', { name: kind, exact: true }).check();
  return frames;
}

function lastRun(frames: RelayFrames): string {
  const ids = frames.runIds();
  expect(ids.length).toBeGreaterThan(0);
  return ids.at(-1)!;
}

async function openStep(page: Page, id: string) {
  const row = page.locator(`li[data-step="${id}"]`);
  const toggle = row.locator('button.line');
  if ((await toggle.getAttribute('aria-expanded')) === 'false') await toggle.click();
  return row;
}

test('seed JWT exchange: signed in the browser, exchanged at the lab, access token masked and its claims decoded', async ({ page }) => {
  const frames = await openFlows(page, 'JWT exchange');
  const form = page.getByRole('form', { name: 'JWT exchange flow' });
  await expect(form.getByLabel('Token URL', { exact: true })).toHaveValue(/^https:\/\/localhost:\d+\/exchange$/);
  // The lab client made for this browser's key (only its public JWK was sent).
  await expect(form.getByLabel('Client id', { exact: true })).toHaveValue(/^lab-reg-/);
  const secret = form.getByLabel('Client secret', { exact: true });
  await expect(secret).toHaveAttribute('type', 'password');
  await form.getByRole('button', { name: 'Reveal client secret' }).click();
  await expect(secret).toHaveAttribute('type', 'text');
  await form.getByRole('button', { name: 'Hide client secret' }).click();
  await expect(secret).toHaveAttribute('type', 'password');
  await expect(form.getByLabel('JWT field')).toHaveValue('jwt_token');
  await expect(form).toContainText("Signed here at run time with this browser's RS256 key");

  await form.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await verdictOf(page)).toBe('pass');
  const runId = lastRun(frames);
  const steps = await expectTimelineMatchesEvents(page, frames, runId);
  expect(steps.map((s) => s.id)).toEqual(['inputs', 'exchange', 'token', 'call', 'verdict']);

  // The exact request, masked.
  const exchange = await openStep(page, 'exchange');
  const clientId = await form.getByLabel('Client id', { exact: true }).inputValue();
  await expect(exchange).toContainText('POST https://localhost:');
  await expect(exchange).toContainText(`client_id=${clientId}&client_secret=••••••&jwt_token=••••••`);
  // The JWT that was sent, decoded, with no lint finding.
  const sent = exchange.getByTestId('jwt-evidence');
  await expect(sent).toContainText('"alg":"RS256"');
  await expect(sent).toContainText(`"iss": "${clientId}"`);
  await expect(sent).toContainText('"sub": "user-42"');

  // The access token: masked, never in an event; its claims decoded and verified.
  const token = await openStep(page, 'token');
  const access = token.getByTestId('jwt-evidence');
  await expect(access).toContainText('Signature and value masked: ••••••');
  await expect(access).toContainText('"sub": "user-42"');
  await expect(access).toContainText(`"client_id": "${clientId}"`);
  await expect(access).toContainText("✓ signature verified with the server's key");
  const tokenStep = frames.finalSteps(runId).find((s) => s.id === 'token')!;
  expect(JSON.stringify(tokenStep)).not.toMatch(/eyJ[\w-]{10,}\.eyJ/);
  await expect(page.locator('li[data-step="call"]')).toContainText('API call: HTTP 200');
  // A curl command per HTTP call, secrets as variables.
  await expect(page.getByRole('region', { name: 'Reproduce outside the harness' })).toContainText('"jwt_token=${JWT_TOKEN}"');
});

test('RFC 7523 grant with the wrong audience fails at the lab with jwt_audience_mismatch and its fixes', async ({ page }) => {
  const frames = await openFlows(page, 'RFC 7523 grant');
  const form = page.getByRole('form', { name: 'RFC 7523 grant flow' });
  await expect(form.getByLabel('Issuer (iss)')).toHaveValue(/^lab-reg-/);
  await form.getByLabel('Audience (aud)').fill('https://login.partner.example/oauth2/token');
  await page.keyboard.press('Control+Enter');
  expect(await verdictOf(page)).toBe('fail');
  const runId = lastRun(frames);
  const steps = await expectTimelineMatchesEvents(page, frames, runId);
  expect(frames.finished(runId)?.diagnoses).toEqual(['jwt_audience_mismatch']);
  const diagnosed = steps.find((s) => s.diagnosis?.code === 'jwt_audience_mismatch')!;
  const diagnosis = page.getByRole('region', { name: 'Diagnosis jwt_audience_mismatch' });
  await expect(diagnosis.getByTestId('diagnosis-code')).toHaveText('jwt_audience_mismatch');
  await expect(diagnosis.getByRole('heading', { name: 'Fix on your side' })).toBeVisible();
  await expect(diagnosis).toContainText(diagnosed.diagnosis!.fix.client);
  await expect(diagnosis).toContainText(diagnosed.diagnosis!.fix.server);
  await expect(page.getByTestId('verdict')).toContainText('jwt_audience_mismatch');
  // The refused assertion is shown decoded with the lint finding that explains it.
  const exchange = page.locator('li[data-step="exchange"]');
  await expect(exchange.getByTestId('jwt-evidence')).toContainText('"aud": "https://login.partner.example/oauth2/token"');
  await expect(exchange.getByTestId('jwt-evidence')).toContainText('aud_mismatch');
});

test('API key call against the lab passes with the key masked', async ({ page }) => {
  const frames = await openFlows(page, 'API key');
  const form = page.getByRole('form', { name: 'API key flow' });
  await expect(form.getByLabel('URL to call')).toHaveValue(/\/api\/key-resource$/);
  await expect(form.getByLabel('API key', { exact: true })).toHaveAttribute('type', 'password');
  await expect(form.getByLabel('API key header name')).toHaveValue('apiKey');
  await form.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await verdictOf(page)).toBe('pass');
  const runId = lastRun(frames);
  await expectTimelineMatchesEvents(page, frames, runId);
  const call = await openStep(page, 'call');
  await expect(call).toContainText('apiKey: ••••••');
  await expect(call).toContainText('username: lab-user');
  await expect(call).toContainText('HTTP 200');
});

test('authorization code + PKCE + refresh through the real popup, then the state-dropping issuer gives state_missing', async ({ page }) => {
  const frames = await openFlows(page, 'Auth code + PKCE');
  const form = page.getByRole('form', { name: 'Auth code + PKCE flow' });
  await expect(form.getByLabel('Method', { exact: true })).toHaveValue('client_secret_basic');
  await expect(form.getByLabel('Client id', { exact: true })).toHaveValue('lab-basic');

  const popupOpened = page.waitForEvent('popup');
  await form.getByRole('button', { name: 'Run', exact: true }).click();
  const popup = await popupOpened;
  // The popup goes to the lab's authorization endpoint, which redirects it to the relay.
  await popup.waitForURL(/\/callback\//, { timeout: 15_000 }).catch(() => {});
  expect(await verdictOf(page)).toBe('pass');
  let runId = lastRun(frames);
  const steps = await expectTimelineMatchesEvents(page, frames, runId);
  expect(steps.map((s) => [s.id, s.status])).toEqual([
    ['inputs', 'ok'],
    ['discovery', 'ok'],
    ['authorize', 'ok'],
    ['callback', 'ok'],
    ['exchange', 'ok'],
    ['token', 'ok'],
    ['call', 'ok'],
    ['refresh', 'ok'],
    ['verdict', 'ok'],
  ]);
  const authorize = findStep(steps, 'authorize')!;
  expect(String(authorize.details?.authorizationUrl)).toMatch(/code_challenge_method=S256/);
  expect(String(authorize.details?.authorizationUrl)).toMatch(/state=/);
  const callback = await openStep(page, 'callback');
  await expect(callback).toContainText(String(authorize.details?.state));
  await expect.poll(() => popup.isClosed()).toBe(true);
  const refresh = await openStep(page, 'refresh');
  await expect(refresh).toContainText('refresh_token=••••••');
  mkdirSync(SCREENS, { recursive: true });
  await page.evaluate(`document.querySelector('main').scrollBy(0, document.querySelector('.timeline').getBoundingClientRect().top - 64)`);
  await page.mouse.move(1270, 790);
  await page.screenshot({ path: `${SCREENS}/flows-authcode-light.png` });

  // A lab issuer that drops state: the run stops at the callback with state_missing.
  await form.getByLabel('Lab issuer').selectOption({ label: 'Lab issuer that drops state' });
  await expect(form).toContainText('state_missing');
  const second = page.waitForEvent('popup');
  await page.keyboard.press('Control+Enter');
  await second;
  expect(await verdictOf(page)).toBe('fail');
  runId = lastRun(frames);
  await expectTimelineMatchesEvents(page, frames, runId);
  expect(frames.finished(runId)?.diagnoses).toEqual(['state_missing']);
  const diagnosis = page.getByRole('region', { name: 'Diagnosis state_missing' });
  await expect(diagnosis.getByTestId('diagnosis-code')).toHaveText('state_missing');
  await expect(diagnosis.getByRole('heading', { name: 'Fix on the server side' })).toBeVisible();
  await expect(page.locator('li[data-step="exchange"]')).toHaveAttribute('data-status', 'skipped');
});

test('client credentials: private_key_jwt assertion signed in the browser, then tls_client_auth with a key-ring certificate', async ({ page }) => {
  const frames = await openHarness(page);
  await makeLabCredential(page, 'P-256', 'e2e-flow-mtls');
  await page.getByRole('link', { name: 'Token flows' }).click();
  await page.getByRole('radio', { name: 'Client credentials', exact: true }).check();
  const form = page.getByRole('form', { name: 'Client credentials flow' });
  await form.getByLabel('Method', { exact: true }).selectOption('private_key_jwt');
  await expect(form.getByLabel('Client id', { exact: true })).toHaveValue(/^lab-reg-/);
  await form.getByLabel('Assertion algorithm').selectOption('ES256');
  await expect(form).toContainText("Signed here at run time with this browser's ES256 key");
  await form.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await verdictOf(page)).toBe('pass');
  let runId = lastRun(frames);
  await expectTimelineMatchesEvents(page, frames, runId);
  const exchange = await openStep(page, 'exchange');
  await expect(exchange).toContainText('client_assertion=••••••');
  await expect(exchange.getByTestId('jwt-evidence')).toContainText('"alg":"ES256"');

  await form.getByLabel('Method', { exact: true }).selectOption('tls_client_auth');
  await expect(form.getByLabel('Client id', { exact: true })).toHaveValue('lab-mtls');
  const option = form.getByLabel('Client certificate').locator('option', { hasText: 'e2e-flow-mtls' });
  await form.getByLabel('Client certificate').selectOption((await option.getAttribute('value'))!);
  await expect(form).toContainText("Run sends e2e-flow-mtls's certificate and private key to the relay");
  await form.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await verdictOf(page)).toBe('pass');
  runId = lastRun(frames);
  const steps = await expectTimelineMatchesEvents(page, frames, runId);
  const token = findStep(steps, 'token')!;
  expect((token.details?.accessToken as { binding?: { matches?: boolean } }).binding?.matches).toBe(true);
  await expect(await openStep(page, 'token')).toContainText('certificate-bound');
});

for (const colorScheme of ['light', 'dark'] as const) {
  test(`token flows at 1280×800 (${colorScheme})`, async ({ page }) => {
    mkdirSync(SCREENS, { recursive: true });
    await page.emulateMedia({ colorScheme });
    await openFlows(page, 'JWT exchange');
    await expect(page.getByLabel('Client id', { exact: true })).toHaveValue(/^lab-reg-/);
    await page.mouse.move(1270, 790);
    await page.screenshot({ path: `${SCREENS}/flows-form-${colorScheme}.png` });
    await page.getByRole('radio', { name: 'RFC 7523 grant' }).check();
    await page.getByLabel('Audience (aud)').fill('https://login.partner.example/oauth2/token');
    await page.keyboard.press('Control+Enter');
    expect(await verdictOf(page)).toBe('fail');
    await page.evaluate(`document.querySelector('main').scrollBy(0, document.querySelector('.timeline').getBoundingClientRect().top - 64)`);
    await page.mouse.move(1270, 790);
    await page.screenshot({ path: `${SCREENS}/flows-fail-${colorScheme}.png` });
    await page.getByRole('radio', { name: 'JWT exchange' }).check();
    await page.keyboard.press('Control+Enter');
    expect(await verdictOf(page)).toBe('pass');
    await openStep(page, 'token');
    await page.evaluate(`document.querySelector('main').scrollBy(0, document.querySelector('.timeline').getBoundingClientRect().top - 64)`);
    await page.mouse.move(1270, 790);
    await page.screenshot({ path: `${SCREENS}/flows-pass-${colorScheme}.png` });
    const overflow = await page.evaluate(`[...document.querySelectorAll('body, main, .timeline, .card')].filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.className)`);
    expect(overflow).toEqual([]);
  });
}
