// A relay restarted during a class: the page hears why it lost the relay, reconnects by itself
// once the relay is back on the same port with the same access secret, and keeps what was on
// screen (the finished timeline, the form as the user left it). A hosted relay's rate refusal is
// shown in words.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { test, expect } from '@playwright/test';
import { startRelay, type RunningRelay } from '../server/relay.ts';
import { RelayFrames } from './harness.ts';

test('a relay restart is explained, the page reconnects by itself and keeps the timeline and the form', async ({ page }) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'harness-e2e-restart-'));
  // The secret the operator gives every start (--secret-file): the page's token stays valid.
  const token = randomBytes(32).toString('hex');
  let relay: RunningRelay = await startRelay({ port: 0, lab: true, dataDir, quiet: true, token });
  const port = relay.port;
  try {
    const frames = new RelayFrames(page);
    await page.goto(relay.url);
    await expect(page.getByTestId('relay-state')).toHaveText(/^connected/);
    await page.getByRole('button', { name: 'Run the lab demo' }).click();
    await expect(page.getByTestId('verdict')).toHaveAttribute('data-outcome', 'pass');
    const steps = page.getByRole('list', { name: 'Steps' }).locator(':scope > li');
    const stepCount = await steps.count();
    expect(stepCount).toBeGreaterThan(3);
    const edited = `${await page.getByLabel('Target URL').inputValue()}edited-by-the-learner`;
    await page.getByLabel('Target URL').fill(edited);

    // What SIGTERM does (server/cli.ts): the graceful shutdown.
    await relay.shutdown();
    await expect(page.getByRole('heading', { name: 'Reconnecting to the relay…' })).toBeVisible();
    await expect(page.getByText('The relay is restarting, or was stopped by whoever runs it.')).toBeVisible();
    const closes = frames.messages.length;

    relay = await startRelay({ port, lab: true, dataDir, quiet: true, token });
    await expect(page.getByTestId('relay-state')).toHaveText(/^connected/, { timeout: 20_000 });
    expect(frames.messages.slice(closes).some((m) => m.type === 'welcome')).toBe(true);
    await expect(page.getByRole('heading', { name: 'Reconnecting to the relay…' })).toBeHidden();

    // Everything on screen is still there, and the page works on the new relay.
    await expect(page.getByTestId('verdict')).toHaveAttribute('data-outcome', 'pass');
    await expect(steps).toHaveCount(stepCount);
    await expect(page.getByLabel('Target URL')).toHaveValue(edited);
    await expect(page.getByRole('button', { name: 'Run', exact: true })).toBeEnabled();
  } finally {
    await relay.close().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('on a hosted relay, a run past the per-address rate is refused with a sentence that says when to retry', async ({ page }) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'harness-e2e-rate-'));
  const relay = await startRelay({ port: 0, lab: true, dataDir, quiet: true, hosted: true, limits: { runsPerMinutePerAddress: 1 } });
  try {
    await page.goto(relay.url);
    await expect(page.getByTestId('relay-state')).toHaveText('connected (hosted)');
    await page.getByRole('button', { name: 'Run the lab demo' }).click();
    await expect(page.getByTestId('verdict')).toHaveAttribute('data-outcome', 'pass');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await expect(page.getByTestId('verdict')).toHaveAttribute('data-outcome', 'interrupted');
    await expect(page.getByTestId('verdict')).toContainText(/The run did not start: at most 1 run a minute from one address \(all its sessions together\); try again in \d+ s \(rate_limited\)/);
  } finally {
    await relay.close().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  }
});
