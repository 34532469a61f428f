// Runs that travel, in the browser: every run lands in the history as a transcript holding the
// events exactly as the relay sent them; it downloads as a transcript or a report that reads
// without scripts; another browser profile opens it (file or share link) and shows the same run;
// two runs compare step by step; a file that is not a transcript is refused by field.
import { test, expect, type Page } from '@playwright/test';
import { readFile, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openHarness, relayOrigin, verdictOf, type RelayFrames } from './harness.ts';
import { parseTranscript, readRun, type Transcript } from '../shared/transcript/transcript.ts';
import { shareLink } from '../shared/transcript/share-link.ts';

async function download(page: Page, click: () => Promise<void>): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download'), click()]);
  const path = join(await mkdtemp(join(tmpdir(), 'runs-e2e-')), file.suggestedFilename());
  await file.saveAs(path);
  return path;
}

function eventsOf(frames: RelayFrames, runId: string) {
  return frames.messages.filter((m) => (m.type === 'run.started' || m.type === 'step' || m.type === 'run.finished') && m.runId === runId);
}

/** Runs the lab demo (pass), then a probe without a certificate (fail); returns both run ids. */
async function twoRuns(page: Page, frames: RelayFrames): Promise<[string, string]> {
  await page.getByRole('button', { name: 'Run the lab demo' }).click();
  expect(await verdictOf(page)).toBe('pass');
  await page.getByLabel('Client certificate').selectOption('');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-outcome', 'fail', { timeout: 30_000 });
  const [pass, fail] = frames.runIds();
  return [pass!, fail!];
}

test('a finished run downloads as a transcript with the relay\'s events and as a report that reads without scripts', async ({ page, browser }) => {
  const frames = await openHarness(page);
  const [, failId] = await twoRuns(page, frames);

  const transcriptPath = await download(page, () => page.getByRole('button', { name: 'Download transcript' }).click());
  const transcript = parseTranscript(await readFile(transcriptPath, 'utf8'));
  expect(transcript.recordedBy).toBe('app');
  expect(transcript.events.map((e) => e.event)).toEqual(eventsOf(frames, failId));
  expect(readRun(transcript).diagnoses).toContain('client_cert_required');
  const welcome = frames.messages.find((m) => m.type === 'welcome');
  expect(transcript.environment).toEqual({ harness: welcome?.relay.version, ...welcome?.relay.runtime });

  const reportPath = await download(page, () => page.getByRole('button', { name: 'Download report' }).click());
  const html = await readFile(reportPath, 'utf8');
  expect(html).not.toMatch(/<script/i);
  const reader = await browser.newContext({ javaScriptEnabled: false, offline: true });
  const report = await reader.newPage();
  await report.goto(`file://${reportPath}`);
  await expect(report.getByRole('heading', { level: 1 })).toContainText('Run report');
  await expect(report.getByRole('table')).toContainText('client_cert_required');
  await expect(report.locator('.diagnosis').first()).toContainText('Fix on the server:');
  // Printing keeps the timeline and drops the raw evidence.
  await report.emulateMedia({ media: 'print' });
  await expect(report.locator('details').first()).toBeHidden();
  await expect(report.locator('.timeline').first()).toBeVisible();
  await reader.close();
});

test('the Runs screen keeps runs across a reload, compares two and replays one as recorded', async ({ page }) => {
  const frames = await openHarness(page);
  const [passId, failId] = await twoRuns(page, frames);
  await page.reload();
  await page.getByRole('link', { name: 'Runs' }).click();
  const rows = page.getByRole('row').filter({ has: page.getByRole('checkbox') });
  await expect(rows).toHaveCount(2);

  // Ticked in the order "the one that works" first.
  await page.getByRole('checkbox').nth(1).check();
  await page.getByRole('checkbox').nth(0).check();
  const comparison = page.getByRole('region', { name: 'Comparison' });
  await expect(comparison).toContainText('sent certificates');
  await expect(comparison).toContainText('run B sent no client certificate at all');
  await expect(comparison).toContainText('only run B: client_cert_required');

  await rows.nth(0).getByRole('button', { name: 'View' }).click();
  await expect(page.getByText('Recorded', { exact: true })).toBeVisible();
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-outcome', 'fail');
  const steps = page.getByRole('list', { name: 'Steps' }).locator(':scope > li');
  const live = frames.finalSteps(failId).filter((s) => s.phase !== 'verdict');
  await expect(steps).toHaveCount(live.length);
  for (const [i, s] of live.entries()) await expect(steps.nth(i)).toHaveAttribute('data-status', s.status);
  expect(passId).not.toBe(failId);
});

test('another browser profile opens a transcript file and a share link; a scenario file is refused by field', async ({ page, browser }) => {
  const frames = await openHarness(page);
  const [, failId] = await twoRuns(page, frames);
  const transcriptPath = await download(page, () => page.getByRole('button', { name: 'Download transcript' }).click());
  const transcript: Transcript = parseTranscript(await readFile(transcriptPath, 'utf8'));

  // A fresh profile: no history, no relay token.
  const other = await browser.newContext();
  const fresh = await other.newPage();
  await fresh.goto(`${relayOrigin()}/#/runs`);
  await expect(fresh.getByText('No runs yet.')).toBeVisible();
  await fresh.getByLabel('Transcript file').setInputFiles(transcriptPath);
  await expect(fresh.getByText('Recorded', { exact: true })).toBeVisible();
  await expect(fresh.getByTestId('verdict')).toHaveAttribute('data-outcome', 'fail');
  await expect(fresh.getByRole('list', { name: 'Steps' }).locator(':scope > li')).toHaveCount(frames.finalSteps(failId).filter((s) => s.phase !== 'verdict').length);

  const dir = await mkdtemp(join(tmpdir(), 'runs-e2e-'));
  await writeFile(join(dir, 'scenario.json'), JSON.stringify({ version: 1, name: 's', kind: 'probe', probe: { url: 'https://x/' } }));
  await fresh.getByLabel('Transcript file').setInputFiles(join(dir, 'scenario.json'));
  await expect(fresh.getByRole('alert').filter({ hasText: 'could not be opened' })).toContainText('scenario.json could not be opened: format: this is a scenario, not a transcript');
  await writeFile(join(dir, 'newer.json'), JSON.stringify({ ...transcript, version: 9 }));
  await fresh.getByLabel('Transcript file').setInputFiles(join(dir, 'newer.json'));
  await expect(fresh.getByRole('alert').filter({ hasText: 'could not be opened' })).toContainText('version: 9 is newer than this harness reads (1)');
  await expect(fresh.getByText('Recorded', { exact: true })).toBeVisible();

  const linked = await other.newPage();
  await linked.goto(await shareLink(transcript, `${relayOrigin()}/`));
  await expect(linked.getByRole('heading', { name: 'Runs', level: 1 })).toBeVisible();
  await expect(linked.getByTestId('verdict')).toHaveAttribute('data-outcome', 'fail');
  expect(new URL(linked.url()).hash).toBe('#/runs');
  await other.close();
});

test('copy share link puts the run after the #, without the access token', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const frames = await openHarness(page);
  await twoRuns(page, frames);
  await page.getByRole('link', { name: 'Runs' }).click();
  await page.getByRole('row').filter({ has: page.getByRole('checkbox') }).nth(0).getByRole('button', { name: 'View' }).click();
  await page.getByRole('button', { name: 'Copy share link' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Link copied' })).toContainText('it is never sent to a server');
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(link.startsWith(`${relayOrigin()}/#transcript=`)).toBe(true);
  expect(link).not.toContain('token=');
});
