// Token flows through a live relay, the way the browser drives them: flow.start over the
// WebSocket, lab.register for a browser-made key, and the authorization code flow's redirect
// landing on the relay's own /callback/<key> after "the browser" opened the URL from the
// authorize step. Secrets of the request never come back in a frame.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { generateKeyPair } from 'jose';
import type { ServerMessage, Step } from '../../shared/protocol/index.ts';
import { newJti, templateClaims } from '../../shared/jwt/claims.ts';
import { publicJwkOf, signJwt } from '../../shared/jwt/sign.ts';
import { startRelay, type RunningRelay } from '../relay.ts';
import { followRedirects } from './user-agent.ts';

let relay: RunningRelay;

before(async () => {
  relay = await startRelay({ port: 0, dataDir: await mkdtemp(join(tmpdir(), 'relay-flows-')), quiet: true, webRoot: await mkdtemp(join(tmpdir(), 'relay-flows-web-')) });
});
after(() => relay.close());

class Client {
  readonly ws = new WebSocket(`ws://127.0.0.1:${relay.port}/ws?token=${relay.token}`, { origin: relay.origin });
  readonly frames: string[] = [];
  #waiters: { pred: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
  constructor() {
    this.ws.on('message', (data) => {
      this.frames.push(String(data));
      const msg = JSON.parse(String(data)) as ServerMessage;
      this.#waiters = this.#waiters.filter((w) => (w.pred(msg) ? (w.resolve(msg), false) : true));
    });
  }
  open(): Promise<void> {
    return new Promise((ok, fail) => { this.ws.once('open', () => ok()); this.ws.once('error', fail); });
  }
  /** The first message, already received or still to come, that `pred` accepts: events that arrive together (a run's start and its first steps) reach Node's ws in one go. */
  next<T extends ServerMessage>(pred: (m: ServerMessage) => boolean): Promise<T> {
    const seen = this.frames.map((f) => JSON.parse(f) as ServerMessage).find(pred);
    if (seen) return Promise.resolve(seen as T);
    return new Promise((resolve) => this.#waiters.push({ pred, resolve: resolve as (m: ServerMessage) => void }));
  }
  send(v: unknown): void {
    this.ws.send(JSON.stringify(v));
  }
}

async function client(): Promise<Client> {
  const c = new Client();
  await c.open();
  return c;
}

test('lab.register then flow.start: a browser-made key authenticates with private_key_jwt', async () => {
  const c = await client();
  const pair = await generateKeyPair('ES256', { extractable: true });
  c.send({ type: 'lab.register', id: 'reg', publicJwk: await publicJwkOf(pair.publicKey) });
  const reg = await c.next<Extract<ServerMessage, { type: 'lab.registered' }>>((m) => m.type === 'lab.registered' || m.type === 'error');
  assert.equal(reg.type, 'lab.registered', JSON.stringify(reg));
  const a = await signJwt(templateClaims('client-assertion', { now: Date.now(), clientId: reg.clientId, audience: reg.tokenUrl, jti: newJti() }), { alg: 'ES256', kid: reg.kid }, pair.privateKey);
  c.send({ type: 'flow.start', id: 'f1', flow: { kind: 'client-credentials', issuer: reg.issuer, clientAuth: { method: 'private_key_jwt', clientId: reg.clientId, clientAssertions: [a] } } });
  const started = await c.next<Extract<ServerMessage, { type: 'run.started' }>>((m) => m.type === 'run.started' && m.id === 'f1');
  assert.equal(started.kind, 'flow');
  const done = await c.next<Extract<ServerMessage, { type: 'run.finished' }>>((m) => m.type === 'run.finished' && m.runId === started.runId);
  assert.equal(done.outcome, 'pass');
  assert.ok(!c.frames.join('\n').includes(a), 'the assertion never comes back');
  c.send({ type: 'lab.register', id: 'bad', publicJwk: { kty: 'EC', d: 'private' } });
  const err = await c.next<Extract<ServerMessage, { type: 'error' }>>((m) => m.type === 'error' && m.id === 'bad');
  assert.match(err.message, /private key/);
  c.ws.close();
});

test('authorization code through the relay: the URL from the authorize step, the redirect to /callback', async () => {
  const c = await client();
  const issuer = relay.lab!.tokens!.issuer;
  c.send({ type: 'flow.start', id: 'ac', flow: { kind: 'authorization-code', issuer, clientAuth: { method: 'client_secret_basic', clientId: 'lab-basic', clientSecret: 'lab-basic-secret' }, scope: 'offline_access', redirectKey: 'relay-test' } });
  const started = await c.next<Extract<ServerMessage, { type: 'run.started' }>>((m) => m.type === 'run.started' && m.id === 'ac');
  const authorize = await c.next<Extract<ServerMessage, { type: 'step' }>>((m) => m.type === 'step' && m.runId === started.runId && m.step.id === 'authorize' && m.step.status !== 'running');
  const { authorizationUrl, redirectUri } = authorize.step.details as { authorizationUrl: string; redirectUri: string };
  assert.equal(redirectUri, `${relay.origin}/callback/relay-test`);
  // What the browser's popup does.
  const visit = await followRedirects(authorizationUrl);
  assert.equal(visit.final.url.split('?')[0], redirectUri);
  assert.match(visit.final.body, /Redirect received/);
  const done = await c.next<Extract<ServerMessage, { type: 'run.finished' }>>((m) => m.type === 'run.finished' && m.runId === started.runId);
  assert.equal(done.outcome, 'pass', c.frames.filter((f) => f.includes('"fail"')).join('\n'));
  const steps = c.frames.map((f) => JSON.parse(f) as ServerMessage).filter((m): m is Extract<ServerMessage, { type: 'step' }> => m.type === 'step').map((m) => m.step as Step);
  assert.ok(steps.some((s) => s.id === 'refresh' && s.status === 'ok'));
  // The welcome names the lab's demo clients and their secrets (docs/protocol.md); nothing the run sends may.
  assert.ok(c.frames.filter((f) => !f.startsWith('{"type":"welcome"')).every((f) => !f.includes('lab-basic-secret')), 'the client secret never comes back from the run');
  c.ws.close();
});

test('refresh token from an earlier authorization-code run: exchanged by run id, rotated and kept, never sent, and only in its own session', async () => {
  const c = await client();
  const issuer = relay.lab!.tokens!.issuer;
  const clientAuth = { method: 'client_secret_basic', clientId: 'lab-basic', clientSecret: 'lab-basic-secret' };
  c.send({ type: 'flow.start', id: 'ac', flow: { kind: 'authorization-code', issuer, clientAuth, scope: 'offline_access', redirectKey: 'relay-keep' } });
  const started = await c.next<Extract<ServerMessage, { type: 'run.started' }>>((m) => m.type === 'run.started' && m.id === 'ac');
  const authorize = await c.next<Extract<ServerMessage, { type: 'step' }>>((m) => m.type === 'step' && m.runId === started.runId && m.step.id === 'authorize' && m.step.status !== 'running');
  await followRedirects((authorize.step.details as { authorizationUrl: string }).authorizationUrl);
  const done = await c.next<Extract<ServerMessage, { type: 'run.finished' }>>((m) => m.type === 'run.finished' && m.runId === started.runId);
  assert.equal(done.outcome, 'pass');

  // Twice: the lab rotates refresh tokens and refuses a reused one, so the kept token must follow.
  for (const id of ['r1', 'r2']) {
    c.send({ type: 'flow.start', id, flow: { kind: 'refresh-token', issuer, clientAuth, refreshTokenFromRun: started.runId } });
    const run = await c.next<Extract<ServerMessage, { type: 'run.started' }>>((m) => m.type === 'run.started' && m.id === id);
    const end = await c.next<Extract<ServerMessage, { type: 'run.finished' }>>((m) => m.type === 'run.finished' && m.runId === run.runId);
    assert.equal(end.outcome, 'pass', `${id}: ${c.frames.filter((f) => f.includes('"fail"')).join('\n')}`);
  }
  // Wherever a refresh token field or parameter appears, its value is masked (the lab's are 43 base64url characters).
  const all = c.frames.join('\n');
  assert.match(all, /refresh_token=••••••/);
  assert.deepEqual(all.match(/refresh_token[^A-Za-z0-9_-]{1,12}[A-Za-z0-9_-]{20,}/g), null, 'no refresh token value reaches the page');

  const bad = [
    [c, { refreshTokenFromRun: 'r000000000000' }, /no refresh token is kept from run r000000000000/],
    [c, { refreshTokenFromRun: 'nope' }, /flow\.refreshTokenFromRun must be a run id/],
    [c, { refreshTokenFromRun: started.runId, refreshToken: 'x' }, /exactly one of refreshToken and refreshTokenFromRun/],
    [await client(), { refreshTokenFromRun: started.runId }, /no refresh token is kept from run/],
  ] as const;
  for (const [i, [who, extra, message]] of bad.entries()) {
    who.send({ type: 'flow.start', id: `bad${i}`, flow: { kind: 'refresh-token', issuer, clientAuth, ...extra } });
    const err = await who.next<Extract<ServerMessage, { type: 'error' }>>((m) => m.type === 'error' && m.id === `bad${i}`);
    assert.match(err.message, message);
    if (who !== c) who.ws.close();
  }
  c.ws.close();
});
