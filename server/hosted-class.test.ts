// A class on one hosted relay: the public URL, an access secret that survives restarts (file or
// environment), and a rate of runs per client address with a refusal that says when to retry.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { startRelay, type RunningRelay } from './relay.ts';
import { validateLimits } from './defaults.ts';
import { RunRate } from './shares.ts';
import { RelayClient } from './testing/relay-client.ts';
import { freePort } from './testing/peers.ts';
import type { ServerMessage } from '../shared/protocol/index.ts';

const BIN = fileURLToPath(new URL('../bin/harness.js', import.meta.url));
const started: RunningRelay[] = [];
after(async () => { await Promise.all(started.map((r) => r.close())); });

test('RunRate: a sliding minute per address, in hosted mode only', () => {
  let now = 0;
  const limits = validateLimits({ runsPerMinutePerAddress: 3 });
  const rate = new RunRate(limits, true, () => now);
  const steps: { at: number; address: string; want: true | RegExp }[] = [
    { at: 0, address: 'a', want: true },
    { at: 10_000, address: 'a', want: true },
    { at: 20_000, address: 'a', want: true },
    { at: 30_000, address: 'a', want: /^at most 3 runs a minute from one address .*; try again in 30 s$/ },
    { at: 30_000, address: 'b', want: true },
    { at: 59_999, address: 'a', want: /try again in 1 s$/ },
    { at: 60_000, address: 'a', want: true },
    { at: 60_001, address: 'a', want: /try again in 10 s$/ },
  ];
  for (const s of steps) {
    now = s.at;
    const got = rate.admit(s.address);
    if (s.want === true) assert.equal(got, true, `${s.address} at ${s.at}`);
    else assert.ok(got !== true && got.code === 'rate_limited' && s.want.test(got.message), `${s.address} at ${s.at}: ${JSON.stringify(got)}`);
  }
  const local = new RunRate(limits, false, () => now);
  for (let i = 0; i < 10; i++) assert.equal(local.admit('a'), true);
});

test('hosted relay: past runsPerMinutePerAddress a run is refused with rate_limited, counted in the metrics', async () => {
  const r = await startRelay({ port: 0, quiet: true, lab: false, hosted: true, metricsToken: 'k'.repeat(32), limits: { runsPerMinutePerAddress: 2 }, webRoot: await mkdtemp(join(tmpdir(), 'harness-class-web-')) });
  started.push(r);
  const a = await RelayClient.open(r);
  const b = await RelayClient.open(r);
  // Two sessions of one address share the rate. Loopback targets are refused by the hosted guard, quickly.
  for (const c of [a, b]) assert.equal((await c.probe({ url: 'https://127.0.0.1:9443/' })).outcome, 'fail');
  const refused = await b.start('probe.start', { probe: { url: 'https://127.0.0.1:9443/' } });
  assert.equal(refused.type, 'error');
  assert.equal(refused.type === 'error' && refused.code, 'rate_limited');
  assert.match(refused.type === 'error' ? refused.message : '', /^at most 2 runs a minute from one address \(all its sessions together\); try again in \d+ s$/);
  const metrics = await fetch(`http://127.0.0.1:${r.port}/metrics`, { headers: { authorization: `Bearer ${'k'.repeat(32)}` } }).then((x) => x.text());
  assert.match(metrics, /^harness_refusals_total\{reason="rate_limited"\} 1$/m);
});

/** `harness serve` with `args`; resolves with what it printed once it serves, or its exit. */
function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--no-lab', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  const stop = async () => { child.kill('SIGTERM'); await exited; };
  return new Promise((resolve) => {
    const take = (d: Buffer) => {
      out += String(d);
      if (/Ctrl\+C stops/.test(out)) resolve({ code: null, out, stop });
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    void exited.then((code) => resolve({ code, out, stop }));
  });
}

async function welcomedVia(port: number, publicOrigin: string, token: string): Promise<boolean> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token}`, { origin: publicOrigin, headers: { host: new URL(publicOrigin).host } });
  ws.on('error', () => {});
  const ok = await new Promise<boolean>((resolve) => {
    ws.on('message', (d) => resolve((JSON.parse(String(d)) as ServerMessage).type === 'welcome'));
    ws.on('close', () => resolve(false));
  });
  ws.terminate();
  return ok;
}

test('serve --public-url with the secret from a file, then from the environment: the same link works after a restart', async () => {
  const secret = 'class-secret-0123456789abcdef0123456789';
  const file = join(await mkdtemp(join(tmpdir(), 'harness-secret-')), 'secret');
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  const port = await freePort();
  const publicUrl = 'https://class.example.org';
  const first = await serve(['--port', String(port), '--public-url', publicUrl, '--secret-file', file, '--log-format', 'text']);
  assert.equal(first.code, null, first.out);
  assert.match(first.out, new RegExp(`Open: https://class\\.example\\.org/\\?token=${secret}\\n`));
  assert.match(first.out, /Hosted mode/);
  assert.equal(await welcomedVia(port, publicUrl, secret), true);
  assert.equal(await welcomedVia(port, publicUrl, 'x'.repeat(40)), false);
  await first.stop();

  const second = await serve(['--port', String(port), '--public-url', `${publicUrl}/`], { HARNESS_ACCESS_SECRET: secret });
  assert.equal(second.code, null, second.out);
  assert.equal(await welcomedVia(port, publicUrl, secret), true, 'the page opened before the restart reconnects');
  await second.stop();
});

const badInput = [
  { name: 'a short secret file', args: ['--secret-file', 'SHORT'], want: /the secret file ".*" holds 8 characters; a secret needs at least 32/ },
  { name: 'a secret with characters a URL changes', env: { HARNESS_ACCESS_SECRET: 'a+b/c '.repeat(8) }, args: [], want: /\$HARNESS_ACCESS_SECRET may hold only letters, digits and \. _ ~ -/ },
  { name: 'a missing secret file', args: ['--secret-file', '/nonexistent/secret'], want: /cannot read the secret file "\/nonexistent\/secret": ENOENT/ },
  { name: 'a public URL with a path', args: ['--public-url', 'https://class.example.org/harness'], want: /publicUrl must be an origin only/ },
  { name: 'a public URL with credentials', args: ['--public-url', 'https://u:p@class.example.org'], want: /must not carry a user name or password/ },
  { name: 'an unknown log format', args: ['--log-format', 'xml'], want: /--log-format must be text or json, got "xml"/ },
] as const;

for (const c of badInput) {
  test(`serve refuses ${c.name} with exit 2 and says why, without the secret`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'harness-bad-secret-'));
    await writeFile(join(dir, 'short'), 'tooshort\n');
    const args = c.args.map((a) => (a === 'SHORT' ? join(dir, 'short') : a));
    const run = await serve(['--port', '0', ...args], 'env' in c ? c.env : {});
    assert.equal(run.code, 2, run.out);
    assert.match(run.out, c.want);
    assert.ok(!run.out.includes('tooshort') && !run.out.includes('a+b/c'), 'the secret is not echoed');
  });
}
