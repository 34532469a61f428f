// The edges of the relay's HTTP port that anyone who can reach it can touch without the token:
// refused upgrades must not flood the log, every response carries nosniff and a CSP, and idle
// sockets that never become a session are capped so an honest client still gets in.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import WebSocket from 'ws';
import { startRelay, type RelayOptions, type RunningRelay } from './relay.ts';
import type { ServerMessage } from '../shared/protocol/index.ts';

const started: RunningRelay[] = [];
after(async () => { await Promise.all(started.map((r) => r.close())); });

async function relayWith(opts: RelayOptions = {}): Promise<RunningRelay> {
  const relay = await startRelay({
    port: 0, quiet: true, lab: false,
    dataDir: await mkdtemp(join(tmpdir(), 'harness-edges-')),
    webRoot: await mkdtemp(join(tmpdir(), 'harness-edges-web-')),
    ...opts,
  });
  started.push(relay);
  return relay;
}

/** Writes raw bytes to the relay and reads everything until it closes. */
function raw(port: number, request: string, localAddress?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) }, () => s.write(request));
    let text = '';
    s.on('data', (d) => { text += d.toString('latin1'); });
    s.on('close', () => resolve(text));
    s.on('error', reject);
  });
}

function upgradeRequest(relay: RunningRelay, o: { path?: string; origin?: string; key?: string } = {}): string {
  return `GET ${o.path ?? `/ws?token=${relay.token}`} HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n`
    + `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${o.key ?? 'dGhlIHNhbXBsZSBub25jZQ=='}\r\nOrigin: ${o.origin ?? relay.origin}\r\n\r\n`;
}

function headersOf(response: string): { status: number; headers: Map<string, string>; body: string } {
  const [head = '', body = ''] = response.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as const));
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

// ---- (a) refused upgrades are logged, but not without bound

test('a flood of refused upgrades writes a bounded number of log lines, then one summary per reason', async (t) => {
  const lines: string[] = [];
  const relay = await relayWith({ quiet: false, logWriter: (l) => lines.push(l), limits: { logLinesPerReason: 5, logWindowMs: 3_000 } });
  lines.length = 0;
  // The log window is a setTimeout: mocked, it ends when the test says, however long the flood
  // takes on a loaded machine, and the test does not sleep through it.
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const flood = [
    ...Array.from({ length: 150 }, () => upgradeRequest(relay, { origin: 'https://evil.example' })),
    ...Array.from({ length: 50 }, () => upgradeRequest(relay, { path: '/ws?token=wrong' })),
  ];
  for (let i = 0; i < flood.length; i += 25) {
    const answers = await Promise.all(flood.slice(i, i + 25).map((r) => raw(relay.port, r)));
    for (const a of answers) assert.match(a, /^HTTP\/1\.1 403 /);
  }
  const refusedLines = () => lines.filter((l) => l.includes('websocket upgrade refused'));
  assert.equal(refusedLines().length, 10, 'five lines per reason while the flood lasts');
  const summaries = () => refusedLines().filter((l) => l.includes('more websocket upgrade refused'));
  t.mock.timers.tick(2_999);
  assert.deepEqual(summaries(), [], 'no summary before the window ends');
  t.mock.timers.tick(1);
  assert.deepEqual(summaries().map((l) => l.replace(/^\S+ /, '').trim()).sort(), [
    'info …and 145 more websocket upgrade refused (Origin not allowed) in the last 3 s',
    'info …and 45 more websocket upgrade refused (missing or wrong access token) in the last 3 s',
  ]);
  // A new window writes lines again.
  await raw(relay.port, upgradeRequest(relay, { origin: 'https://evil.example' }));
  assert.equal(refusedLines().length, 13);
  t.mock.timers.reset();
});

// ---- (b) every response the relay writes carries nosniff and a CSP

const responseKinds: { name: string; request: (r: RunningRelay) => string; status: number; csp: RegExp }[] = [
  { name: 'GET /ws with the token (426)', request: (r) => `GET /ws?token=${r.token} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, status: 426, csp: /^default-src 'none'/ },
  { name: 'GET /ws without it (403)', request: () => 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', status: 403, csp: /^default-src 'none'/ },
  { name: 'a callback nobody waits for (404)', request: () => 'GET /callback/nobody?code=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', status: 404, csp: /default-src 'none'/ },
  { name: 'the app shell when the app is not built (503)', request: () => 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', status: 503, csp: /^default-src 'none'/ },
  { name: 'a missing asset (404)', request: () => 'GET /missing.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', status: 404, csp: /^default-src 'none'/ },
  { name: 'a method the files do not take (405)', request: () => 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', status: 405, csp: /^default-src 'none'/ },
  { name: 'an undecodable path (400)', request: () => 'GET /%ff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', status: 400, csp: /^default-src 'none'/ },
  { name: 'a refused upgrade (403)', request: (r) => upgradeRequest(r, { origin: 'https://evil.example' }), status: 403, csp: /^default-src 'none'/ },
  { name: 'an upgrade to another path (404)', request: (r) => upgradeRequest(r, { path: '/elsewhere' }), status: 404, csp: /^default-src 'none'/ },
  { name: 'an upgrade ws refuses: bad key (400)', request: (r) => upgradeRequest(r, { key: 'short' }), status: 400, csp: /^default-src 'none'/ },
  { name: 'a request Node cannot parse (400)', request: () => 'NOT HTTP AT ALL\r\n\r\n', status: 400, csp: /^default-src 'none'/ },
  { name: 'request headers over the limit (431)', request: () => `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, status: 431, csp: /^default-src 'none'/ },
];

for (const kind of responseKinds) {
  test(`headers on ${kind.name}: nosniff, a CSP, no referrer`, async () => {
    const relay = await relayWith();
    const { status, headers } = headersOf(await raw(relay.port, kind.request(relay)));
    assert.equal(status, kind.status);
    assert.equal(headers.get('x-content-type-options'), 'nosniff');
    assert.match(headers.get('content-security-policy') ?? '(none)', kind.csp);
    assert.match(headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(headers.get('referrer-policy'), 'no-referrer');
  });
}

/** GET over http(s) without following redirects; the lab's pages are trusted as the relay's lab. */
function get(url: string, cookie: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.get(u, { headers: cookie ? { cookie } : {}, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

test('the callback page of a real authorization code flow: its CSP allows exactly its script, and the flow completes', async () => {
  const relay = await relayWith({ lab: true });
  const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/ws?token=${relay.token}`, { origin: relay.origin });
  const frames: ServerMessage[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (d) => { frames.push(JSON.parse(String(d)) as ServerMessage); for (const w of waiters.splice(0)) w(); });
  await new Promise((ok, fail) => { ws.once('open', ok); ws.once('error', fail); });
  const next = async <T extends ServerMessage>(pred: (m: ServerMessage) => boolean): Promise<T> => {
    for (;;) {
      const found = frames.find(pred);
      if (found) return found as T;
      await new Promise<void>((ok) => waiters.push(ok));
    }
  };
  ws.send(JSON.stringify({ type: 'flow.start', id: 'ac', flow: { kind: 'authorization-code', issuer: relay.lab!.tokens!.issuer, clientAuth: { method: 'client_secret_basic', clientId: 'lab-basic', clientSecret: 'lab-basic-secret' }, redirectKey: 'edges' } }));
  const authorize = await next<Extract<ServerMessage, { type: 'step' }>>((m) => m.type === 'step' && m.step.id === 'authorize' && m.step.status !== 'running');
  let url = (authorize.step.details as { authorizationUrl: string }).authorizationUrl;
  const cookies: string[] = [];
  let page: Awaited<ReturnType<typeof get>> | undefined;
  for (let hop = 0; hop < 10 && !page; hop++) {
    const res = await get(url, cookies.join('; '));
    for (const c of res.headers['set-cookie'] ?? []) cookies.push(c.split(';')[0]!);
    if (res.status >= 300 && res.status < 400 && res.headers.location) url = new URL(res.headers.location, url).toString();
    else page = res;
  }
  assert.ok(page && url.startsWith(`${relay.origin}/callback/edges`), `ended on ${url}`);
  assert.equal(page.status, 200);
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  assert.equal(page.headers['referrer-policy'], 'no-referrer');
  const csp = String(page.headers['content-security-policy']);
  assert.match(csp, /^default-src 'none'/);
  const scripts = [...page.body.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
  assert.ok(scripts.length > 0, 'the page closes itself with a script');
  for (const s of scripts) assert.ok(csp.includes(`'sha256-${createHash('sha256').update(s).digest('base64')}'`), `script ${s} is allowed by the CSP`);
  if (/ style="/.test(page.body)) assert.match(csp, /style-src 'unsafe-inline'/);
  assert.doesNotMatch(csp, /script-src[^;]*'unsafe-inline'/);
  const done = await next<Extract<ServerMessage, { type: 'run.finished' }>>((m) => m.type === 'run.finished');
  assert.equal(done.outcome, 'pass');
  ws.close();
});

// ---- (c) sockets that are not (yet) a session are capped

function idleSocket(port: number, localAddress: string): Promise<{ socket: net.Socket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    const t0 = performance.now();
    const closed = new Promise<number>((ok) => socket.on('close', () => ok(performance.now() - t0)));
    socket.on('error', () => {});
    socket.resume(); // read, or the relay's close is never seen
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

async function session(relay: RunningRelay, localAddress: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/ws?token=${relay.token}`, { origin: relay.origin, localAddress });
  await new Promise((ok, fail) => { ws.once('open', ok); ws.once('error', fail); });
  return ws;
}

function ping(ws: WebSocket, id: string): Promise<void> {
  return new Promise((ok) => {
    const on = (d: WebSocket.RawData) => { const m = JSON.parse(String(d)) as ServerMessage; if (m.type === 'pong' && m.id === id) { ws.off('message', on); ok(); } };
    ws.on('message', on);
    ws.send(JSON.stringify({ type: 'ping', id }));
  });
}

test('idle sockets are capped per address and relay-wide; an honest client still gets in', async () => {
  const relay = await relayWith({ limits: { preAuthSockets: 6, preAuthSocketsPerAddress: 4, headersTimeoutMs: 1_500 } });
  const flood = await Promise.all(Array.from({ length: 4 }, () => idleSocket(relay.port, '127.0.0.1')));
  // The fifth from the same address is closed at once, long before any timeout.
  const fifth = await idleSocket(relay.port, '127.0.0.1');
  assert.ok(await fifth.closed < 1_000, 'the fifth socket from one address is closed at accept');
  // Another host is not locked out by the first one's flood.
  const honest = await session(relay, '127.0.0.2');
  await ping(honest, 'during-flood');
  // A session no longer counts: two more idle sockets from a third address fill the relay-wide cap.
  const more = await Promise.all([idleSocket(relay.port, '127.0.0.3'), idleSocket(relay.port, '127.0.0.3')]);
  const beyond = await idleSocket(relay.port, '127.0.0.4');
  assert.ok(await beyond.closed < 1_000, 'past the relay-wide cap a socket is closed at accept');
  await ping(honest, 'at-the-cap');
  // Idle sockets are cut by the header deadline and their places come back.
  const held = await Promise.all([...flood, ...more].map((f) => f.closed));
  assert.ok(held.every((ms) => ms >= 1_000 && ms < 5_000), `idle sockets held ${held.map(Math.round).join(', ')} ms`);
  const later = await session(relay, '127.0.0.1');
  await ping(later, 'after');
  honest.close();
  later.close();
});
