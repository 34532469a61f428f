// Secret canaries: a unique marker in every secret field, through success and failure paths.
// The markers must appear nowhere: not in events, logs, CLI output or error messages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { startRelay, type RunningRelay } from './relay.ts';
import { makeTestPki, type TestPki } from './testing/test-pki.ts';
import { freePort } from './testing/peers.ts';
import { harness } from './testing/cli.ts';

const marker = (field: string) => `CANARY${field}${randomBytes(6).toString('hex')}`;
const M = {
  authorization: marker('AUTHZ'),
  cookie: marker('COOKIE'),
  apiKey: marker('APIKEY'),
  proxy: marker('PROXY'),
  clientSecret: marker('CLIENTSECRET'),
  password: marker('PASSWORD'),
  jwt: marker('JWT'),
};
const ALL = Object.values(M);

let pki: TestPki;
let relay: RunningRelay;
let echoUrl: string;
const logs: string[] = [];
let echo: https.Server;

before(async () => {
  pki = await makeTestPki();
  // A careless server that echoes back everything it was sent.
  echo = https.createServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      res.writeHead(500, { 'content-type': 'application/json', 'set-cookie': `session=${M.cookie}`, 'x-echo-auth': String(req.headers.authorization) });
      res.end(JSON.stringify({ error: `bad request: ${body}`, headers: req.headers }));
    });
  });
  await new Promise<void>((ok) => echo.listen(0, '127.0.0.1', ok));
  echoUrl = `https://localhost:${(echo.address() as AddressInfo).port}/orders?apiKey=${M.apiKey}&x=1`;
  relay = await startRelay({ port: 0, logWriter: (l) => logs.push(l), dataDir: await mkdtemp(join(tmpdir(), 'canary-')), webRoot: await mkdtemp(join(tmpdir(), 'canary-')) });
});
after(async () => {
  await relay.close();
  echo.close();
});

function probeRequest(url: string) {
  return {
    url,
    method: 'POST' as const,
    headers: {
      Authorization: `Bearer ${M.authorization}`,
      Cookie: `sid=${M.cookie}`,
      apiKey: M.apiKey,
      'Proxy-Authorization': `Basic ${M.proxy}`,
      'X-Trace': `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.${M.jwt}`,
    },
    body: `client_secret=${M.clientSecret}&password=${M.password}&grant_type=client_credentials`,
    client: { certificatePem: pki.client.cert, privateKeyPem: pki.client.key },
    caPem: pki.serverCa.cert,
  };
}

async function runOverWs(probe: unknown): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/ws?token=${relay.token}`, { origin: relay.origin });
  await new Promise((ok, fail) => { ws.once('open', ok); ws.once('error', fail); });
  const frames: string[] = [];
  ws.send(JSON.stringify({ type: 'probe.start', id: 'c', probe }));
  await new Promise<void>((ok) => ws.on('message', (d) => {
    frames.push(String(d));
    if (JSON.parse(String(d)).type === 'run.finished') ok();
  }));
  ws.close();
  return frames.join('\n');
}

function assertNoMarkers(where: string, text: string): void {
  for (const m of ALL) assert.ok(!text.includes(m), `${where} contains ${m.slice(0, 20)}…`);
  const keyLine = pki.client.key.split('\n')[1]!;
  assert.ok(!text.includes(keyLine), `${where} contains the private key`);
}

test('success path with an echoing server: no marker in any event or log line', async () => {
  const text = await runOverWs(probeRequest(echoUrl));
  assert.match(text, /"status":500/, 'the run reached the echoing server');
  assertNoMarkers('events', text);
  assertNoMarkers('logs', logs.join(''));
});

test('failure paths (closed port, bad input): no marker in events or errors', async () => {
  const closed = await runOverWs(probeRequest(`https://127.0.0.1:${await freePort()}/x?apiKey=${M.apiKey}`));
  assert.match(closed, /connect_refused/);
  assertNoMarkers('closed-port events', closed);
  const bad = await runOverWs({ ...probeRequest(echoUrl), client: { certificatePem: pki.client.cert, privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${M.password}\n-----END PRIVATE KEY-----\n` } });
  assert.match(bad, /input_invalid/);
  assertNoMarkers('bad-input events', bad);
  assertNoMarkers('logs', logs.join(''));
});

test('CLI output (human and --json) carries no marker', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'canary-cli-'));
  await writeFile(join(dir, 'c.pem'), pki.client.cert);
  await writeFile(join(dir, 'c.key'), pki.client.key);
  await writeFile(join(dir, 'ca.pem'), pki.serverCa.cert);
  await writeFile(join(dir, 'body'), `client_secret=${M.clientSecret}&password=${M.password}`);
  for (const extra of [[], ['--json']]) {
    const out = await harness([
      'probe', echoUrl, '--cert', join(dir, 'c.pem'), '--key', join(dir, 'c.key'), '--ca', join(dir, 'ca.pem'), '--method', 'POST',
      '-H', `Authorization: Bearer ${M.authorization}`, '-H', `apiKey: ${M.apiKey}`, '-H', `Cookie: a=${M.cookie}`, '--data-file', join(dir, 'body'), ...extra,
    ]).then((r) => r.stdout + r.stderr);
    assert.match(out, /500/);
    assertNoMarkers(`CLI ${extra.join(' ') || 'human'} output`, out);
  }
});

// ---- a target that echoes the request in every encoding (issue 10): form, Basic, XML, JSON, query

import { startHostileTarget, type HostileTarget } from './testing/hostile-target.ts';

/** A canary wrapped in characters each encoding changes; its core survives every encoding but base64. */
const wrapped = (core: string) => `p+/= &<>"'\\${core}~!*()é`;
const core = (what: string) => `CANARY${what}${randomBytes(6).toString('hex')}`;
const C = {
  basic: core('BASIC'), xAuth: core('XAUTH'), form: core('FORM'), pin: core('PIN'), partner: core('PARTNER'),
  accessToken: core('QACCESS'), apiKeyQuery: core('QAPIKEY'), password: core('QPASSWORD'),
};
/** client_secret_basic as RFC 6749 §2.3.1 (and the relay) builds it: each part form-encoded. */
const basicCredential = (id: string, secret: string) => Buffer.from(`${new URLSearchParams([['', id]]).toString().slice(1)}:${encodeURIComponent(secret).replace(/%20/g, '+')}`).toString('base64');
const basicHeader = () => `Basic ${basicCredential('client-1', wrapped(C.basic))}`;

let hostile: HostileTarget | undefined;
/** Started by the first test that needs it (top-level hooks do not wait for each other). */
async function hostileBase(): Promise<string> {
  hostile ??= await startHostileTarget(pki.server);
  return hostile.base;
}
after(() => hostile?.close());

async function hostileProbe(as: 'json' | 'xml' | 'text' | 'form') {
  const base = await hostileBase();
  const query = new URLSearchParams({ access_token: wrapped(C.accessToken), api_key: wrapped(C.apiKeyQuery), password: wrapped(C.password), page: '2' });
  return {
    url: `${base}/echo/${as}?${query}`,
    method: 'POST' as const,
    headers: { Authorization: basicHeader(), 'X-Auth-Token': wrapped(C.xAuth), 'X-Partner-Key': wrapped(C.partner), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_secret: wrapped(C.form), pin: wrapped(C.pin), grant_type: 'client_credentials' }).toString(),
    caPem: pki.serverCa.cert,
    secretNames: ['X-Partner-Key', 'pin'],
  };
}

function assertNoCanary(where: string, text: string): void {
  for (const [name, c] of Object.entries(C)) {
    const at = text.indexOf(c);
    assert.ok(at < 0, `${where}: ${name} leaked: …${text.slice(Math.max(0, at - 120), at + 60)}…`);
  }
  const b64 = basicHeader().slice('Basic '.length);
  assert.ok(!text.includes(b64), `${where}: the Basic credential leaked`);
}

for (const as of ['json', 'xml', 'text', 'form'] as const) {
  test(`a target echoing every encoding (${as}): no canary in any event, copy-as-curl has variables`, async () => {
    const text = await runOverWs(await hostileProbe(as));
    assert.match(text, /"status":200/, 'the run reached the echoing target');
    assertNoCanary(`${as} events`, text);
    const curl = (JSON.parse(text.split('\n').find((f) => f.includes('"reproduce"'))!) as { step: { details: { reproduce: { curl: string } } } }).step.details.reproduce.curl;
    for (const variable of ['${ACCESS_TOKEN}', '${API_KEY}', '${PASSWORD}', '${X_PARTNER_KEY}', '${X_AUTH_TOKEN}', '${AUTHORIZATION}']) assert.ok(curl.includes(variable), `${variable} in ${curl}`);
    assert.ok(curl.includes('page=2'), curl);
  });
}

test('CLI --json against a target echoing every encoding: no canary', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'canary-cli-'));
  await writeFile(join(dir, 'ca.pem'), pki.serverCa.cert);
  const req = await hostileProbe('text');
  await writeFile(join(dir, 'body'), req.body);
  const out = await harness([
    'probe', req.url, '--ca', join(dir, 'ca.pem'), '--method', 'POST', '--json',
    '-H', `Authorization: ${req.headers.Authorization}`, '-H', `X-Auth-Token: ${req.headers['X-Auth-Token']}`, '--data-file', join(dir, 'body'),
  ]).then((r) => r.stdout + r.stderr);
  assert.match(out, /"status":200/);
  for (const name of ['basic', 'xAuth', 'form', 'accessToken', 'apiKeyQuery', 'password'] as const) assert.ok(!out.includes(C[name]), `CLI --json: ${name} leaked`);
});
