// A listener on its own, with short limits: clients that never finish, never ask, speak
// something else or come too many at once; openssl s_client as the oracle for what the
// listener asks of a client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import type { RunEvent, Step } from '../../shared/protocol.ts';
import { createLogger } from '../log.ts';
import { makeTestPki, type TestPki } from '../testing/test-pki.ts';
import { INBOUND_LIMITS, type InboundLimits } from './limits.ts';
import { startInboundListener, type InboundListener } from './listener.ts';
import { serverIdentity, type ServerIdentity } from './server-identity.ts';
import { readTrustBundle } from './trust-bundle.ts';

let pki: TestPki;
let identity: ServerIdentity;

before(async () => {
  pki = await makeTestPki();
  identity = await serverIdentity(null);
});

interface Harness {
  listener: InboundListener;
  events: RunEvent[];
  /** The next run to finish after `from` events, with its final steps. */
  run(from?: number): Promise<{ outcome: string; diagnoses: string[]; steps: Map<string, Step> }>;
}

const open: InboundListener[] = [];
after(async () => {
  await Promise.all(open.map((l) => l.close()));
});

async function listen(limits: Partial<InboundLimits> = {}, rule?: { cnEquals?: string }): Promise<Harness> {
  const events: RunEvent[] = [];
  const waiters: (() => void)[] = [];
  const listener = await startInboundListener({
    listenerId: 'l-test',
    requestId: 'req',
    host: '127.0.0.1',
    port: 0,
    identity,
    bundle: await readTrustBundle(pki.clientCa.cert),
    ...(rule ? { rule } : {}),
    limits: { ...INBOUND_LIMITS, ...limits },
    emit: (e) => { events.push(e); for (const w of waiters.splice(0)) w(); },
    log: createLogger(true),
  });
  open.push(listener);
  return {
    listener,
    events,
    run: async (from = 0) => {
      const deadline = performance.now() + 10_000;
      for (;;) {
        const finished = events.slice(from).find((e): e is Extract<RunEvent, { type: 'run.finished' }> => e.type === 'run.finished');
        if (finished) {
          const steps = new Map(events.flatMap((e) => (e.type === 'step' && e.runId === finished.runId ? [[e.step.id, e.step] as const] : [])));
          return { outcome: finished.outcome, diagnoses: finished.diagnoses, steps };
        }
        if (performance.now() > deadline) throw new Error('no run finished');
        await new Promise<void>((ok) => { waiters.push(ok); setTimeout(ok, 100); });
      }
    },
  };
}

function connectPlain(port: number): Promise<net.Socket> {
  return new Promise((ok, fail) => {
    const s = net.connect(port, '127.0.0.1', () => ok(s));
    s.on('error', fail);
  });
}

function connectTls(port: number, cert = pki.client): Promise<tls.TLSSocket> {
  return new Promise((ok, fail) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: identity.caPem, cert: cert.cert, key: cert.key }, () => ok(s));
    s.on('error', fail);
  });
}

test('a port check (connect, close) is a run: client_aborted_handshake, at once', async () => {
  const h = await listen();
  const t0 = performance.now();
  (await connectPlain(h.listener.port)).end();
  const run = await h.run();
  assert.deepEqual(run.diagnoses, ['client_aborted_handshake']);
  assert.match(String(run.steps.get('tls')!.summary), /without sending anything/);
  assert.ok(performance.now() - t0 < 1_000, 'not held until the handshake timeout');
});

test('a client that says nothing times out the handshake: tls_timeout', async () => {
  const h = await listen({ handshakeTimeoutMs: 300 });
  const s = await connectPlain(h.listener.port);
  s.on('error', () => {});
  const run = await h.run();
  assert.equal(run.outcome, 'fail');
  assert.deepEqual(run.diagnoses, ['tls_timeout']);
  s.destroy();
});

test('a handshake without a request: the certificate verdict stands, the request step warns', async () => {
  const h = await listen({ headersTimeoutMs: 300 });
  const s = await connectTls(h.listener.port);
  s.on('error', () => {});
  const run = await h.run();
  assert.equal(run.outcome, 'pass');
  assert.equal(run.steps.get('request')!.status, 'warn');
  assert.match(String(run.steps.get('request')!.summary), /no complete HTTP request within 0\.3 s/);
  assert.equal(run.steps.get('response')!.status, 'skipped');
  s.destroy();
});

test('something other than HTTP after the handshake: the request step says so and the client gets 400', async () => {
  const h = await listen();
  const s = await connectTls(h.listener.port);
  const answer = new Promise<string>((ok) => { let t = ''; s.on('data', (d) => { t += d; }); s.on('close', () => ok(t)); });
  s.write('HELO partner\r\n\r\n');
  assert.match(await answer, /^HTTP\/1\.1 400 Bad Request/);
  const run = await h.run();
  assert.equal(run.steps.get('request')!.status, 'warn');
  assert.match(String(run.steps.get('request')!.summary), /not an HTTP\/1\.1 request/);
});

test('connections beyond the limit are closed at accept and make no run', async () => {
  const h = await listen({ connectionsPerListener: 1 });
  const first = await connectPlain(h.listener.port);
  first.on('error', () => {});
  const second = await connectPlain(h.listener.port);
  const closed = await new Promise<boolean>((ok) => {
    const timer = setTimeout(() => ok(false), 2_000);
    second.on('close', () => { clearTimeout(timer); ok(true); });
    second.on('error', () => {});
  });
  assert.ok(closed, 'the second connection was closed by the listener');
  assert.equal(h.events.filter((e) => e.type === 'run.started').length, 1);
  first.destroy();
  await h.run();
  const from = h.events.length;
  // The run reports before the socket's close is processed; give the accounting a moment.
  let third: tls.TLSSocket | undefined;
  for (let i = 0; i < 20 && !third; i++) third = await connectTls(h.listener.port).catch(() => new Promise<undefined>((ok) => setTimeout(ok, 25)));
  assert.ok(third);
  third.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
  assert.equal((await h.run(from)).outcome, 'pass', 'room again once the first is gone');
  third.destroy();
});

test('openssl s_client sees the listener ask for a certificate from the bundle\'s CA and completes with one', async () => {
  const h = await listen({}, { cnEquals: 'test-client' });
  const caFile = await pki.file('inbound-oracle-ca.pem', identity.caPem);
  const output = await new Promise<string>((ok) => {
    const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${h.listener.port}`, '-servername', 'localhost', '-CAfile', caFile, '-cert', pki.client.certFile, '-key', pki.client.keyFile], { timeout: 10_000 }, (_err, stdout, stderr) => ok(stdout + stderr));
    child.stdin!.end();
  });
  assert.match(output, /Acceptable client certificate CA names\nCN = Test Client Root, O = Harness Tests\n/);
  assert.match(output, /Verify return code: 0 \(ok\)/, 'the client verified the listener with the CA it was given');
  const run = await h.run();
  assert.equal(run.outcome, 'pass', 's_client sends no request, so the certificate checks decide');
  assert.deepEqual([...run.steps.values()].filter((s) => s.status === 'fail'), []);
});

test('closing a listener ends its open connections and reports their runs first', async () => {
  const h = await listen();
  const s = await connectTls(h.listener.port);
  s.on('error', () => {});
  while (!h.events.some((e) => e.type === 'step' && e.step.id === 'request')) await new Promise((ok) => setTimeout(ok, 10));
  await h.listener.close();
  const finished = h.events.find((e) => e.type === 'run.finished');
  assert.equal(finished?.type === 'run.finished' && finished.outcome, 'error');
  const verdict = h.events.findLast((e) => e.type === 'step' && e.step.id === 'verdict');
  assert.match(String(verdict?.type === 'step' && verdict.step.summary), /listener stopped/);
  const refused = await new Promise<string>((ok) => { const c = net.connect(h.listener.port, '127.0.0.1', () => { c.destroy(); ok('connected'); }); c.on('error', (e: NodeJS.ErrnoException) => ok(e.code ?? '')); });
  assert.equal(refused, 'ECONNREFUSED');
});
