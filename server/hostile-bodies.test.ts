// One hostile response must not take the relay down: a body that amplifies when indented, and
// one that makes a redaction regex backtrack, through a live relay, as a probe and as a flow.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startRelay, type RunningRelay } from './relay.ts';
import { makeTestPki, type TestPki } from './testing/test-pki.ts';
import { startHostileTarget, type HostileTarget } from './testing/hostile-target.ts';
import { DEFAULT_LIMITS } from './defaults.ts';

let pki: TestPki;
let relay: RunningRelay;
let target: HostileTarget;

before(async () => {
  pki = await makeTestPki();
  target = await startHostileTarget(pki.server);
  relay = await startRelay({ port: 0, quiet: true, dataDir: await mkdtemp(join(tmpdir(), 'hostile-')), webRoot: await mkdtemp(join(tmpdir(), 'hostile-web-')) });
});
after(async () => {
  await relay.close();
  await target.close();
});

/** Every frame of one run, and how long the run took. */
async function run(start: Record<string, unknown>): Promise<{ frames: string[]; ms: number }> {
  const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/ws?token=${relay.token}`, { origin: relay.origin, maxPayload: 1024 * 1024 * 1024 });
  const frames: string[] = [];
  const t0 = performance.now();
  await new Promise<void>((ok, fail) => {
    ws.on('message', (d) => {
      frames.push(String(d));
      const m = JSON.parse(String(d)) as { type: string };
      if (m.type === 'welcome') ws.send(JSON.stringify({ id: 'h', ...start }));
      if (m.type === 'run.finished' || m.type === 'error') ok();
    });
    ws.on('error', fail);
  });
  ws.close();
  return { frames, ms: performance.now() - t0 };
}

/** A body shown in full fits the display cap; JSON escaping of a step can at most double it here. */
const MAX_FRAME = 2 * DEFAULT_LIMITS.maxResponseBodyBytes + 64 * 1024;

const cases = [
  { name: 'probe, JSON nested 4,000 deep', start: { type: 'probe.start', probe: { url: `/deep-json`, caPem: '' } }, note: /nested deeper than 32 levels/ },
  { name: 'probe, 256 KiB of -eyJab', start: { type: 'probe.start', probe: { url: `/backtrack`, caPem: '' } } },
  { name: 'API-key flow, JSON nested 4,000 deep', start: { type: 'flow.start', flow: { kind: 'api-key', url: `/deep-json`, apiKey: 'k-123456', username: 'u', tls: { caPem: '' } } }, note: /nested deeper than 32 levels/ },
  { name: 'API-key flow, 256 KiB of -eyJab', start: { type: 'flow.start', flow: { kind: 'api-key', url: `/backtrack`, apiKey: 'k-123456', username: 'u', tls: { caPem: '' } } } },
] as const;

for (const c of cases) {
  test(`hostile body (${c.name}): bounded frames, done in seconds`, async () => {
    // Fill in the target's URL and CA now that they exist.
    const start = JSON.parse(JSON.stringify(c.start).replaceAll('"url":"/', `"url":"${target.base}/`).replaceAll('"caPem":""', `"caPem":${JSON.stringify(pki.serverCa.cert)}`)) as Record<string, unknown>;
    const { frames, ms } = await run(start);
    const text = frames.join('\n');
    assert.match(text, /"run\.finished"/);
    assert.match(text, /"status":200/, 'the run reached the hostile body');
    const largest = Math.max(...frames.map((f) => Buffer.byteLength(f)));
    assert.ok(largest <= MAX_FRAME, `largest frame ${largest} bytes`);
    assert.ok(ms < 5_000, `the run took ${ms.toFixed(0)} ms`);
    if ('note' in c) assert.match(text, c.note);
  });
}
