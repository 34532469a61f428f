// Peers that misbehave on purpose: each run ends with the right diagnosis within its phase
// timeout, and sockets and file descriptors return to where they were.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import net from 'node:net';
import { readdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { runProbe } from './run-probe.ts';
import { validateLimits, type Limits } from '../defaults.ts';
import { makeTestPki, type TestPki } from '../testing/test-pki.ts';
import { rawServer, type Peer } from '../testing/peers.ts';
import { startRelay } from '../relay.ts';

let pki: TestPki;
const peers: Peer[] = [];
before(async () => { pki = await makeTestPki(); });
after(() => Promise.all(peers.map((p) => p.close())));

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** A TLS server whose request handler misbehaves; it counts its live connections. */
async function tlsPeer(onRequest: (socket: tls.TLSSocket) => void): Promise<{ url: string; live(): number }> {
  const live = new Set<tls.TLSSocket>();
  const server = tls.createServer({ cert: pki.server.cert, key: pki.server.key }, (s) => {
    live.add(s);
    s.on('close', () => live.delete(s));
    s.on('error', () => {});
    s.once('data', () => onRequest(s));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  peers.push({ port: 0, close: () => new Promise((ok) => { for (const s of live) s.destroy(); server.close(() => ok()); }) });
  return { url: `https://localhost:${(server.address() as AddressInfo).port}/`, live: () => live.size };
}

async function probe(url: string, limits: Partial<Limits>) {
  const t0 = performance.now();
  const r = await runProbe({ url, caPem: pki.serverCa.cert }, { limits: validateLimits(limits), onStep: () => {} });
  return { ...r, wallMs: performance.now() - t0 };
}

async function settle(): Promise<void> {
  await new Promise((ok) => setTimeout(ok, 100));
}

const cases: { name: string; peer: () => Promise<string>; limits: Partial<Limits>; want: string; withinMs: number }[] = [
  {
    name: 'accepts TCP and never speaks',
    peer: async () => { const p = await rawServer(() => {}); peers.push(p); return `https://127.0.0.1:${p.port}/`; },
    limits: { tlsTimeoutMs: 300 }, want: 'tls_timeout', withinMs: 1500,
  },
  {
    name: 'answers with garbage bytes',
    peer: async () => { const p = await rawServer((s) => s.once('data', () => s.end(Buffer.alloc(64, 0xab)))); peers.push(p); return `https://127.0.0.1:${p.port}/`; },
    limits: {}, want: 'not_tls', withinMs: 1500,
  },
  {
    name: 'stalls after the response headers',
    peer: async () => (await tlsPeer((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf'))).url,
    limits: { bodyTimeoutMs: 300 }, want: 'body_timeout', withinMs: 1500,
  },
  {
    name: 'sends an endless body',
    peer: async () => (await tlsPeer((s) => {
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
      const chunk = `${(64 * 1024).toString(16)}\r\n${'x'.repeat(64 * 1024)}\r\n`;
      const pump = () => { while (!s.destroyed && s.write(chunk)); if (!s.destroyed) s.once('drain', pump); };
      pump();
    })).url,
    limits: { maxResponseReadBytes: 1024 * 1024 }, want: 'response_too_large', withinMs: 3000,
  },
  {
    name: 'resets in the middle of the body',
    peer: async () => (await tlsPeer((s) => { s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial'); setTimeout(() => s.destroy(), 50); })).url,
    limits: {}, want: 'response_incomplete', withinMs: 1500,
  },
  {
    name: 'answers something that is not HTTP',
    peer: async () => (await tlsPeer((s) => s.end('SSH-2.0-OpenSSH_9.2\r\n'))).url,
    limits: {}, want: 'response_malformed', withinMs: 1500,
  },
];

for (const c of cases) {
  test(`fault peer that ${c.name} → ${c.want}`, async () => {
    const url = await c.peer();
    await probe(url, c.limits); // warm up lazily opened descriptors (DNS, crypto) before counting
    await settle();
    const fdsBefore = openFds();
    const r = await probe(url, c.limits);
    assert.deepEqual(r.diagnoses, [c.want]);
    assert.ok(r.wallMs < c.withinMs, `took ${Math.round(r.wallMs)} ms`);
    await settle();
    assert.ok(openFds() <= fdsBefore, `file descriptors: ${fdsBefore} before, ${openFds()} after`);
  });
}

test('slowloris against the relay\'s own HTTP server is cut off by headersTimeout', async () => {
  const relay = await startRelay({ port: 0, quiet: true, lab: false, limits: { headersTimeoutMs: 400, requestTimeoutMs: 800 }, dataDir: await mkdtemp(join(tmpdir(), 'h-')), webRoot: await mkdtemp(join(tmpdir(), 'h-')) });
  try {
    const socket = net.connect(relay.port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((ok) => socket.once('connect', ok));
    const t0 = performance.now();
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const drip = setInterval(() => socket.write('X-a: b\r\n'), 100);
    await new Promise((ok) => socket.once('close', ok));
    clearInterval(drip);
    assert.ok(performance.now() - t0 < 3000, 'the relay closed the dripping connection');
  } finally {
    await relay.close();
  }
});
