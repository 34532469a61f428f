// Revealing an issued token (flow.reveal): in local mode the person at the page gets one token of
// a finished flow run on an explicit request, and it is the real token (the lab's API accepts
// it); a hosted relay refuses. Canaries: the revealed value is in that one reply and nowhere
// else — no run event, no log line, no transcript recorded of the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import type { RunEvent, ServerMessage } from '../../shared/protocol/index.ts';
import { makeTranscript } from '../../shared/transcript/transcript.ts';
import { startRelay, type RunningRelay } from '../relay.ts';
import { RelayClient, type Msg } from '../testing/relay-client.ts';
import { followRedirects } from './user-agent.ts';
import { IssuedTokens } from './issued-tokens.ts';

const basic = { method: 'client_secret_basic', clientId: 'lab-basic', clientSecret: 'lab-basic-secret' };

async function relayIn(mode: 'local' | 'hosted', lines: string[]): Promise<RunningRelay> {
  return startRelay({ port: 0, quiet: false, logWriter: (l) => lines.push(l), hosted: mode === 'hosted', dataDir: await mkdtemp(join(tmpdir(), 'reveal-')), webRoot: await mkdtemp(join(tmpdir(), 'reveal-web-')) });
}

/** Every frame the relay sent this client, replies included (RelayClient routes those away from `messages`). */
function frames(c: RelayClient): string[] {
  const all: string[] = [];
  c.ws.on('message', (d) => all.push(String(d)));
  return all;
}

async function finishedRun(c: RelayClient, flow: Record<string, unknown>, onStep?: (m: Msg<'step'>) => Promise<void>): Promise<{ runId: string; events: RunEvent[] }> {
  const started = await c.start('flow.start', { flow });
  assert.equal(started.type, 'run.started', JSON.stringify(started));
  const runId = (started as Msg<'run.started'>).runId;
  if (onStep) await onStep(await c.next<Msg<'step'>>((m) => m.type === 'step' && m.runId === runId && m.step.id === 'authorize' && m.step.status !== 'running'));
  const done = await c.next<Msg<'run.finished'>>((m) => m.type === 'run.finished' && m.runId === runId, 20_000);
  assert.equal(done.outcome, 'pass', JSON.stringify(c.messages.filter((m) => m.type === 'step' && m.step.status === 'fail')));
  const events = c.messages.filter((m): m is RunEvent => (m.type === 'run.started' || m.type === 'step' || m.type === 'run.finished') && m.runId === runId);
  return { runId, events };
}

function reveal(c: RelayClient, runId: string, which: string): Promise<Msg<'flow.token'> | Msg<'error'>> {
  return c.request<Msg<'flow.token'>>({ type: 'flow.reveal', runId, which });
}

function callApi(url: string, ca: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https.get(url, { ca, headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

test('local mode: each issued token is revealed on request, is the real one, and appears in no event, log line or transcript', async () => {
  const lines: string[] = [];
  const relay = await relayIn('local', lines);
  try {
    const lab = relay.lab!;
    const c = await RelayClient.open(relay);
    const raw = frames(c);
    const issuer = lab.tokens!.issuer;
    const cc = await finishedRun(c, { kind: 'client-credentials', issuer, clientAuth: basic, scope: 'orders:read' });
    const ac = await finishedRun(c, { kind: 'authorization-code', issuer, clientAuth: basic, scope: 'openid offline_access', redirectKey: 'reveal-test' }, async (authorize) => {
      await followRedirects((authorize.step.details as { authorizationUrl: string }).authorizationUrl);
    });

    const access = await reveal(c, cc.runId, 'access');
    assert.equal(access.type, 'flow.token', JSON.stringify(access));
    const token = (access as Msg<'flow.token'>).token;
    assert.deepEqual({ runId: (access as Msg<'flow.token'>).runId, which: (access as Msg<'flow.token'>).which }, { runId: cc.runId, which: 'access' });
    const api = lab.info.targets.find((t) => t.id === 'api')!.url;
    assert.equal((await callApi(api, lab.serverCaPem, token)).status, 200, 'the lab API accepts the revealed access token');
    assert.equal((await callApi(api, lab.serverCaPem, `${token}x`)).status, 401, 'and refuses another');

    const revealed = [token];
    for (const which of ['access', 'refresh', 'id'] as const) {
      const r = await reveal(c, ac.runId, which);
      assert.equal(r.type, 'flow.token', `${which}: ${JSON.stringify(r)}`);
      revealed.push((r as Msg<'flow.token'>).token);
    }
    assert.match(revealed[3]!, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/, 'the ID token is a JWT');
    assert.equal(new Set(revealed).size, 4, 'four different tokens');

    const refused: [string, unknown, ServerMessage['type'] | string, RegExp][] = [
      [cc.runId, 'refresh', 'token_not_kept', /was not issued a refresh token/],
      ['r000000000000', 'access', 'token_not_kept', /no tokens are kept from run r000000000000/],
      [cc.runId, 'password', 'bad_message', /"which" must be one of access, refresh, id/],
    ];
    for (const [runId, which, code, message] of refused) {
      const r = await c.request<Msg<'error'>>({ type: 'flow.reveal', runId, which });
      assert.equal(r.type, 'error');
      assert.equal((r as Msg<'error'>).code, code);
      assert.match((r as Msg<'error'>).message, message);
    }
    // Another session of the same relay cannot name this one's runs.
    const other = await RelayClient.open(relay);
    const stranger = await reveal(other, cc.runId, 'access');
    assert.equal(stranger.type === 'error' && stranger.code, 'token_not_kept');
    await other.close();
    await c.close();

    // Canaries: each token is in its one flow.token reply and nowhere else.
    const replies = raw.filter((f) => (JSON.parse(f) as ServerMessage).type === 'flow.token');
    assert.equal(replies.length, 4);
    const elsewhere = raw.filter((f) => !replies.includes(f)).join('\n');
    const transcript = JSON.stringify([cc, ac].map((run) => makeTranscript({ name: 'reveal', recordedBy: 'app', startedAt: new Date(), environment: { harness: 'test', node: process.version, openssl: process.versions.openssl, platform: process.platform }, events: run.events.map((event, t) => ({ t, event })) })));
    assert.match(transcript, /access_token/, 'the transcript holds the token response, masked');
    for (const [i, value] of revealed.entries()) {
      assert.ok(!elsewhere.includes(value), `token ${i} reached another frame`);
      assert.ok(!lines.join('').includes(value), `token ${i} reached the log`);
      assert.ok(!transcript.includes(value), `token ${i} reached a transcript`);
    }
  } finally {
    await relay.close();
  }
});

test('hosted mode: a flow run against the lab passes, and its tokens are never revealed (reveal_refused)', async () => {
  const lines: string[] = [];
  const relay = await relayIn('hosted', lines);
  try {
    const c = await RelayClient.open(relay);
    const run = await finishedRun(c, { kind: 'client-credentials', issuer: relay.lab!.tokens!.issuer, clientAuth: basic, scope: 'orders:read' });
    for (const which of ['access', 'refresh', 'id']) {
      const r = await reveal(c, run.runId, which);
      assert.equal(r.type, 'error');
      assert.equal((r as Msg<'error'>).code, 'reveal_refused');
      assert.match((r as Msg<'error'>).message, /hosted: issued tokens stay masked/);
    }
    await c.close();
  } finally {
    await relay.close();
  }
});

test('IssuedTokens: newest token of each kind per run, at most N runs, for a bounded time', () => {
  let now = 0;
  const kept = new IssuedTokens(2, 1000, () => now);
  kept.keep('r1', { access: 'a1', refresh: 'f1' });
  kept.keep('r1', { access: 'a1b' });
  kept.keep('r2', { access: 'a2' });
  kept.keep('r3', {});
  const cases: [string, 'access' | 'refresh' | 'id', unknown][] = [
    ['r1', 'access', { token: 'a1b' }],
    ['r1', 'refresh', { token: 'f1' }],
    ['r1', 'id', { missing: 'not_issued' }],
    ['r3', 'access', { missing: 'unknown' }],
  ];
  for (const [runId, which, want] of cases) assert.deepEqual(kept.get(runId, which), want, `${runId} ${which}`);
  kept.keep('r4', { access: 'a4' });
  assert.deepEqual(kept.get('r1', 'access'), { missing: 'unknown' }, 'the oldest run is dropped past the count');
  assert.equal(kept.size, 2);
  now = 999;
  assert.deepEqual(kept.get('r4', 'access'), { token: 'a4' });
  now = 1000;
  assert.equal(kept.size, 0, 'forgotten once ISSUED_TOKENS_KEPT_MS has passed');
  kept.keep('r5', { id: 'i5' });
  kept.clear();
  assert.deepEqual(kept.get('r5', 'id'), { missing: 'unknown' });
  for (const [max, ttl] of [[0, 1], [1.5, 1], [1, 0], [1, Number.NaN]]) assert.throws(() => new IssuedTokens(max, ttl), RangeError);
});
