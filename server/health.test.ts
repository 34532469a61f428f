// /healthz and /readyz on a real relay: reachable without the token (hosted mode too), a word
// and nothing else, and readiness falls to 503 the moment shutdown starts draining.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startRelay, type RunningRelay } from './relay.ts';
import { RelayClient } from './testing/relay-client.ts';

const started: RunningRelay[] = [];
after(async () => { await Promise.all(started.map((r) => r.close())); });

async function relay(hosted: boolean): Promise<RunningRelay> {
  const r = await startRelay({ port: 0, quiet: true, lab: false, hosted, webRoot: await mkdtemp(join(tmpdir(), 'harness-health-web-')), limits: { shutdownGraceMs: 2_000 } });
  started.push(r);
  return r;
}

function request(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    }).on('error', reject).end();
  });
}

const cases = [
  { name: 'liveness', path: '/healthz', want: { status: 200, body: 'ok' } },
  { name: 'readiness', path: '/readyz', want: { status: 200, body: 'ready' } },
  { name: 'a query string is ignored', path: '/readyz?verbose=1', want: { status: 200, body: 'ready' } },
  { name: 'POST is not a probe', path: '/healthz', method: 'POST', want: { status: 405, body: 'method not allowed' } },
] as const;

for (const hosted of [false, true]) {
  for (const c of cases) {
    test(`${hosted ? 'hosted' : 'local'}: ${c.name} (${c.path}) needs no token and tells nothing more`, async () => {
      const r = await relay(hosted);
      const res = await request(r.port, c.path, 'method' in c ? c.method : 'GET');
      assert.deepEqual({ status: res.status, body: res.body }, c.want);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      for (const leak of ['server', 'x-powered-by']) assert.equal(res.headers[leak], undefined, leak);
    });
  }
}

test('readiness answers 503 while the relay drains; liveness still answers', async () => {
  const r = await relay(false);
  // A slow target keeps a run in flight, so the relay stays draining for a while.
  const sockets: net.Socket[] = [];
  const target = net.createServer((s) => { sockets.push(s); s.on('error', () => {}); });
  await new Promise<void>((ok) => target.listen(0, '127.0.0.1', ok));
  const client = await RelayClient.open(r);
  const started = await client.start('probe.start', { probe: { url: `https://127.0.0.1:${(target.address() as AddressInfo).port}/` } });
  assert.equal(started.type, 'run.started');
  const stopped = r.shutdown();
  assert.deepEqual(await request(r.port, '/readyz').then((x) => [x.status, x.body]), [503, 'draining']);
  assert.deepEqual(await request(r.port, '/healthz').then((x) => [x.status, x.body]), [200, 'ok']);
  await stopped;
  for (const s of sockets) s.destroy();
  target.close();
});
