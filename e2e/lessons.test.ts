// Every lesson in real Chromium against the real relay and its lab: set it up and run its broken
// path, "Check my work" names the unmet condition; then the trainer's "Set up the solution", run,
// and the check passes — judged from the runs the app recorded, nothing else.
import { mkdirSync, readFileSync } from 'node:fs';
import { test, expect, type Page } from '@playwright/test';
import { makeLabCredential, relayUrl, verdictOf } from './harness.ts';

const SCREENS = process.env.HARNESS_SCREENS ?? 'test-results/screens';

/** Lesson id → the run outcome of its broken setup, and the condition "Check my work" must name. */
const LESSONS: [string, 'pass' | 'fail', RegExp][] = [
  ['no-client-certificate', 'fail', /^the run's outcome is pass$/],
  ['wrong-ca', 'fail', /^the run's outcome is pass$/],
  ['coupa-cxml', 'fail', /^the run's outcome is pass$/],
  ['workfront-jwt-exchange', 'fail', /^the run's outcome is pass$/],
  ['jwt-clock-skew', 'fail', /^the run's outcome is pass$/],
  ['jwt-expired', 'fail', /^the run's outcome is pass$/],
  ['webhook-state', 'fail', /^no finished run of a token flow of lab:issuer/],
  ['webhook-refresh-retry', 'fail', /^no finished run of a token flow of lab:revoked-token/],
  ['api-key-username', 'fail', /^the run's outcome is pass$/],
  ['certificate-bound-token', 'fail', /^the run's outcome is pass$/],
  ['missing-intermediate', 'fail', /^the run's outcome is pass$/],
  ['expired-client-certificate', 'fail', /^the run's outcome is pass$/],
  ['genesys-rotation', 'fail', /^the run's outcome is pass$/],
];

async function openLessons(page: Page, trainer: boolean): Promise<void> {
  // `trainer` in the query opens the trainer view (the token is taken out of the URL, it stays).
  await page.goto(trainer ? `${relayUrl()}&trainer` : relayUrl());
  await expect(page.getByTestId('relay-state')).toHaveText(/^connected/);
  await page.getByRole('link', { name: 'Lessons' }).click();
  await expect(page.getByRole('heading', { name: 'Lessons', level: 1 })).toBeVisible();
}

/** Presses Run on the screen the lesson opened (a popup for authorization code) and waits for the verdict. */
async function runOnScreen(page: Page, popupExpected: boolean): Promise<string> {
  const heading = page.getByRole('heading', { level: 1 });
  await expect(heading).toHaveText(/^(Probe|Token flows)$/);
  const run = page.locator('main').getByRole('button', { name: /^Run\b/ }).first();
  await expect(run).toBeEnabled();
  const popup = popupExpected ? page.waitForEvent('popup') : null;
  await run.click();
  await popup;
  return verdictOf(page);
}

async function checkLesson(page: Page) {
  await page.getByRole('link', { name: 'Lessons' }).click();
  await page.getByRole('button', { name: 'Check my work' }).click();
  return page.getByTestId('lesson-verdict');
}

for (const [id, brokenOutcome, unmet] of LESSONS) {
  test(`lesson ${id}: the broken setup fails the check naming what is unmet, the solution passes it`, async ({ page }) => {
    await openLessons(page, true);
    const item = page.locator(`button[data-lesson="${id}"]`);
    await item.click();
    const lesson = page.locator(`article[data-lesson="${id}"]`);
    await expect(lesson).toBeVisible();

    // Nothing run since setting up: the check says so.
    await lesson.getByRole('button', { name: 'Set up the lesson' }).click();
    expect(await runOnScreen(page, id.startsWith('webhook-'))).toBe(brokenOutcome);
    let verdict = await checkLesson(page);
    await expect(verdict).toHaveAttribute('data-solved', 'false');
    await expect(verdict.getByTestId('unmet')).toHaveText(unmet);
    await expect(item).toHaveAttribute('data-state', 'started');

    // The trainer's solution, followed through the app.
    await lesson.getByRole('region', { name: 'Solution' }).getByRole('button', { name: 'Set up the solution' }).click();
    expect(await runOnScreen(page, id.startsWith('webhook-'))).toBe('pass');
    verdict = await checkLesson(page);
    await expect(verdict).toHaveAttribute('data-solved', 'true');
    await expect(verdict).toContainText('Solved.');
    await expect(item).toHaveAttribute('data-state', 'solved');
  });
}

// A learner without the trainer's button: the lab CA that fixes the lesson is a choice on the key's card.
for (const [id, labCa, commonName] of [['missing-intermediate', 'Intermediate CA (chain included)', 'acme-orders-renewed'], ['genesys-rotation', 'Regional CA EMEA', 'acme-genesys-2027']] as const) {
  test(`lesson ${id}: a learner solves it on Keys & certs by choosing the lab CA`, async ({ page }) => {
    await openLessons(page, false);
    await page.locator(`button[data-lesson="${id}"]`).click();
    await page.locator(`article[data-lesson="${id}"]`).getByRole('button', { name: 'Set up the lesson' }).click();
    expect(await runOnScreen(page, false)).toBe('fail');
    await makeLabCredential(page, 'P-256', commonName, labCa);
    await page.getByRole('article', { name: commonName }).getByRole('button', { name: 'Use in probe' }).click();
    expect(await runOnScreen(page, false)).toBe('pass');
    const verdict = await checkLesson(page);
    await expect(verdict).toHaveAttribute('data-solved', 'true');
  });
}

test('hints open one at a time, progress survives a reload, the solution shows only in the trainer view', async ({ page }) => {
  await openLessons(page, false);
  const lesson = page.locator('article[data-lesson="no-client-certificate"]');
  await expect(lesson.getByRole('region', { name: 'Solution' })).toHaveCount(0);
  const hints = lesson.getByRole('region', { name: 'Hints' });
  await expect(hints.getByRole('listitem')).toHaveCount(0);
  await hints.getByRole('button', { name: 'Show hint 1 of 3' }).click();
  await expect(hints.getByRole('listitem')).toHaveCount(1);
  await hints.getByRole('button', { name: 'Show hint 2 of 3' }).click();
  await expect(hints.getByRole('listitem')).toHaveCount(2);
  await page.reload();
  await page.getByRole('link', { name: 'Lessons' }).click();
  await expect(page.locator('article[data-lesson="no-client-certificate"]').getByRole('region', { name: 'Hints' }).getByRole('listitem')).toHaveCount(2);
  await page.getByLabel('Trainer view').check();
  await expect(page.getByRole('region', { name: 'Solution' })).toContainText('Get a lab certificate');
});

test('a lesson file that does not parse is listed with its field; a good one joins the catalogue', async ({ page }) => {
  await openLessons(page, false);
  await page.getByLabel('Lesson file').setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ version: 1, id: 'x', title: 'X', topic: 't', story: 's', task: 't', hints: ['h'], setup: { screen: 'probe', scenario: { kind: 'probe', probe: { url: 'lab:mtls' } } }, solution: { steps: ['s'], setup: { screen: 'probe', scenario: { kind: 'probe', probe: { url: 'lab:mtls' } } } }, check: { kind: 'probe', target: 'lab:mtls', diagnoses: ['made_up'] } })) });
  await expect(page.getByRole('alert')).toContainText('broken.json — check.diagnoses[0]: "made_up" is not a diagnosis code the harness knows');
  await expect(page.locator('button[data-lesson]')).toHaveCount(13);

  const good = JSON.parse(readFileSync('web/src/lib/lessons/catalogue/01-no-client-certificate.json', 'utf8')) as Record<string, unknown>;
  await page.getByLabel('Lesson file').setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ ...good, id: 'my-own-lesson', title: 'A trainer\'s own lesson' })) });
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expect(page.locator('button[data-lesson]')).toHaveCount(14);
  await expect(page.getByRole('heading', { name: 'A trainer\'s own lesson', level: 2 })).toBeVisible();
});

for (const [name, size] of [['1280x800', { width: 1280, height: 800 }], ['1024x768', { width: 1024, height: 768 }], ['phone', { width: 390, height: 844 }]] as const) {
  for (const colorScheme of ['light', 'dark'] as const) {
    test(`lessons screen at ${name} (${colorScheme})`, async ({ page }) => {
      await page.setViewportSize(size);
      await page.emulateMedia({ colorScheme });
      await openLessons(page, true);
      await page.locator('button[data-lesson="coupa-cxml"]').click();
      const hints = page.getByRole('region', { name: 'Hints' });
      await hints.getByRole('button', { name: /^Show hint 1/ }).click();
      await page.getByRole('button', { name: 'Check my work' }).click();
      await expect(page.getByTestId('lesson-verdict')).toBeVisible();
      // The screen's own content never scrolls sideways at desktop and projector sizes. (On a phone
      // this shell still keeps its sidebar, leaving the page 130 px: the one-column shell is the layout's.)
      if (name !== 'phone') expect(await page.evaluate(() => { const m = document.querySelector('main')!; return m.scrollWidth <= m.clientWidth; })).toBe(true);
      mkdirSync(SCREENS, { recursive: true });
      await page.screenshot({ path: `${SCREENS}/lessons-${name}-${colorScheme}.png`, fullPage: false });
    });
  }
}
