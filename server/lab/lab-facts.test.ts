// The facts the welcome's lab info gives the app (demo clients and their secrets, which targets
// are issuers, the API key) must be the lab's own: each is tried against the running lab.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLab, type RunningLab } from './lab.ts';

let lab: RunningLab;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lab-facts-'));
  lab = await startLab({ dataDir: dir, port: 0 });
});
after(async () => {
  await lab.close();
  await rm(dir, { recursive: true, force: true });
});

function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: init.method ?? 'GET', headers: init.headers ?? {}, ca: lab.serverCaPem }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

const target = (id: string) => {
  const t = lab.info.targets.find((x) => x.id === id);
  assert.ok(t, `the lab has a target ${id}`);
  return t.url;
};

test('every demo client with a secret gets a token with it, as the welcome says', async () => {
  const withSecret = lab.info.clients.filter((c) => c.method === 'client_secret_basic' || c.method === 'client_secret_post');
  assert.deepEqual(withSecret.map((c) => c.clientId), ['lab-basic', 'lab-post', 'lab-seed']);
  for (const c of withSecret) {
    assert.ok(c.secret, `${c.clientId} has its secret`);
    const form = new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read' });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (c.method === 'client_secret_basic') headers.authorization = `Basic ${Buffer.from(`${c.clientId}:${c.secret}`).toString('base64')}`;
    else form.set('client_id', c.clientId), form.set('client_secret', c.secret);
    const res = await call(target('token'), { method: 'POST', headers, body: form.toString() });
    assert.equal(res.status, 200, `${c.clientId}: ${res.body}`);
    assert.ok('access_token' in JSON.parse(res.body));
  }
});

test('clients that authenticate without a secret carry none', () => {
  for (const c of lab.info.clients) {
    const usesSecret = c.method === 'client_secret_basic' || c.method === 'client_secret_post' || c.method === 'client_secret_jwt';
    assert.equal(c.secret !== undefined, usesSecret, c.clientId);
  }
});

test('the issuers are exactly the targets that serve discovery metadata for their own URL', async () => {
  assert.equal(lab.info.issuers[0], 'issuer');
  for (const t of lab.info.targets) {
    if (t.id === 'rotation-crl') continue;
    const res = await call(`${t.url.replace(/\/$/, '')}/.well-known/openid-configuration`);
    const issuer = res.status === 200 ? (JSON.parse(res.body) as { issuer?: string }).issuer : undefined;
    assert.equal(lab.info.issuers.includes(t.id), issuer === t.url, `${t.id} (${res.status})`);
  }
});

test('the API-key target accepts the key and user the welcome names', async () => {
  const { key, username } = lab.info.apiKey;
  assert.equal((await call(target('apikey'), { headers: { apiKey: key, username } })).status, 200);
  assert.equal((await call(target('apikey'), { headers: { apiKey: `${key}x`, username } })).status, 403);
});

test('a registered client\'s id begins with the prefix the welcome names, and is not a demo client', async () => {
  const { publicKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const publicJwk = await crypto.subtle.exportKey('jwk', publicKey);
  assert.ok(lab.tokens, 'the lab runs its token service');
  const reg = await lab.tokens.register({ publicJwk: { kty: 'EC', crv: 'P-256', x: publicJwk.x!, y: publicJwk.y! } });
  assert.ok(reg.clientId.startsWith(lab.info.registeredClientPrefix), reg.clientId);
  assert.ok(!lab.info.clients.some((c) => c.clientId === reg.clientId));
});
