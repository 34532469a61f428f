import { mkdirSync } from 'node:fs';
import { test, expect, type Page } from '@playwright/test';
import { openHarness, verdictOf } from './harness.ts';

// Screens are saved under test-results/screens for people to look at; set
// HARNESS_DOCS_SCREENSHOT=docs/screenshot.png to refresh the one in the docs.
const SCREENS = 'test-results/screens';

async function noHorizontalOverflow(page: Page): Promise<void> {
  const overflow = await page.evaluate(
    `[...document.querySelectorAll('body, main, .timeline, .card')].filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.className)`,
  );
  expect(overflow).toEqual([]);
}

for (const colorScheme of ['light', 'dark'] as const) {
  test(`at 1280×800 (${colorScheme}) a passed probe reads without horizontal scrolling`, async ({ page }) => {
    mkdirSync(SCREENS, { recursive: true });
    await page.emulateMedia({ colorScheme });
    await openHarness(page);
    await noHorizontalOverflow(page);
    await page.screenshot({ path: `${SCREENS}/first-screen-${colorScheme}.png` });

    await page.getByRole('button', { name: 'Run the lab demo' }).click();
    expect(await verdictOf(page)).toBe('pass');
    const tls = page.locator('li[data-step="tls"]');
    await tls.getByRole('button', { expanded: false }).first().click();
    await expect(tls).toContainText('Client CAs the server accepts');
    await noHorizontalOverflow(page);
    await page.getByRole('heading', { name: /^Run r/ }).scrollIntoViewIfNeeded();
    await page.evaluate(`document.querySelector('main').scrollBy(0, document.querySelector('.timeline').getBoundingClientRect().top - 64)`);
    await page.mouse.move(1270, 790); // no hover highlight in the picture
    await page.screenshot({ path: `${SCREENS}/probe-pass-${colorScheme}.png` });
    if (colorScheme === 'light' && process.env.HARNESS_DOCS_SCREENSHOT) {
      await page.screenshot({ path: process.env.HARNESS_DOCS_SCREENSHOT });
    }

    await page.getByRole('link', { name: 'Keys & certs' }).click();
    await noHorizontalOverflow(page);
    await page.screenshot({ path: `${SCREENS}/keys-${colorScheme}.png` });

    await page.getByRole('link', { name: 'Probe' }).click();
    await page.getByLabel('Client certificate').selectOption('');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    expect(await verdictOf(page)).toBe('fail');
    await noHorizontalOverflow(page);
    await page.getByRole('heading', { name: /^Run r/ }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SCREENS}/probe-fail-${colorScheme}.png` });
  });
}

/** Every screen in the navigation, by its link name. */
const SCREENS_BY_LINK = ['Keys & certs', 'Certificate workshop', 'Probe', 'JWT builder', 'Token flows', 'Inbound check', 'Server config', 'Server check', 'Runs'] as const;

async function documentScrollsSideways(page: Page): Promise<{ scrollWidth: number; innerWidth: number }> {
  return page.evaluate(() => ({ scrollWidth: document.scrollingElement!.scrollWidth, innerWidth: window.innerWidth }));
}

test('at 390 px (a phone) no screen scrolls sideways, after a run too', async ({ page }) => {
  mkdirSync(SCREENS, { recursive: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await openHarness(page);
  await page.getByRole('button', { name: 'Run the lab demo' }).click();
  expect(await verdictOf(page)).toBe('pass');
  for (const name of SCREENS_BY_LINK) {
    await page.getByRole('link', { name, exact: true }).click();
    await expect(page.getByRole('heading', { level: 1 }).first()).toBeVisible();
    const { scrollWidth, innerWidth } = await documentScrollsSideways(page);
    expect(scrollWidth, `${name} at 390 px`).toBeLessThanOrEqual(innerWidth);
    await page.screenshot({ path: `${SCREENS}/phone-${name.replace(/\W+/g, '-').toLowerCase()}.png` });
  }
});

test('at 1024×768 (a projector) the target URL shows whole, and the sidebar shows key names whole', async ({ page }) => {
  mkdirSync(SCREENS, { recursive: true });
  await page.setViewportSize({ width: 1024, height: 768 });
  await openHarness(page);
  const url = page.getByLabel('Target URL');
  await expect(url).toHaveValue(/^https:\/\/localhost:\d+\//);
  // The whole address fits in the field: nothing scrolled out of sight.
  expect(await url.evaluate((el: HTMLInputElement) => el.scrollWidth <= el.clientWidth)).toBe(true);
  expect((await url.boundingBox())!.width).toBeGreaterThan(320);

  const longName = 'partner-orders-client-2026-rotation';
  await page.getByRole('link', { name: 'Keys & certs' }).click();
  await page.getByLabel('Subject common name (CN)').fill(longName);
  await page.getByRole('button', { name: 'Generate key and CSR' }).click();
  const entry = page.getByRole('list', { name: 'Keys' }).getByRole('listitem').filter({ hasText: longName });
  await expect(entry).toBeVisible();
  const name = entry.locator('.name');
  expect(await name.evaluate((el) => el.scrollWidth <= el.clientWidth && el.scrollHeight <= el.clientHeight + 1)).toBe(true);
  // The marks are explained: a legend under the list and a tooltip on each entry.
  await expect(page.getByRole('navigation', { name: 'Tools' })).toContainText("● the probe's client certificate · ○ kept, not chosen");
  await expect(entry).toHaveAttribute('title', new RegExp(`^${longName} \\(P-256\\): `));
  for (const name of SCREENS_BY_LINK) {
    await page.getByRole('link', { name, exact: true }).click();
    const { scrollWidth, innerWidth } = await documentScrollsSideways(page);
    expect(scrollWidth, `${name} at 1024 px`).toBeLessThanOrEqual(innerWidth);
  }
  await page.getByRole('link', { name: 'Probe', exact: true }).click();
  await page.screenshot({ path: `${SCREENS}/projector-probe.png` });
});
