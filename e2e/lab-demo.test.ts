import { test, expect } from '@playwright/test';
import { expectTimelineMatchesEvents, openHarness, verdictOf } from './harness.ts';

test('the first screen runs the lab demo in one click', async ({ page }) => {
  const frames = await openHarness(page);
  const demo = page.getByRole('region', { name: 'New here? Run the lab demo' });
  await expect(demo).toContainText('make a P-256 key and a CSR for CN=lab-client in this browser');

  await demo.getByRole('button', { name: 'Run the lab demo' }).click();
  expect(await verdictOf(page)).toBe('pass');

  expect(frames.messages.some((m) => m.type === 'lab.signed')).toBe(true);
  const [runId] = frames.runIds();
  await expectTimelineMatchesEvents(page, frames, runId!);
  await expect(page.getByTestId('verdict')).toContainText('Pass');

  // The demo left a real credential behind, selected for the next probe.
  await expect(page.getByLabel('Client certificate').locator('option:checked')).toContainText('lab-client (P-256');
  await expect(page.getByRole('navigation', { name: 'Tools' })).toContainText('lab-client');
  const target = frames.messages.find((m) => m.type === 'welcome')?.relay.lab?.targets[0]?.url;
  await expect(page.getByLabel('Target URL')).toHaveValue(target!);
});
