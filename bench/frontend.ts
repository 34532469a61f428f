/// <reference lib="dom" />
// Front-end timings in Debian's Chromium: click on Run → first step row on screen, against the
// built app served by a real relay with its lab; and key generation times in the page.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { startRelay } from '../server/relay.ts';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

export async function frontendTimings(runs = 20): Promise<{ runToFirstStep: number[]; keygen: Record<string, number[]> }> {
  const relay = await startRelay({ port: 0, quiet: true, dataDir: await mkdtemp(join(tmpdir(), 'bench-fe-')) });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(relay.url);
    await page.getByTestId('relay-state').filter({ hasText: /^connected/ }).waitFor();

    // A lab credential made through the UI, selected for the probe.
    await page.getByRole('link', { name: 'Keys & certs' }).click();
    await page.getByLabel('Key algorithm').selectOption('P-256');
    await page.getByLabel('Subject common name (CN)').fill('bench-client');
    await page.getByRole('button', { name: 'Generate key and CSR' }).click();
    const card = page.getByRole('article', { name: 'bench-client' });
    await card.getByRole('button', { name: 'Get certificate from the lab CA' }).click();
    await card.getByText('Certificate from the lab CA').waitFor();
    await card.getByRole('button', { name: 'Use in probe' }).click();

    const runToFirstStep: number[] = [];
    for (let i = 0; i < runs + 3; i++) {
      const ms = await page.evaluate(() => new Promise<number>((resolve) => {
        const old = new Set(document.querySelectorAll('[aria-label="Steps"] > li'));
        const button = [...document.querySelectorAll('button')].find((b) => b.textContent?.replace(/[▶\s]/g, '') === 'Run');
        if (!button) throw new Error('no Run button');
        const observer = new MutationObserver(() => {
          const row = [...document.querySelectorAll('[aria-label="Steps"] > li')].find((li) => !old.has(li));
          if (row) {
            observer.disconnect();
            resolve(performance.now() - t0);
          }
        });
        observer.observe(document.body, { childList: true, subtree: true });
        const t0 = performance.now();
        button.click();
      }));
      await page.getByTestId('verdict').and(page.locator('[data-outcome="pass"]')).waitFor({ timeout: 30_000 });
      if (i >= 3) runToFirstStep.push(ms); // the first runs warm up the relay and the page
    }

    const keygen: Record<string, number[]> = {};
    for (const [name, count] of [['P-256', 20], ['RSA-2048', 10], ['RSA-4096', 3]] as const) {
      keygen[name] = await page.evaluate(async ({ name, count }) => {
        const params = name === 'P-256'
          ? { name: 'ECDSA', namedCurve: 'P-256' }
          : { name: 'RSASSA-PKCS1-v1_5', modulusLength: Number(name.slice(4)), publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
        const times: number[] = [];
        for (let i = 0; i < count; i++) {
          const t0 = performance.now();
          await crypto.subtle.generateKey(params, false, ['sign', 'verify']);
          times.push(performance.now() - t0);
        }
        return times;
      }, { name, count });
    }
    return { runToFirstStep, keygen };
  } finally {
    await browser.close();
    await relay.close();
  }
}
