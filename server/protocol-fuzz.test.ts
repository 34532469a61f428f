// 100,000 random and mutated frames against a real relay: every frame is answered (an error,
// a reply or a run), nothing crashes, memory stays bounded, and an honest run alongside passes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import WebSocket from 'ws';
import { startRelay, type RunningRelay } from './relay.ts';
import type { ServerMessage } from '../shared/protocol/index.ts';
import { generateKeyPair, createCsr, exportPkcs8Pem } from '../shared/pki/issue.ts';

const FRAMES = Number(process.env.FUZZ_FRAMES ?? 100_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261123);

let relay: RunningRelay;
before(async () => {
  // Hosted mode: a fuzzed frame that happens to be a valid probe cannot reach anything but the lab.
  relay = await startRelay({ port: 0, hosted: true, quiet: true, limits: { runsPerConnection: 64 }, dataDir: await mkdtemp(join(tmpdir(), 'fuzz-')), webRoot: await mkdtemp(join(tmpdir(), 'fuzz-')) });
});
after(() => relay.close());

function connect(): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/ws?token=${relay.token}`, { origin: relay.origin });
  return new Promise((ok, fail) => { ws.once('open', () => ok(ws)); ws.once('error', fail); });
}

const VALID = [
  { type: 'ping', id: 'a' },
  { type: 'probe.start', id: 'b', probe: { url: 'https://127.0.0.1:9/', method: 'GET' } },
  { type: 'run.cancel', id: 'c', runId: 'r1' },
  { type: 'lab.sign', id: 'd', csrPem: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----' },
  { type: 'flow.start', id: 'e', flow: { kind: 'discovery', issuer: 'https://127.0.0.1:9' } },
];

/** Frames: arbitrary JSON, mutated valid frames, deep nesting, prototype keys, non-JSON text. */
function frameArbitrary(): fc.Arbitrary<string> {
  const mutated = fc.tuple(fc.constantFrom(...VALID), fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 })).map(([base, key, value]) => {
    const copy: Record<string, unknown> = JSON.parse(JSON.stringify(base));
    const target = (copy.probe ?? copy.flow ?? copy) as Record<string, unknown>;
    target[key === '' ? 'url' : key] = value;
    return JSON.stringify(copy);
  });
  const deep = fc.integer({ min: 10, max: 5000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`);
  const deepObject = fc.integer({ min: 10, max: 3000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`);
  const proto = fc.constantFrom(
    '{"__proto__":{"type":"ping"},"id":"x"}',
    '{"type":"probe.start","id":"x","probe":{"__proto__":{"url":"https://127.0.0.1:9/"}}}',
    '{"type":"probe.start","id":"x","probe":{"url":"https://127.0.0.1:9/","headers":{"__proto__":"a","constructor":"b"}}}',
    '{"type":"constructor","id":"x"}',
    '{"type":"toString","id":"x"}',
  );
  const wrongTypes = fc.record({ type: fc.oneof(fc.constantFrom(...VALID.map((v) => v.type)), fc.jsonValue()), id: fc.jsonValue(), probe: fc.jsonValue(), runId: fc.jsonValue(), csrPem: fc.jsonValue() }).map((o) => JSON.stringify(o));
  return fc.oneof(
    { arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)), weight: 4 },
    { arbitrary: mutated, weight: 4 },
    { arbitrary: wrongTypes, weight: 3 },
    { arbitrary: fc.string({ maxLength: 64 }), weight: 2 },
    { arbitrary: deep, weight: 1 },
    { arbitrary: deepObject, weight: 1 },
    { arbitrary: proto, weight: 1 },
  );
}

const ANSWERS = new Set(['error', 'pong', 'run.started', 'lab.signed']);

test(`${FRAMES} fuzzed frames: each answered, relay up, memory bounded, honest run passes`, { timeout: 300_000 }, async () => {
  const honest = await connect();
  const honestDone = (async () => {
    const keys = await generateKeyPair('P-256', true);
    const csrPem = await createCsr(keys, 'CN=honest');
    honest.send(JSON.stringify({ type: 'lab.sign', id: 's', csrPem }));
    const signed = await new Promise<Extract<ServerMessage, { type: 'lab.signed' }>>((ok) => honest.on('message', (d) => {
      const m = JSON.parse(String(d)) as ServerMessage;
      if (m.type === 'lab.signed') ok(m);
    }));
    honest.send(JSON.stringify({ type: 'probe.start', id: 'p', probe: { url: relay.lab!.info.targets[0]!.url, client: { certificatePem: signed.certificatePem, privateKeyPem: await exportPkcs8Pem(keys.privateKey) } } }));
    return new Promise<Extract<ServerMessage, { type: 'run.finished' }>>((ok) => honest.on('message', (d) => {
      const m = JSON.parse(String(d)) as ServerMessage;
      if (m.type === 'run.finished') ok(m);
    }));
  })();

  // Large-but-legal frames (just under the 1 MiB limit) are few: they cost bandwidth, not coverage.
  const huge = Array.from({ length: 20 }, (_, n) => JSON.stringify({ type: 'probe.start', id: 'h', probe: { url: 'x'.repeat(40_000 * (n + 1)) } }));
  const frames = [...fc.sample(frameArbitrary(), { numRuns: FRAMES - huge.length, seed: SEED }), ...huge];
  const ws = await connect();
  let answers = 0;
  ws.on('message', (d) => {
    const m = JSON.parse(String(d)) as ServerMessage;
    if (ANSWERS.has(m.type)) answers++;
  });
  const heapBefore = process.memoryUsage().heapUsed;
  const BATCH = 500;
  for (let i = 0; i < frames.length; i += BATCH) {
    const batch = frames.slice(i, i + BATCH);
    for (const f of batch) ws.send(f);
    ws.send(JSON.stringify({ type: 'ping', id: `barrier-${i}` }));
    const want = i + batch.length + i / BATCH + 1;
    while (answers < want) await new Promise((ok) => setTimeout(ok, 5));
    assert.equal(ws.readyState, WebSocket.OPEN, 'the connection stays open');
  }
  assert.equal(answers, frames.length + Math.ceil(frames.length / BATCH), 'every frame got exactly one answer');
  const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
  assert.ok(heapGrowthMb < 200, `heap grew ${heapGrowthMb.toFixed(0)} MB`);

  ws.send(Buffer.from([0, 1, 2]), { binary: true });
  const oversize = await connect();
  const closed = new Promise<number>((ok) => oversize.on('close', (code) => ok(code)));
  oversize.send('x'.repeat(2 * 1024 * 1024));
  assert.equal(await closed, 1009);

  const finished = await honestDone;
  assert.equal(finished.outcome, 'pass', 'a concurrent honest run still passes');
  ws.close();
  honest.close();
});
