// One token holder must not exhaust what all sessions share: run slots (waiting flows apart,
// per session and per client address), the send buffer of a browser that stopped reading, lab
// registrations, lab requests and sessions. Each against the real relay with real clients.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { startRelay, type RunningRelay, type RelayOptions } from './relay.ts';
import { RelayClient, openOrRefused, type Msg } from './testing/relay-client.ts';
import { knownLimits, slotHogging, nonReader, paddedJwk, waitingFlow, retainedBytes } from './testing/hostile-clients.ts';
import { generateKeyPair, createCsr, exportPkcs8Pem } from '../shared/pki/issue.ts';
import { publicJwkOf } from '../shared/jwt/sign.ts';
import { detailsOf } from '../shared/protocol/index.ts';

const relays: RunningRelay[] = [];
after(() => Promise.all(relays.map((r) => r.close())));

async function relay(opts: Omit<RelayOptions, 'limits'> & { limits?: Record<string, number> } = {}): Promise<RunningRelay> {
  const r = await startRelay({ ...opts, port: 0, quiet: true, dataDir: await mkdtemp(join(tmpdir(), 'fair-share-')), webRoot: await mkdtemp(join(tmpdir(), 'fair-share-web-')), limits: knownLimits(opts.limits ?? {}) });
  relays.push(r);
  return r;
}

/** A lab client certificate, so a probe of the lab's mTLS target passes. */
async function labProbe(r: RunningRelay, c: RelayClient): Promise<Record<string, unknown>> {
  const keys = await generateKeyPair('P-256', true);
  const signed = await c.request<Msg<'lab.signed'>>({ type: 'lab.sign', csrPem: await createCsr(keys, 'CN=fair-share') });
  assert.equal(signed.type, 'lab.signed');
  return { url: r.lab!.info.targets[0]!.url, client: { certificatePem: (signed as Msg<'lab.signed'>).certificatePem, privateKeyPem: await exportPkcs8Pem(keys.privateKey) } };
}

// ---- 1. run slots

test('eight sessions of eight waiting authorization-code flows leave run slots for everyone else', async () => {
  const r = await relay();
  const hog = await slotHogging(r, { sessions: 8, flows: 8 });
  try {
    // Waiting flows have their own, smaller share: the rest are refused with a clear code.
    assert.equal(hog.stats['run.started'], 32, JSON.stringify(hog.stats));
    assert.equal(hog.stats['error:busy_session'], 32, JSON.stringify(hog.stats));
    const other = await RelayClient.open(r);
    const probe = await labProbe(r, other);
    const finished = await Promise.all(Array.from({ length: 8 }, () => other.probe(probe)));
    assert.deepEqual(finished.map((f) => f.outcome), Array(8).fill('pass'));
    // The waiting share is relay-wide too, and says so.
    const refused = await other.start('flow.start', { flow: waitingFlow(r) });
    assert.equal(refused.type === 'error' && refused.code, 'busy_relay');
    await other.close();
  } finally {
    await hog.stop();
  }
});

test('a flow that got its redirect works again on a run slot, and the slot comes back when it ends', async () => {
  const r = await relay({ limits: { runsPerConnection: 1 } });
  const c = await RelayClient.open(r);
  const started = await c.start('flow.start', { flow: { ...waitingFlow(r), redirectKey: 'fair-share' } });
  assert.equal(started.type, 'run.started');
  const authorize = await c.next((m) => m.type === 'step' && m.step.id === 'authorize' && m.step.status !== 'running');
  const state = String(detailsOf((authorize as Msg<'step'>).step, 'authorize')?.state);
  await c.next((m) => m.type === 'step' && m.step.id === 'callback');
  // While it waits, the session's one run slot is free for a probe.
  const probe = await labProbe(r, c);
  assert.equal((await c.probe(probe)).outcome, 'pass');
  // The redirect comes back with the flow's state and a wrong code: the exchange fails, which is work on a slot.
  const res = await fetch(`${r.origin}/callback/fair-share?code=nope&state=${encodeURIComponent(state)}`);
  await res.text();
  await c.next((m) => m.type === 'run.finished' && m.runId === (started as Msg<'run.started'>).runId);
  assert.equal((await c.probe(probe)).outcome, 'pass');
  await c.close();
});

test('hosted mode: the sessions of one address together hold at most runsPerAddress runs', async () => {
  // A target that accepts and never answers holds a run for as long as the TLS timeout.
  const silent = net.createServer(() => {});
  await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
  const port = (silent.address() as net.AddressInfo).port;
  const r = await relay({ hosted: true, allowTargets: ['localhost'], allowPorts: [port] });
  const clients = await Promise.all([0, 1, 2].map(() => RelayClient.open(r)));
  try {
    const probe = { url: `https://localhost:${port}/` };
    const replies = [];
    for (const c of clients.slice(0, 2)) for (let i = 0; i < 8; i++) replies.push((await c.start('probe.start', { probe })).type);
    assert.deepEqual(replies, Array(16).fill('run.started'));
    const third = await clients[2]!.start('probe.start', { probe });
    assert.equal(third.type === 'error' && third.code, 'busy_address', JSON.stringify(third));
    assert.match((third as Msg<'error'>).message, /at most 16 runs at once from one address/);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    silent.close();
  }
});

test('the callback wait is bounded at five minutes', async () => {
  const r = await relay();
  const c = await RelayClient.open(r);
  const reply = await c.start('flow.start', { flow: waitingFlow(r, 600_000) });
  assert.equal(reply.type === 'error' && reply.code, 'bad_message');
  assert.match((reply as Msg<'error'>).message, /callbackTimeoutMs must be .* to 300000/);
  await c.close();
});

// ---- 2. WebSocket backpressure

test('a client that stops reading cannot grow the relay: its runs are cancelled, then it is closed; others carry on', async () => {
  const r = await relay({ limits: { sendBufferBytes: 1024 * 1024, sendBufferStallMs: 8_000, sessionsTotal: 2 } });
  const other = await RelayClient.open(r);
  const probe = await labProbe(r, other);
  const base = await retainedBytes();
  const attack = await nonReader(r);
  try {
    const deadline = performance.now() + 6_000;
    while (performance.now() < deadline) {
      assert.equal((await other.probe(probe)).outcome, 'pass', 'another session keeps working');
      await new Promise((ok) => setTimeout(ok, 100));
    }
    // What the relay still holds for the non-reading session, garbage collected.
    const grewMiB = ((await retainedBytes()) - base) / 1024 / 1024;
    console.log(`non-reader: the relay holds ${grewMiB.toFixed(1)} MiB more after 6 s (after GC)`);
    assert.ok(grewMiB < 8, `the relay holds ${grewMiB.toFixed(1)} MiB more for one non-reading session`);
    // Still not reading: the relay closes the session, which frees its place (sessionsTotal 2).
    attack.stopSending();
    let admitted = false;
    for (const until = performance.now() + 10_000; !admitted && performance.now() < until;) {
      const third = await openOrRefused(r);
      admitted = third.welcomed;
      await third.client.close();
      if (!admitted) await new Promise((ok) => setTimeout(ok, 250));
    }
    assert.ok(admitted, 'the stalled session is closed');
    assert.equal(await other.ping().then(() => 'pong'), 'pong');
  } finally {
    await attack.stop();
    await other.close();
  }
});

test('a client that stops reading for a moment finds its runs cancelled (slow_reader) and can run again', async () => {
  const r = await relay({ limits: { sendBufferBytes: 2 * 1024 * 1024, sendBufferStallMs: 20_000 } });
  const attack = await nonReader(r);
  try {
    // Until the relay has found it not reading (its new runs are refused as slow_reader): a fixed
    // wait was too short when the machine was busy and the bulky answers came slowly.
    for (const until = performance.now() + 30_000; (await slowReaderRefusals(r)) === 0;) {
      assert.ok(performance.now() < until, 'the relay never found the session not reading');
      await new Promise((ok) => setTimeout(ok, 250));
    }
    attack.stopSending();
    attack.client.resumeReading();
    await attack.client.next((m) => m.type === 'error' && m.code === 'slow_reader', 10_000);
    const cancelled = await attack.client.next<Msg<'run.finished'>>((m) => m.type === 'run.finished' && m.outcome === 'error', 10_000);
    assert.ok(cancelled, 'its runs ended');
    // Once it has caught up, it runs again.
    const probe = await labProbe(r, attack.client);
    assert.equal((await attack.client.probe(probe)).outcome, 'pass');
  } finally {
    await attack.stop();
  }
});

/** The relay's count of runs refused because their session was not reading, from /metrics. */
async function slowReaderRefusals(r: RunningRelay): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${r.port}/metrics`)).text();
  return Number(text.match(/^harness_refusals_total\{reason="slow_reader"\} (\d+)/m)?.[1] ?? 0);
}

// ---- 3. lab registrations

test('lab.register refuses keys with padding, unknown members or oversized moduli', async () => {
  const r = await relay();
  const c = await RelayClient.open(r);
  const { generateKeyPairSync } = await import('node:crypto');
  const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const ec = await publicJwkOf((await generateKeyPair('P-256', true)).publicKey);
  const cases: { name: string; jwk: Record<string, unknown>; message: RegExp }[] = [
    { name: 'padded with members', jwk: await paddedJwk(512 * 1024), message: /publicJwk\.pad0 is not a member/ },
    { name: 'an 8192-bit modulus', jwk: { kty: 'RSA', e: 'AQAB', n: Buffer.alloc(1024, 0xff).toString('base64url') }, message: /publicJwk\.n must be a base64url modulus of 2048-4096 bits/ },
    { name: 'a 1024-bit modulus', jwk: rsa1024, message: /2048-4096 bits/ },
    { name: 'a point off the curve', jwk: { ...ec, x: Buffer.alloc(32, 7).toString('base64url') }, message: /not a valid EC public key/ },
    { name: 'a padded kid', jwk: { ...ec, kid: 'k'.repeat(8000) }, message: /kid must be 1-128/ },
    { name: 'x5t#S256 of somebody else', jwk: { ...ec, 'x5t#S256': 'abc' }, message: /x5t#S256 is not a member/ },
  ];
  for (const k of cases) {
    const reply = await c.request({ type: 'lab.register', publicJwk: k.jwk });
    assert.equal(reply.type === 'error' && reply.code, 'jwk_invalid', `${k.name}: ${JSON.stringify(reply).slice(0, 200)}`);
    assert.match((reply as Msg<'error'>).message, k.message, k.name);
  }
  assert.equal(r.lab!.tokens!.registered, 0);
  await c.close();
});

async function register(c: RelayClient, jwk?: unknown): Promise<Msg<'lab.registered'> | Msg<'error'>> {
  return c.request<Msg<'lab.registered'>>({ type: 'lab.register', publicJwk: jwk ?? (await publicJwkOf((await generateKeyPair('P-256', true)).publicKey)) });
}

test('lab registrations are counted per session and relay-wide, and end with their session', async () => {
  const r = await relay({ limits: { labRegistrationsPerConnection: 3, labRegistrationsTotal: 5 } });
  const a = await RelayClient.open(r);
  const b = await RelayClient.open(r);
  const tokenUrl = `${r.lab!.tokens!.issuer}/token`;
  const mine = [];
  for (let i = 0; i < 3; i++) mine.push(await register(a));
  assert.deepEqual(mine.map((m) => m.type), ['lab.registered', 'lab.registered', 'lab.registered']);
  const fourth = await register(a);
  assert.equal(fourth.type === 'error' && fourth.code, 'too_many_registrations');
  assert.deepEqual([(await register(b)).type, (await register(b)).type], ['lab.registered', 'lab.registered']);
  const sixth = await register(b);
  assert.equal(sixth.type === 'error' && sixth.code, 'too_many_registrations', 'relay-wide count');
  const first = mine[0] as Msg<'lab.registered'>;
  assert.ok(r.lab!.tokens!.knownClient(tokenUrl, first.clientId));
  await a.close();
  await new Promise((ok) => setTimeout(ok, 100));
  assert.equal(r.lab!.tokens!.knownClient(tokenUrl, first.clientId), undefined, 'forgotten when its session closed');
  assert.equal(r.lab!.tokens!.registered, 2);
  assert.equal((await register(b)).type, 'lab.registered', "a's places are free again");
  const over = await register(b);
  assert.equal(over.type === 'error' && over.code, 'too_many_registrations', 'b still holds its own share only');
  await b.close();
});

test('lab registrations expire after labRegistrationTtlMs, to the millisecond', async (t) => {
  const r = await relay({ limits: { labRegistrationTtlMs: 300 } });
  const c = await RelayClient.open(r);
  const jwk = await publicJwkOf((await generateKeyPair('P-256', true)).publicKey);
  // The expiry is a setTimeout set while the registration is made: mocked from here on, it fires
  // when the test says, not when a loaded machine gets to it.
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const reg = await register(c, jwk);
  assert.equal(reg.type, 'lab.registered');
  const known = () => r.lab!.tokens!.knownClient(`${r.lab!.tokens!.issuer}/token`, (reg as Msg<'lab.registered'>).clientId);
  t.mock.timers.tick(299);
  assert.ok(known(), 'still known just before its TTL');
  t.mock.timers.tick(1);
  assert.equal(known(), undefined);
  t.mock.timers.reset();
  await c.close();
});

test("the same key registered by another session is another client: no shared secret, no changed method", async () => {
  const r = await relay();
  const a = await RelayClient.open(r);
  const b = await RelayClient.open(r);
  const jwk = await publicJwkOf((await generateKeyPair('P-256', true)).publicKey);
  const mine = (await register(a, jwk)) as Msg<'lab.registered'>;
  assert.equal(mine.type, 'lab.registered');
  assert.equal(((await register(a, jwk)) as Msg<'lab.registered'>).clientId, mine.clientId, 'the same session gets its own client back');
  const theirs = await b.request<Msg<'lab.registered'>>({ type: 'lab.register', publicJwk: { ...jwk, x5c: [r.lab!.tokens!.demo.selfSigned.certificatePem.replace(/-----[^-]+-----|\s/g, '')] }, method: 'self_signed_tls_client_auth' });
  assert.equal(theirs.type, 'lab.registered');
  const t = theirs as Msg<'lab.registered'>;
  assert.notEqual(t.clientId, mine.clientId);
  assert.notEqual(t.clientSecret, mine.clientSecret);
  assert.equal(r.lab!.tokens!.knownClient(`${r.lab!.tokens!.issuer}/token`, mine.clientId)?.method, 'private_key_jwt');
  await a.close();
  await b.close();
});

// ---- 4. lab.sign flood

test('a flood of lab.sign is refused past labRequestsPerConnection; another session stays responsive', async () => {
  const r = await relay();
  const flood = await RelayClient.open(r);
  const other = await RelayClient.open(r);
  const csrPem = await createCsr(await generateKeyPair('P-256', true), 'CN=flood');
  const pings: Promise<number>[] = [];
  const replies = Promise.all(Array.from({ length: 1000 }, () => flood.request({ type: 'lab.sign', csrPem }, 60_000)));
  for (let i = 0; i < 5; i++) {
    pings.push(other.ping());
    await new Promise((ok) => setTimeout(ok, 20));
  }
  const done = await replies;
  const busy = done.filter((m) => m.type === 'error' && m.code === 'busy_session').length;
  assert.ok(busy >= 900, `${busy} of 1000 refused with busy_session`);
  assert.ok(done.filter((m) => m.type === 'lab.signed').length >= 4);
  const worst = Math.max(...(await Promise.all(pings)));
  assert.ok(worst < 500, `another session's ping took ${worst.toFixed(0)} ms`);
  await flood.close();
  await other.close();
});

test('a session sending big frames faster than frameBytesPerSecond is read more slowly; others are not', async () => {
  const r = await relay({ limits: { frameBytesPerSecond: 2 * 1024 * 1024 } });
  const flood = await RelayClient.open(r);
  const other = await RelayClient.open(r);
  const frame = JSON.stringify({ type: 'lab.register', id: '@ID@', publicJwk: await paddedJwk(900 * 1024) });
  const t0 = performance.now();
  for (let i = 0; i < 8; i++) flood.send(frame.replace('@ID@', `big${i}`));
  const answers = Promise.all(Array.from({ length: 8 }, (_, i) => flood.reply(`big${i}`, 20_000)));
  const pings: number[] = [];
  for (let i = 0; i < 5; i++) {
    pings.push(await other.ping());
    await new Promise((ok) => setTimeout(ok, 100));
  }
  await answers;
  const tookMs = performance.now() - t0;
  // 7.2 MB at 2 MiB/s after a burst of two 1 MiB frames: about 2.5 s.
  assert.ok(tookMs > 2_000, `eight 900 KB frames were all read in ${tookMs.toFixed(0)} ms`);
  assert.ok(Math.max(...pings) < 500, `another session's pings took ${pings.map((p) => p.toFixed(0)).join(', ')} ms`);
  await flood.close();
  await other.close();
});

// ---- 5. sessions

test('sessions past sessionsTotal are closed with 1013 and a reason the app shows', async () => {
  const r = await relay({ limits: { sessionsTotal: 3 } });
  const open = await Promise.all([0, 1, 2].map(() => RelayClient.open(r)));
  const fourth = await openOrRefused(r);
  assert.equal(fourth.welcomed, false);
  assert.equal(fourth.close?.code, 1013);
  assert.match(fourth.close!.reason, /^busy_relay: /);
  await open[0]!.close();
  await new Promise((ok) => setTimeout(ok, 100));
  const again = await openOrRefused(r);
  assert.equal(again.welcomed, true, 'a closed session frees its place');
  await Promise.all([...open, again.client].map((c) => c.close()));
});

test('hosted mode: sessions past sessionsPerAddress from one address are refused', async () => {
  const r = await relay({ hosted: true, limits: { sessionsPerAddress: 2 } });
  const open = await Promise.all([0, 1].map(() => RelayClient.open(r)));
  const third = await openOrRefused(r);
  assert.equal(third.close?.code, 1013);
  assert.match(third.close!.reason, /^busy_address: at most 2 sessions/);
  await Promise.all(open.map((c) => c.close()));
});
