// jwks.fetch over a real relay WebSocket: the lab's key set, and each way a URL can fail to be
// one — with the reason said — against a test HTTPS server whose CA the request carries.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import net from 'node:net';
import WebSocket from 'ws';
import type { ServerMessage } from '../../shared/protocol/index.ts';
import { makeTestPki, type TestPki } from '../testing/test-pki.ts';
import { startRelay, type RunningRelay } from '../relay.ts';
import { JWKS_FETCH_LIMITS } from './fetch-jwks.ts';

type Reply = Extract<ServerMessage, { type: 'jwks.fetched' | 'error' }>;

const EC_PUBLIC = { kty: 'EC', crv: 'P-256', kid: 'ec-1', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' };

const ROUTES: Record<string, { status?: number; type: string; body: string }> = {
  '/jwks': { type: 'application/jwk-set+json', body: JSON.stringify({ keys: [{ ...EC_PUBLIC, use: 'sig', key_ops: ['verify'], ext: true }] }) },
  '/page': { type: 'text/html', body: '<!doctype html><title>Sign in</title>' },
  '/no-keys': { type: 'application/json', body: JSON.stringify({ issuer: 'https://example.test' }) },
  '/private': { type: 'application/json', body: JSON.stringify({ keys: [EC_PUBLIC, { ...EC_PUBLIC, kid: 'leaked', d: 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI' }] }) },
  '/too-many': { type: 'application/json', body: JSON.stringify({ keys: Array.from({ length: JWKS_FETCH_LIMITS.maxKeys + 1 }, (_, i) => ({ ...EC_PUBLIC, kid: `k${i}` })) }) },
  '/huge': { type: 'application/json', body: JSON.stringify({ keys: [], pad: 'x'.repeat(JWKS_FETCH_LIMITS.maxBodyBytes) }) },
  '/gone': { status: 404, type: 'application/json', body: '{"error":"not_found"}' },
};

let pki: TestPki;
let server: https.Server;
let serverPort: number;
let closedPort: number;
let relay: RunningRelay;

before(async () => {
  pki = await makeTestPki();
  server = https.createServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => {
    const route = ROUTES[req.url ?? ''] ?? ROUTES['/gone']!;
    res.writeHead(route.status ?? 200, { 'content-type': route.type }).end(route.body);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  serverPort = (server.address() as net.AddressInfo).port;
  // A port that was free a moment ago: nothing listens there now.
  const probe = net.createServer();
  await new Promise<void>((ok) => probe.listen(0, '127.0.0.1', ok));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((ok) => probe.close(() => ok()));
  relay = await startRelay({ port: 0, quiet: true, dataDir: await mkdtemp(join(tmpdir(), 'harness-jwks-')), webRoot: await mkdtemp(join(tmpdir(), 'harness-web-')) });
});

after(async () => {
  await relay.close();
  server.close();
});

/** Sends each frame on one connection, one at a time, and collects the reply with its id. */
async function ask(target: RunningRelay, frames: Record<string, unknown>[]): Promise<Reply[]> {
  const ws = new WebSocket(`ws://127.0.0.1:${target.port}/ws?token=${target.token}`, { origin: target.origin });
  let waiting: { id: string; resolve: (m: Reply) => void } | undefined;
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as ServerMessage;
    const w = waiting;
    if ((m.type === 'jwks.fetched' || m.type === 'error') && w && m.id === w.id) w.resolve(m);
  });
  await new Promise((ok, fail) => { ws.once('open', ok); ws.once('error', fail); });
  const replies: Reply[] = [];
  try {
    for (const f of frames) {
      replies.push(await new Promise<Reply>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reply to ${String(f.id)}`)), 30_000);
        waiting = { id: String(f.id), resolve: (m) => { clearTimeout(timer); resolve(m); } };
        ws.send(JSON.stringify(f));
      }));
    }
  } finally {
    ws.close();
  }
  return replies;
}

const fetchFrame = (id: string, url: string, caPem?: string) => ({ type: 'jwks.fetch', id, url, ...(caPem ? { caPem } : {}) });

test("the lab issuer's JWKS comes back with its signing key, public members only", async () => {
  const issuer = relay.lab!.info.targets.find((t) => t.id === 'issuer')!.url;
  const reply = (await ask(relay, [fetchFrame('lab', `${issuer}/jwks`)]))[0]!;
  if (reply.type !== 'jwks.fetched') return assert.fail(JSON.stringify(reply));
  assert.equal(reply.url, `${issuer}/jwks`);
  assert.ok(Math.abs(reply.fetchedAt - Date.now()) < 30_000);
  assert.equal(reply.keys.length, 1);
  const [key] = reply.keys;
  assert.equal(key!.kty, 'RSA');
  assert.match(String(key!.kid), /\S/);
  assert.deepEqual(Object.keys(key!).filter((m) => !['kty', 'kid', 'alg', 'use', 'n', 'e'].includes(m)), []);
});

const failures: { name: string; frame: () => Record<string, unknown>; code: string; message: RegExp }[] = [
  { name: 'a key set with extra members is stripped to public ones', frame: () => fetchFrame('ok', `https://localhost:${serverPort}/jwks`, pki.serverCa.cert), code: 'jwks.fetched', message: /^\{"kty":"EC","kid":"ec-1","use":"sig","crv":"P-256","x":"[^"]+","y":"[^"]+"\}$/ },
  { name: 'an HTML page is not JSON', frame: () => fetchFrame('html', `https://localhost:${serverPort}/page`, pki.serverCa.cert), code: 'jwks_fetch_failed', message: /^the response is not JSON \(content-type text\/html, \d+ bytes\)/ },
  { name: 'JSON without keys', frame: () => fetchFrame('nokeys', `https://localhost:${serverPort}/no-keys`, pki.serverCa.cert), code: 'jwks_fetch_failed', message: /no "keys" array: not a JWK Set/ },
  { name: 'a private d is refused', frame: () => fetchFrame('private', `https://localhost:${serverPort}/private`, pki.serverCa.cert), code: 'jwks_fetch_failed', message: /^keys\[1\] \(kid leaked\) has private member d: .*refused/ },
  { name: 'more keys than allowed', frame: () => fetchFrame('many', `https://localhost:${serverPort}/too-many`, pki.serverCa.cert), code: 'jwks_fetch_failed', message: new RegExp(`has ${JWKS_FETCH_LIMITS.maxKeys + 1} keys; at most ${JWKS_FETCH_LIMITS.maxKeys}`) },
  { name: 'a body past the cap', frame: () => fetchFrame('huge', `https://localhost:${serverPort}/huge`, pki.serverCa.cert), code: 'jwks_fetch_failed', message: /^response_too_large: / },
  { name: 'an HTTP error status', frame: () => fetchFrame('gone', `https://localhost:${serverPort}/gone`, pki.serverCa.cert), code: 'jwks_fetch_failed', message: /answered HTTP 404 \(content-type application\/json\)/ },
  { name: 'a closed port', frame: () => fetchFrame('closed', `https://127.0.0.1:${closedPort}/jwks`), code: 'jwks_fetch_failed', message: /^connect_refused: Nothing is listening/ },
  { name: 'a server CA not given', frame: () => fetchFrame('untrusted', `https://localhost:${serverPort}/jwks`), code: 'jwks_fetch_failed', message: /^server_chain_incomplete: .*UNABLE_TO_VERIFY_LEAF_SIGNATURE/ },
  { name: 'plain http to a non-lab host', frame: () => fetchFrame('http', `http://localhost:${serverPort}/jwks`), code: 'jwks_fetch_failed', message: /^http:\/\/ is refused/ },
  { name: 'no url', frame: () => ({ type: 'jwks.fetch', id: 'nourl' }), code: 'bad_message', message: /^url must be a string$/ },
  { name: 'url past 2048 characters', frame: () => fetchFrame('long', `https://localhost/${'a'.repeat(2048)}`), code: 'bad_message', message: /^url is longer than 2048 characters$/ },
  { name: 'a relative url', frame: () => fetchFrame('rel', '/jwks'), code: 'bad_message', message: /absolute https:\/\/ URL/ },
  { name: 'a file url', frame: () => fetchFrame('file', 'file:///etc/passwd'), code: 'bad_message', message: /file:\/\/ is not HTTP/ },
  { name: 'credentials in the url', frame: () => fetchFrame('user', 'https://me:pw@localhost/jwks'), code: 'bad_message', message: /user name or password/ },
  { name: 'caPem that is not PEM', frame: () => fetchFrame('ca', 'https://localhost/jwks', 'not a pem'), code: 'bad_message', message: /caPem must be a PEM bundle/ },
];

test('each failure is answered with its code and a specific message', async () => {
  const replies = await ask(relay, failures.map((c) => c.frame()));
  for (const [i, c] of failures.entries()) {
    const reply = replies[i]!;
    if (c.code === 'jwks.fetched') {
      assert.equal(reply.type, 'jwks.fetched', `${c.name}: ${JSON.stringify(reply)}`);
      if (reply.type === 'jwks.fetched') assert.match(JSON.stringify(reply.keys[0]), c.message, c.name);
      continue;
    }
    assert.equal(reply.type, 'error', `${c.name}: ${JSON.stringify(reply)}`);
    if (reply.type !== 'error') continue;
    assert.equal(reply.code, c.code, `${c.name}: ${reply.message}`);
    assert.match(reply.message, c.message, c.name);
  }
});

test('hosted relay: the outbound guard refuses a loopback key set', async () => {
  const hosted = await startRelay({ port: 0, hosted: true, quiet: true, lab: false, allowPorts: [serverPort], dataDir: await mkdtemp(join(tmpdir(), 'harness-jwks-')), webRoot: await mkdtemp(join(tmpdir(), 'harness-web-')) });
  try {
    const reply = (await ask(hosted, [fetchFrame('ssrf', `https://127.0.0.1:${serverPort}/jwks`, pki.serverCa.cert)]))[0]!;
    if (reply.type !== 'error') return assert.fail(JSON.stringify(reply));
    assert.equal(reply.code, 'jwks_fetch_failed');
    assert.match(reply.message, /^target_address_refused: /);
  } finally {
    await hosted.close();
  }
});
