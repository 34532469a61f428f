import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { startRelay } from '../server/relay.ts';

test('when the relay goes away the header says reconnecting, and keys are kept', async ({ page }) => {
  // A relay of its own, so stopping it does not disturb the other tests.
  const dataDir = await mkdtemp(join(tmpdir(), 'harness-e2e-drop-'));
  const relay = await startRelay({ port: 0, lab: true, dataDir, quiet: true });
  try {
    await page.goto(relay.url);
    await expect(page.getByTestId('relay-state')).toHaveText(/^connected/);
    await page.getByRole('button', { name: 'Run the lab demo' }).click();
    await expect(page.getByTestId('verdict')).toHaveAttribute('data-outcome', 'pass');

    await relay.close();
    await expect(page.getByTestId('relay-state')).toHaveText('reconnecting');
    await expect(page.getByRole('status', { name: 'Relay status' })).toContainText(/attempt \d+, next in \d+ s/);
    await expect(page.getByRole('heading', { name: 'Reconnecting to the relay…' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Run', exact: true })).toBeDisabled();
    await expect(page.getByLabel('Client certificate').locator('option:checked')).toContainText('lab-client (P-256');
  } finally {
    await relay.close().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  }
});
