// Graceful shutdown against real sockets and real processes: runs in flight finish within the
// grace period or end with relay_shutdown, browsers hear "going away", nothing new is accepted
// while draining, and `harness serve` / `npm start` leave no process holding the port.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startRelay, type RunningRelay } from './relay.ts';
import { RelayClient, openOrRefused, type Msg } from './testing/relay-client.ts';
import { CLOSE_CODES, CLOSE_REASONS } from '../shared/protocol/index.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const cleanups: (() => unknown)[] = [];
after(async () => { for (const c of cleanups) await c(); });

/** A TCP server that holds each connection `holdMs` without a byte, then closes it: a probe of it is slow. */
async function slowTarget(holdMs: number): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    setTimeout(() => s.destroy(), holdMs).unref();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  cleanups.push(() => { for (const s of sockets) s.destroy(); server.close(); });
  return (server.address() as AddressInfo).port;
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
}

async function relay(graceMs: number): Promise<RunningRelay> {
  const r = await startRelay({ port: 0, quiet: true, lab: false, webRoot: await mkdtemp(join(tmpdir(), 'harness-shutdown-web-')), limits: { shutdownGraceMs: graceMs } });
  cleanups.push(() => r.close());
  return r;
}

test('a run that finishes within the grace period keeps its own result; the session then hears "going away"', async () => {
  const r = await relay(5_000);
  const target = await slowTarget(400);
  const client = await RelayClient.open(r);
  const started = await client.start('probe.start', { probe: { url: `https://127.0.0.1:${target}/`, verifyServer: false } });
  assert.equal(started.type, 'run.started');
  const t0 = performance.now();
  const stopped = r.shutdown();
  // While draining: no new run on an open session, no new session, the app's question answered 503.
  const refused = await client.start('probe.start', { probe: { url: `https://127.0.0.1:${target}/` } });
  assert.equal(refused.type === 'error' && refused.code, 'shutting_down');
  const late = await openOrRefused(r);
  assert.equal(late.welcomed, false);
  assert.equal((await get(r.port, '/ws')).status, 503);
  const finished = await client.next<Msg<'run.finished'>>((m) => m.type === 'run.finished');
  assert.notDeepEqual(finished.diagnoses, ['relay_shutdown']);
  assert.deepEqual(await client.closed, { code: CLOSE_CODES.goingAway, reason: CLOSE_REASONS.shuttingDown });
  await stopped;
  assert.ok(performance.now() - t0 < 4_000, 'did not wait for the whole grace period once the run ended');
  assert.equal(await portIsFree(r.port), true);
});

test('a run still going when the grace period ends is cancelled with relay_shutdown, shown as its verdict', async () => {
  const r = await relay(300);
  const target = await slowTarget(30_000);
  const client = await RelayClient.open(r);
  const idle = await RelayClient.open(r);
  const started = await client.start('probe.start', { probe: { url: `https://127.0.0.1:${target}/`, verifyServer: false } });
  assert.equal(started.type, 'run.started');
  const t0 = performance.now();
  await r.shutdown();
  const elapsed = performance.now() - t0;
  assert.ok(elapsed >= 300 && elapsed < 3_000, `shutdown took ${Math.round(elapsed)} ms`);
  // A session with nothing running is told at once.
  assert.deepEqual(await idle.closed, { code: CLOSE_CODES.goingAway, reason: CLOSE_REASONS.shuttingDown });
  const finished = await client.next<Msg<'run.finished'>>((m) => m.type === 'run.finished');
  assert.equal(finished.outcome, 'error');
  assert.deepEqual(finished.diagnoses, ['relay_shutdown']);
  const verdict = client.messages.find((m): m is Msg<'step'> => m.type === 'step' && m.step.phase === 'verdict');
  assert.equal(verdict?.step.diagnosis?.code, 'relay_shutdown');
  assert.match(verdict?.step.summary ?? '', /stopped or restarted/);
  assert.deepEqual(await client.closed, { code: CLOSE_CODES.goingAway, reason: CLOSE_REASONS.shuttingDown });
  assert.equal(await portIsFree(r.port), true);
});

/** Starts a command and resolves with the relay's port once it printed its address. */
function startServing(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => { for (const pid of [child.pid!, ...descendants(child.pid!)]) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } });
  let out = '';
  child.stderr!.on('data', (d) => { out += String(d); });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += String(d);
      const m = /Open: http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) resolve({ child, port: Number(m[1]), output: () => out });
    });
    child.once('exit', (code) => reject(new Error(`${command} exited ${code}: ${out}`)));
  });
}

/** Every process below `pid` (from /proc), deepest last. */
function descendants(pid: number): number[] {
  let text = '';
  try {
    text = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const kids = text.split(/\s+/).filter(Boolean).map(Number);
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pids: number[], withinMs: number): Promise<number[]> {
  const deadline = performance.now() + withinMs;
  while (performance.now() < deadline && pids.some(alive)) await new Promise((r) => setTimeout(r, 50));
  return pids.filter(alive);
}

const FLAGS = ['--port', '0', '--no-lab'];
const cases = [
  { name: 'harness serve', command: process.execPath, args: ['bin/harness.js', 'serve', ...FLAGS], signal: 'SIGTERM' },
  { name: 'harness serve (Ctrl+C)', command: process.execPath, args: ['bin/harness.js', 'serve', ...FLAGS], signal: 'SIGINT' },
  { name: 'scripts/start.js', command: process.execPath, args: ['scripts/start.js', ...FLAGS], signal: 'SIGTERM' },
  // As npm runs it: `sh -c`, whose shell dies on SIGTERM without passing it on.
  { name: 'npm start', command: 'npm', args: ['start', '--silent', '--', ...FLAGS], signal: 'SIGTERM' },
] as const;

for (const c of cases) {
  test(`${c.name}: ${c.signal} stops every process it started and frees the port`, async () => {
    const { child, port, output } = await startServing(c.command, [...c.args], { HARNESS_NO_BUILD: '1', HARNESS_LAB_DIR: await mkdtemp(join(tmpdir(), 'harness-shutdown-lab-')) });
    const tree = [child.pid!, ...descendants(child.pid!)];
    assert.ok(tree.length >= 1);
    const session = await RelayClient.open({ port, token: /token=([0-9a-f]+)/.exec(output())![1]!, origin: `http://127.0.0.1:${port}` });
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    child.kill(c.signal);
    assert.deepEqual(await session.closed, { code: CLOSE_CODES.goingAway, reason: CLOSE_REASONS.shuttingDown });
    await exited;
    assert.deepEqual(await gone(tree, 5_000), [], `left running: ${output()}`);
    assert.equal(await portIsFree(port), true);
  });
}
