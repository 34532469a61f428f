// The workshop's screens at 1280×800 in light and dark, with a rotation drill as the content: a
// current client certificate 30 days from expiry and an upcoming one from a CA the server does not
// trust yet. Screens are saved under test-results/screens for people to look at.
import { mkdirSync } from 'node:fs';
import { test, expect, type Locator, type Page } from '@playwright/test';
import { openHarness } from './harness.ts';

const SCREENS = 'test-results/screens';

async function noHorizontalOverflow(page: Page): Promise<void> {
  const overflow = await page.evaluate(
    `[...document.querySelectorAll('body, main, .card, .panel')].filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.className)`,
  );
  expect(overflow).toEqual([]);
}

async function make(page: Page, kind: string, commonName: string, options: { issuer?: string; validity?: string } = {}): Promise<Locator> {
  await page.getByRole('button', { name: '+ Make new…' }).click();
  await page.getByRole('radio', { name: kind }).check();
  await page.getByLabel('Common name (CN)').fill(commonName);
  if (options.issuer) await page.getByLabel('Signed by').selectOption({ label: options.issuer });
  if (options.validity) await page.getByLabel('Validity').selectOption(options.validity);
  await page.getByRole('button', { name: /^Make / }).click();
  const card = page.getByRole('article', { name: commonName });
  await expect(card.getByRole('status')).toBeVisible();
  return card;
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.mouse.move(1270, 790); // no hover highlight in the picture
  await noHorizontalOverflow(page);
  await page.screenshot({ path: `${SCREENS}/${name}.png` });
}

for (const colorScheme of ['light', 'dark'] as const) {
  test(`workshop at 1280×800 (${colorScheme}): make, export, inspect and a rotation drill read without horizontal scrolling`, async ({ page }) => {
    mkdirSync(SCREENS, { recursive: true });
    await page.emulateMedia({ colorScheme });
    await openHarness(page);
    await page.getByRole('link', { name: 'Certificate workshop' }).click();
    // What to make is a radio group: arrow keys move through it.
    await page.getByRole('radio', { name: 'Root CA' }).focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await expect(page.getByRole('radio', { name: 'Client certificate' })).toBeChecked();
    await expect(page.getByLabel('Signed by')).toBeDisabled();
    await expect(page.getByText('Make a root CA first.')).toBeVisible();
    await page.getByRole('radio', { name: 'Root CA' }).check();
    await shoot(page, `workshop-make-${colorScheme}`);

    await make(page, 'Root CA', 'Rotation Root A');
    await make(page, 'Intermediate CA', 'Rotation Issuing CA A');
    await make(page, 'Client certificate', 'current-client', { issuer: 'Rotation Issuing CA A (Intermediate CA)', validity: 'expires-soon' });
    await make(page, 'Root CA', 'Rotation Root B');
    const upcoming = await make(page, 'Client certificate', 'upcoming-client', { issuer: 'Rotation Root B (Root CA)' });
    await page.getByRole('button', { name: /^current-client/ }).click();
    await expect(page.getByRole('article', { name: 'current-client' })).toContainText('under 90 days');
    await shoot(page, `workshop-detail-${colorScheme}`);
    await page.getByRole('button', { name: /^upcoming-client/ }).click();
    await upcoming.getByRole('heading', { name: 'Export' }).scrollIntoViewIfNeeded();
    await shoot(page, `workshop-export-${colorScheme}`);

    await upcoming.getByRole('button', { name: 'Inspect' }).click();
    const report = page.getByRole('region', { name: 'Inspection report' });
    await expect(report).toContainText('2 certificates, 0 keys');
    await shoot(page, `workshop-inspect-${colorScheme}`);

    await page.getByRole('tab', { name: 'Rotation check' }).click();
    await page.getByLabel('Add a workshop CA to the bundle').selectOption({ label: 'Rotation Root A (Root CA)' });
    await page.getByLabel('Fill client certificate 1 from the workshop').selectOption({ label: 'current-client' });
    await page.getByLabel('Fill client certificate 2 from the workshop').selectOption({ label: 'upcoming-client' });
    await page.getByRole('button', { name: 'Check rotation' }).click();
    const result = page.getByRole('region', { name: 'Rotation result' });
    await expect(result.locator('li[data-code="rotation_no_upcoming"]')).toContainText('none of the 1 upcoming certificate(s) is trusted by this CA bundle');
    await expect(result.locator('tr[data-label="current 1"]')).toContainText('yes');
    await expect(result.locator('tr[data-label="upcoming 1"]')).toContainText('no: not trusted');
    await result.scrollIntoViewIfNeeded();
    await shoot(page, `workshop-rotation-${colorScheme}`);

    // Trusting the new root as well clears the warning.
    await page.getByLabel('Add a workshop CA to the bundle').selectOption({ label: 'Rotation Root B (Root CA)' });
    await page.getByRole('button', { name: 'Check rotation' }).click();
    await expect(result.locator('tr[data-label="upcoming 1"]')).toContainText('yes');
    await expect(result.locator('li[data-code="rotation_no_upcoming"]')).toHaveCount(0);

    // Tabs follow the arrow keys, with a visible focus ring.
    await page.getByRole('tab', { name: 'Rotation check' }).focus();
    await page.keyboard.press('ArrowLeft');
    await expect(page.getByRole('tab', { name: 'Import & inspect' })).toBeFocused();
    await expect(page.getByRole('tab', { name: 'Import & inspect' })).toHaveAttribute('aria-selected', 'true');
  });
}
