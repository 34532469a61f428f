// The relay end to end over a real WebSocket: the upgrade guard, protocol errors that leave
// the connection and other runs alone, lab CSR signing and probes against the lab.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import tls from 'node:tls';
import WebSocket from 'ws';
import { startRelay, type RunningRelay } from './relay.ts';
import { detailsOf, type ServerMessage } from '../shared/protocol/index.ts';
import { generateKeyPair, createCsr, exportPkcs8Pem } from '../shared/pki/issue.ts';
import { RelayClient, type Msg } from './testing/relay-client.ts';
import { openContexts } from './net/tls-contexts.ts';

let relay: RunningRelay;

before(async () => {
  relay = await startRelay({ port: 0, dataDir: await mkdtemp(join(tmpdir(), 'harness-relay-')), quiet: true, webRoot: await mkdtemp(join(tmpdir(), 'harness-web-')) });
});
after(() => relay.close());

/** Raw upgrade request, so the status of a refused upgrade can be read. */
function upgrade(opts: { path?: string; origin?: string | null; host?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      host: opts.host ?? `127.0.0.1:${relay.port}`,
    };
    if (opts.origin !== null) headers.origin = opts.origin ?? relay.origin;
    const req = http.request({ host: '127.0.0.1', port: relay.port, path: opts.path ?? `/ws?token=${relay.token}`, headers });
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve(res.statusCode ?? 0); });
    req.on('response', (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', reject);
    req.end();
  });
}

const upgradeMatrix: { name: string; opts: () => Parameters<typeof upgrade>[0]; want: number }[] = [
  { name: 'token, own Origin and Host', opts: () => ({}), want: 101 },
  { name: 'localhost Origin and Host', opts: () => ({ origin: `http://localhost:${relay.port}`, host: `localhost:${relay.port}` }), want: 101 },
  { name: 'no token', opts: () => ({ path: '/ws' }), want: 403 },
  { name: 'wrong token', opts: () => ({ path: `/ws?token=${'0'.repeat(64)}` }), want: 403 },
  { name: 'token of a different length', opts: () => ({ path: '/ws?token=abc' }), want: 403 },
  { name: 'foreign Origin', opts: () => ({ origin: 'https://evil.example' }), want: 403 },
  { name: 'missing Origin', opts: () => ({ origin: null }), want: 403 },
  { name: 'Origin "null"', opts: () => ({ origin: 'null' }), want: 403 },
  { name: 'Origin with the relay as a prefix', opts: () => ({ origin: `http://localhost:${relay.port}.evil.example` }), want: 403 },
  { name: 'rebinding Host', opts: () => ({ host: `evil.example:${relay.port}` }), want: 403 },
  { name: 'Host on another port', opts: () => ({ host: '127.0.0.1:1' }), want: 403 },
];
for (const c of upgradeMatrix) {
  test(`upgrade with ${c.name} → ${c.want}`, async () => {
    assert.equal(await upgrade(c.opts()), c.want);
  });
}

/** A probe from start to finish, with the steps it streamed. */
async function run(c: RelayClient, probe: unknown): Promise<{ finished: Msg<'run.finished'>; steps: Msg<'step'>[] }> {
  const finished = await c.probe(probe);
  const steps = c.messages.filter((m): m is Msg<'step'> => m.type === 'step' && m.runId === finished.runId);
  return { finished, steps };
}

async function labCredentials(client: RelayClient, alg: 'P-256' | 'RSA-2048' = 'P-256') {
  const keys = await generateKeyPair(alg, true);
  const csrPem = await createCsr(keys, 'CN=relay-test-client');
  client.send({ type: 'lab.sign', id: 'sign-1', csrPem });
  const signed = await client.next<Extract<ServerMessage, { type: 'lab.signed' }>>((m) => m.type === 'lab.signed' && m.id === 'sign-1');
  return { certificatePem: signed.certificatePem, privateKeyPem: await exportPkcs8Pem(keys.privateKey) };
}

test('welcome names the protocol version and the lab target', async () => {
  const c = await RelayClient.open(relay);
  const welcome = await c.next<Extract<ServerMessage, { type: 'welcome' }>>((m) => m.type === 'welcome');
  assert.equal(welcome.version, 1);
  assert.match(welcome.relay.lab!.targets[0]!.url, /^https:\/\/localhost:\d+\/orders$/);
  c.ws.close();
});

test('lab signs a browser-style CSR and the probe with it passes', async () => {
  const c = await RelayClient.open(relay);
  const client = await labCredentials(c, 'RSA-2048');
  const lab = relay.lab!.info.targets[0]!.url;
  const { finished, steps } = await run(c, { url: lab, client });
  assert.equal(finished.outcome, 'pass');
  assert.deepEqual(finished.diagnoses, []);
  const finalIds = [...new Map(steps.map((s) => [s.step.id, s.step.status])).entries()];
  assert.deepEqual(finalIds, [['inputs', 'ok'], ['dns', 'ok'], ['tcp', 'ok'], ['tls', 'ok'], ['request', 'ok'], ['response', 'ok'], ['verdict', 'ok']]);
  const response = steps.findLast((s) => s.step.id === 'response')!.step;
  assert.match(String(detailsOf(response, 'response')?.body), /relay-test-client/);
  const keyText = JSON.stringify(c.messages);
  assert.ok(!keyText.includes(client.privateKeyPem.split('\n')[1]!), 'the private key is never echoed');
  c.ws.close();
});

test('a probe repeated in one session parses its key once; the session\'s end drops what it kept', async () => {
  const c = await RelayClient.open(relay);
  const client = await labCredentials(c);
  const lab = relay.lab!.info.targets[0]!.url;
  const before = openContexts();
  const build = tls.createSecureContext;
  let built = 0;
  tls.createSecureContext = (...args) => { built++; return build(...args); };
  try {
    for (let i = 0; i < 3; i++) assert.equal((await run(c, { url: lab, client })).finished.outcome, 'pass');
  } finally {
    tls.createSecureContext = build;
  }
  assert.equal(built, 1, 'one TLS context for three runs');
  assert.equal(openContexts() - before, 1, 'kept for the session after its runs');
  c.ws.close();
  await c.closed;
  for (let i = 0; i < 100 && openContexts() !== before; i++) await new Promise((ok) => setTimeout(ok, 20));
  assert.equal(openContexts(), before, 'no context (and no key) outlives the session');
});

test('probe of the lab without a certificate fails with client_cert_required and its fix', async () => {
  const c = await RelayClient.open(relay);
  const { finished, steps } = await run(c, { url: relay.lab!.info.targets[0]!.url });
  assert.equal(finished.outcome, 'fail');
  assert.deepEqual(finished.diagnoses, ['client_cert_required']);
  const failed = steps.findLast((s) => s.step.diagnosis)!.step;
  assert.match(failed.diagnosis!.fix.client, /client certificate/);
  c.ws.close();
});

const badFrames: { name: string; frame: string; want: string; message?: RegExp }[] = [
  { name: 'not JSON', frame: '{nope', want: 'bad_json' },
  { name: 'an array', frame: '[1,2]', want: 'bad_message' },
  { name: 'no type', frame: '{"id":"x"}', want: 'bad_message' },
  { name: 'unknown type', frame: '{"type":"shell.exec","id":"x"}', want: 'unknown_type' },
  { name: 'no id', frame: '{"type":"ping"}', want: 'bad_message' },
  { name: 'probe without url', frame: '{"type":"probe.start","id":"x","probe":{}}', want: 'bad_message' },
  { name: 'header with CRLF', frame: '{"type":"probe.start","id":"x","probe":{"url":"https://a/","headers":{"x":"a\\r\\nb: c"}}}', want: 'bad_message' },
  { name: '__proto__ key', frame: '{"type":"probe.start","id":"x","probe":{"url":"https://a/","headers":{"__proto__":"x"}}}', want: 'bad_message' },
  { name: 'cancel of an unknown run', frame: '{"type":"run.cancel","id":"x","runId":"r0"}', want: 'unknown_run' },
  // The CSR reader's own words come through: the relay knows its CsrError.
  { name: 'CSR that is not a CSR', frame: '{"type":"lab.sign","id":"x","csrPem":"hello"}', want: 'csr_invalid', message: /^the text is not a PEM certificate signing request/ },
];

test('malformed frames get structured errors; the connection and a concurrent run carry on', async () => {
  const c = await RelayClient.open(relay);
  const client = await labCredentials(c);
  const running = run(c, { url: relay.lab!.info.targets[0]!.url, client });
  for (const f of badFrames) {
    const before = c.messages.length;
    c.send(f.frame);
    const err = await c.next<Extract<ServerMessage, { type: 'error' }>>((m) => m.type === 'error' && c.messages.indexOf(m) >= before);
    assert.equal(err.code, f.want, `${f.name}: ${err.message}`);
    assert.ok(err.message.length > 5);
    if (f.message) assert.match(err.message, f.message, f.name);
  }
  c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  await c.next((m) => m.type === 'error' && /binary/.test(m.message));
  const { finished } = await running;
  assert.equal(finished.outcome, 'pass');
  c.send({ type: 'ping', id: 'alive' });
  await c.next((m) => m.type === 'pong' && m.id === 'alive');
  c.ws.close();
});

test('an oversize frame closes only that connection (1009); others keep working', async () => {
  const [big, other] = await Promise.all([RelayClient.open(relay), RelayClient.open(relay)]);
  const closed = new Promise<number>((ok) => big.ws.on('close', (code) => ok(code)));
  big.send('x'.repeat(1024 * 1024 + 10));
  assert.equal(await closed, 1009);
  other.send({ type: 'ping', id: 'p' });
  await other.next((m) => m.type === 'pong');
  other.ws.close();
});

test('the relay serves the app shell with a strict CSP and no directory escape', async () => {
  const get = (path: string) => new Promise<{ status: number; headers: http.IncomingHttpHeaders }>((ok, fail) => {
    http.get({ host: '127.0.0.1', port: relay.port, path }, (res) => { res.resume(); ok({ status: res.statusCode ?? 0, headers: res.headers }); }).on('error', fail);
  });
  const escape = await get('/..%2f..%2fetc%2fpasswd');
  assert.notEqual(escape.status, 200);
  const missing = await get('/nothing.js');
  assert.equal(missing.status, 404);
});

test('a plain GET of /ws tells a wrong token (403) from a right one (426) and nothing more', async () => {
  const status = (path: string) => new Promise<number>((ok, fail) => {
    http.get({ host: '127.0.0.1', port: relay.port, path }, (res) => { res.resume(); ok(res.statusCode ?? 0); }).on('error', fail);
  });
  assert.equal(await status('/ws'), 403);
  assert.equal(await status('/ws?token=nope'), 403);
  assert.equal(await status(`/ws?token=${relay.token}`), 426);
});

test('a browser that vanishes is noticed within two heartbeats; its runs are cancelled and their sockets closed', async () => {
  const { rawServer } = await import('./testing/peers.ts');
  let live = 0;
  const silent = await rawServer((s) => { live++; s.on('close', () => live--); });
  const quick = await startRelay({ port: 0, quiet: true, lab: false, limits: { heartbeatMs: 200, tlsTimeoutMs: 30_000 }, dataDir: await mkdtemp(join(tmpdir(), 'hb-')), webRoot: await mkdtemp(join(tmpdir(), 'hb-')) });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${quick.port}/ws?token=${quick.token}`, { origin: quick.origin });
    await new Promise((ok) => ws.once('open', ok));
    ws.send(JSON.stringify({ type: 'probe.start', id: 'hang', probe: { url: `https://127.0.0.1:${silent.port}/` } }));
    await new Promise((ok) => ws.on('message', (d) => { if (JSON.parse(String(d)).type === 'run.started') ok(undefined); }));
    for (let i = 0; i < 50 && live === 0; i++) await new Promise((ok) => setTimeout(ok, 20));
    assert.equal(live, 1, 'the run holds a connection to the target');
    // Stop reading: pings go unanswered, like a laptop lid closed mid-run.
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const t0 = performance.now();
    for (let i = 0; i < 100 && live > 0; i++) await new Promise((ok) => setTimeout(ok, 20));
    assert.equal(live, 0, 'the target connection was closed');
    assert.ok(performance.now() - t0 < 2 * 200 + 400, `took ${Math.round(performance.now() - t0)} ms`);
    ws.terminate();
  } finally {
    await quick.close();
    await silent.close();
  }
});

/** lab.sign profiles through the relay, each probed at the lab target its lesson uses. */
const PROFILE_RUNS: { profile: string; cn: string; target: string; outcome: string; diagnoses: string[] }[] = [
  { profile: 'intermediate', cn: 'relay-test-client', target: 'intermediate', outcome: 'pass', diagnoses: [] },
  { profile: 'intermediate-no-chain', cn: 'relay-test-client', target: 'intermediate', outcome: 'fail', diagnoses: ['client_cert_unknown_ca', 'client_ca_not_acceptable'] },
  { profile: 'expired', cn: 'relay-test-client', target: 'mtls', outcome: 'fail', diagnoses: ['client_cert_expired'] },
  { profile: 'client', cn: 'lab-client', target: 'coupa', outcome: 'fail', diagnoses: ['access_denied'] },
  { profile: 'regional', cn: 'acme-genesys', target: 'rotation', outcome: 'pass', diagnoses: [] },
  { profile: 'revoked', cn: 'acme-genesys', target: 'rotation', outcome: 'fail', diagnoses: ['client_cert_revoked'] },
];
for (const c of PROFILE_RUNS) {
  test(`lab.sign profile ${c.profile} probed at lab:${c.target} → ${c.outcome} ${c.diagnoses.join(', ')}`, async () => {
    const ws = await RelayClient.open(relay);
    const keys = await generateKeyPair('P-256', true);
    ws.send({ type: 'lab.sign', id: 'sign-p', csrPem: await createCsr(keys, `CN=${c.cn}`), profile: c.profile });
    const signed = await ws.next<Extract<ServerMessage, { type: 'lab.signed' }>>((m) => m.type === 'lab.signed' && m.id === 'sign-p');
    // The chain as the browser's keyring keeps it: intermediates only (roots are the server's to hold).
    // Every chain the lab returns ends with its root.
    const intermediates = signed.chainPem.split(/(?=-----BEGIN CERTIFICATE-----)/).slice(0, -1).join('');
    const url = relay.lab!.info.targets.find((t) => t.id === c.target)!.url;
    const { finished } = await run(ws, { url, client: { certificatePem: signed.certificatePem + intermediates, privateKeyPem: await exportPkcs8Pem(keys.privateKey) } });
    assert.equal(finished.outcome, c.outcome);
    assert.deepEqual(finished.diagnoses, c.diagnoses);
    ws.ws.close();
  });
}

test('lab.sign with an unknown profile is refused, naming the profiles', async () => {
  const ws = await RelayClient.open(relay);
  ws.send({ type: 'lab.sign', id: 'sign-x', csrPem: 'x', profile: 'root-ca' });
  const err = await ws.next<Extract<ServerMessage, { type: 'error' }>>((m) => m.type === 'error' && m.id === 'sign-x');
  assert.equal(err.code, 'bad_message');
  assert.match(err.message, /profile must be one of client, intermediate/);
  ws.ws.close();
});
