// Helpers shared by the browser tests: open the app against the relay that global-setup
// started, record what the relay sent, and compare the screen with those events.
import { readFileSync } from 'node:fs';
import { expect, type Page } from '@playwright/test';
import type { ServerMessage, Step } from '../shared/protocol/index.ts';

export function relayUrl(): string {
  const url = process.env.HARNESS_URL;
  if (!url) throw new Error('HARNESS_URL is not set: run the tests through playwright.config.ts (global-setup starts the relay)');
  return url;
}

export function relayOrigin(): string {
  const origin = process.env.HARNESS_ORIGIN;
  if (!origin) throw new Error('HARNESS_ORIGIN is not set: run the tests through playwright.config.ts');
  return origin;
}

/** Every frame the relay sends to the page, parsed; start before navigating. */
export class RelayFrames {
  readonly messages: ServerMessage[] = [];

  constructor(page: Page) {
    page.on('websocket', (ws) => {
      ws.on('framereceived', (frame) => {
        if (typeof frame.payload === 'string') this.messages.push(JSON.parse(frame.payload) as ServerMessage);
      });
    });
  }

  runIds(): string[] {
    return this.messages.flatMap((m) => (m.type === 'run.started' ? [m.runId] : []));
  }

  /** The last state of each step of a run, in first-seen order, as the relay sent it. */
  finalSteps(runId: string): Step[] {
    const steps = new Map<string, Step>();
    for (const m of this.messages) if (m.type === 'step' && m.runId === runId) steps.set(m.step.id, m.step);
    return [...steps.values()];
  }

  finished(runId: string): Extract<ServerMessage, { type: 'run.finished' }> | undefined {
    return this.messages.find((m): m is Extract<ServerMessage, { type: 'run.finished' }> => m.type === 'run.finished' && m.runId === runId);
  }
}

export async function openHarness(page: Page): Promise<RelayFrames> {
  const frames = new RelayFrames(page);
  await page.goto(relayUrl());
  await expect(page.getByTestId('relay-state')).toHaveText(/^connected/);
  return frames;
}

/** Waits for the verdict line to show an outcome and returns it. */
export async function verdictOf(page: Page): Promise<string> {
  const verdict = page.getByTestId('verdict');
  await expect(verdict).toHaveAttribute('data-outcome', /^(pass|fail|error|interrupted)$/, { timeout: 30_000 });
  return (await verdict.getAttribute('data-outcome')) ?? '';
}

/**
 * The timeline must show exactly what the relay streamed: one line per step (the closing
 * verdict step feeds the verdict line), each with the status and title of its last event.
 */
export async function expectTimelineMatchesEvents(page: Page, frames: RelayFrames, runId: string): Promise<Step[]> {
  const steps = frames.finalSteps(runId);
  const lines = steps.filter((s) => s.phase !== 'verdict');
  expect(lines.length).toBeGreaterThan(0);
  const rows = page.getByRole('list', { name: 'Steps' }).locator(':scope > li');
  await expect(rows).toHaveCount(lines.length);
  for (const [index, step] of lines.entries()) {
    const row = rows.nth(index);
    await expect(row).toHaveAttribute('data-step', step.id);
    await expect(row).toHaveAttribute('data-status', step.status);
    await expect(row).toContainText(step.title);
    await expect(row).toContainText({ ok: 'OK', warn: 'Warn', fail: 'Fail', skipped: 'Skipped', running: 'Running' }[step.status]);
  }
  return steps;
}

/** Generates a key on the Keys & certs page and has the lab CA (by default its client CA; `labCa` names another) issue its certificate. */
export async function makeLabCredential(page: Page, algorithm: string, commonName: string, labCa?: string): Promise<void> {
  await page.getByRole('link', { name: 'Keys & certs' }).click();
  await page.getByLabel('Key algorithm').selectOption(algorithm);
  await page.getByLabel('Subject common name (CN)').fill(commonName);
  await page.getByRole('button', { name: 'Generate key and CSR' }).click();
  const card = page.getByRole('article', { name: commonName });
  await expect(card).toContainText(`${algorithm} key · generated in this browser`);
  await expect(card.locator('pre', { hasText: 'BEGIN CERTIFICATE REQUEST' })).toBeVisible();
  if (labCa) await card.getByLabel('Lab CA').selectOption({ label: labCa });
  await card.getByRole('button', { name: 'Get certificate from the lab CA' }).click();
  await expect(card).toContainText('Certificate from the lab CA');
  await expect(card).toContainText(`CN=${commonName}`);
}

/**
 * Saves the screen's run from the Save scenario dialog as a JSON download and reads the file.
 * The dialog is closed afterwards unless `keepOpen` (its report says which secrets were left out).
 */
export async function saveFile(page: Page, name: string, opts: { includeSecrets?: boolean; keepOpen?: boolean } = {}): Promise<{ filename: string; file: Record<string, any> }> {
  await page.getByRole('button', { name: 'Save scenario' }).click();
  const save = page.getByRole('form', { name: 'Save scenario' });
  await save.getByLabel('Scenario name').fill(name);
  if (opts.includeSecrets) await save.getByLabel('Include secrets').check();
  const downloaded = page.waitForEvent('download');
  await save.getByRole('button', { name: 'Download JSON' }).click();
  const download = await downloaded;
  const file = JSON.parse(readFileSync((await download.path())!, 'utf8')) as Record<string, any>;
  if (!opts.keepOpen) await page.getByRole('button', { name: 'Close' }).click();
  return { filename: download.suggestedFilename(), file };
}
