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
