// Revealing an issued token on the Token flows screen (local relay): masked until clicked, the
// value comes from one flow.reveal reply and is exactly what the relay was issued; it copies to
// the clipboard; and it reaches neither the run's events, the Runs history nor a downloaded
// transcript.
import { mkdirSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { openHarness, relayOrigin, verdictOf } from './harness.ts';
import type { ServerMessage } from '../shared/protocol/index.ts';

const SCREENS = process.env.HARNESS_SCREENS ?? 'test-results/screens';

test('client credentials: reveal and copy the access token; the timeline, Runs history and transcript never hold it', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: relayOrigin() });
  const frames = await openHarness(page);
  await page.getByRole('link', { name: 'Token flows' }).click();
  await page.getByRole('radio', { name: 'Client credentials', exact: true }).check();
  const form = page.getByRole('form', { name: 'Client credentials flow' });
  await form.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await verdictOf(page)).toBe('pass');

  const issued = page.getByRole('region', { name: 'Issued tokens' });
  await expect(issued.getByRole('button', { name: 'Reveal Access token' })).toBeVisible();
  await expect(issued.getByLabel('Access token hidden')).toBeVisible();
  // A client-credentials grant issues no refresh or ID token: nothing to reveal for them.
  await expect(issued.getByRole('button', { name: /Reveal (Refresh|ID) token/ })).toHaveCount(0);
  const reveals = () => frames.messages.filter((m): m is Extract<ServerMessage, { type: 'flow.token' }> => m.type === 'flow.token');
  expect(reveals(), 'masked by default: the relay sends nothing before the click').toEqual([]);

  await issued.getByRole('button', { name: 'Reveal Access token' }).click();
  const shown = issued.locator('pre');
  await expect(shown).toHaveText(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
  const token = (await shown.textContent())!;
  expect(reveals().map((m) => m.token)).toEqual([token]);
  mkdirSync(SCREENS, { recursive: true });
  await issued.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${SCREENS}/token-reveal.png` });

  await issued.getByRole('button', { name: 'Copy Access token' }).click();
  await expect(issued.getByRole('button', { name: 'Copy Access token' })).toContainText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
  await issued.getByRole('button', { name: 'Hide Access token' }).click();
  await expect(issued.getByLabel('Access token hidden')).toBeVisible();
  expect(await page.content()).not.toContain(token);

  // Everything else the relay sent for the run is masked; the response still names the token.
  const elsewhere = JSON.stringify(frames.messages.filter((m) => m.type !== 'flow.token'));
  expect(elsewhere).toContain('access_token');
  expect(elsewhere).not.toContain(token);

  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download transcript' }).click()]);
  const path = join(await mkdtemp(join(tmpdir(), 'reveal-e2e-')), file.suggestedFilename());
  await file.saveAs(path);
  const transcript = await readFile(path, 'utf8');
  expect(transcript).toContain('access_token');
  expect(transcript).not.toContain(token);

  expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain(token);
  await page.getByRole('link', { name: 'Runs' }).click();
  await expect(page.getByRole('heading', { name: 'Runs', level: 1 })).toBeVisible();
  await page.getByRole('row').filter({ has: page.getByRole('checkbox') }).nth(0).getByRole('button', { name: 'View' }).click();
  await expect(page.locator('li[data-step="exchange"]')).toBeVisible();
  expect(await page.content()).not.toContain(token);
});
