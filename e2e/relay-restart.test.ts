// A relay restarted during a class: the page hears why it lost the relay, reconnects by itself
// once the relay is back on the same port with the same access secret, and keeps what was on
// screen (the finished timeline, the form as the user left it). A hosted relay's rate refusal is
// shown in words.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { test, expect } from '@playwright/test';
import { startRelay } from '../server/relay.ts';
import { freePort } from '../server/testing/peers.ts';
import { RelayFrames } from './harness.ts';

/** `harness serve` as an operator runs it for a class: a fixed port and the access secret from a file. */
function serve(port: number, secretFile: string, labDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['bin/harness.js', 'serve', '--port', String(port), '--secret-file', secretFile, '--quiet'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, HARNESS_LAB_DIR: labDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += String(d);
      const m = /Open: (\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`harness serve exited ${code}: ${out}`)));
  });
}

function stopped(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((ok) => child.once('exit', (code) => ok(code)));
}

test('a relay restart is explained, the page reconnects by itself and keeps the timeline and the form', async ({ page }) => {
  const dir = await mkdtemp(join(tmpdir(), 'harness-e2e-restart-'));
  // The secret the operator gives every start: the page's token stays valid across the restart.
  const secretFile = join(dir, 'secret');
  await writeFile(secretFile, randomBytes(32).toString('hex'));
  const port = await freePort();
  let relay = await serve(port, secretFile, join(dir, 'lab'));
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

    relay.child.kill('SIGTERM');
    expect(await stopped(relay.child)).toBe(0);
    await expect(page.getByRole('heading', { name: 'Reconnecting to the relay…' })).toBeVisible();
    await expect(page.getByText('The relay is restarting, or was stopped by whoever runs it.')).toBeVisible();
    const before = frames.messages.length;

    relay = await serve(port, secretFile, join(dir, 'lab'));
    await expect(page.getByTestId('relay-state')).toHaveText(/^connected/, { timeout: 20_000 });
    expect(frames.messages.slice(before).some((m) => m.type === 'welcome')).toBe(true);
    await expect(page.getByRole('heading', { name: 'Reconnecting to the relay…' })).toBeHidden();

    // Everything on screen is still there, and the page works on the new relay.
    await expect(page.getByTestId('verdict')).toHaveAttribute('data-outcome', 'pass');
    await expect(steps).toHaveCount(stepCount);
    await expect(page.getByLabel('Target URL')).toHaveValue(edited);
    await expect(page.getByRole('button', { name: 'Run', exact: true })).toBeEnabled();
  } finally {
    relay.child.kill('SIGTERM');
    await stopped(relay.child);
    await rm(dir, { recursive: true, force: true });
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
