// A listener on its own, with short limits: clients that never finish, never ask, speak
// something else or come too many at once; openssl s_client as the oracle for what the
// listener asks of a client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import type { RunEvent, Step } from '../../shared/protocol/index.ts';
import { createLogger } from '../log.ts';
import { makeTestPki, type TestPki } from '../testing/test-pki.ts';
import { INBOUND_LIMITS, type InboundLimits } from './limits.ts';
import { ListenError, startInboundListener, type InboundListener } from './listener.ts';
import { startRelay } from '../relay.ts';
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
  assert.match(output, /Acceptable client certificate CA names\nO = Harness Tests, CN = Test Client Root\n/);
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

// ---- what anyone who can reach the port can do to a listener

/** A port nothing holds now (bound on the dual-stack wildcard, then freed). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((ok) => s.listen(0, '::', ok));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}

async function startOn(host: string, port: number) {
  const listener = await startInboundListener({
    listenerId: 'l-port', requestId: 'req', host, port, identity,
    bundle: await readTrustBundle(pki.clientCa.cert), limits: INBOUND_LIMITS, emit: () => {}, log: createLogger(true),
  });
  open.push(listener);
  return listener;
}

const holders: { name: string; hold: () => Promise<{ port: number; close(): Promise<void> | void }> }[] = [
  { name: 'the relay', hold: async () => {
    const relay = await startRelay({ port: 0, quiet: true, lab: false, dataDir: await mkdtemp(join(tmpdir(), 'inbound-port-')), webRoot: await mkdtemp(join(tmpdir(), 'inbound-web-')) });
    return { port: relay.port, close: () => relay.close() };
  } },
  { name: 'the lab', hold: async () => {
    const relay = await startRelay({ port: 0, quiet: true, dataDir: await mkdtemp(join(tmpdir(), 'inbound-port-')), webRoot: await mkdtemp(join(tmpdir(), 'inbound-web-')) });
    return { port: Number(new URL(relay.lab!.info.targets[0]!.url).port), close: () => relay.close() };
  } },
  { name: 'another session\'s listener', hold: async () => {
    const other = await startOn('127.0.0.1', 0);
    return { port: other.port, close: () => other.close() };
  } },
  { name: 'another program', hold: async () => {
    const s = net.createServer();
    await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
    return { port: (s.address() as net.AddressInfo).port, close: () => { s.close(); } };
  } },
];

for (const holder of holders) {
  for (const host of ['::1', '127.0.0.2', '0.0.0.0', '127.0.0.1']) {
    test(`a listener cannot take the port of ${holder.name} on ${host}`, async () => {
      const held = await holder.hold();
      try {
        await assert.rejects(startOn(host, held.port), (e: unknown) => e instanceof ListenError && /already in use on this machine/.test(e.message));
      } finally {
        await held.close();
      }
    });
  }
}

test('a free port given explicitly is taken, on ::1 too; port 0 picks one free on every address', async () => {
  const port = await freePort();
  const l = await startOn('::1', port);
  assert.equal(l.port, port);
  assert.equal(l.url, `https://localhost:${port}/`);
  await l.close();
  const any = await startOn('127.0.0.1', 0);
  // Nothing else on the machine holds it on another address: the wildcard is free once it is closed.
  await any.close();
  const again = await startOn('::1', any.port);
  await again.close();
});

function silentSocket(port: number, localAddress: string): Promise<{ socket: net.Socket; closed: Promise<number> }> {
  return new Promise((ok, fail) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    const t0 = performance.now();
    const closed = new Promise<number>((done) => socket.on('close', () => done(performance.now() - t0)));
    socket.resume();
    socket.on('error', () => {});
    socket.once('connect', () => ok({ socket, closed }));
    socket.once('error', fail);
  });
}

test('40 silent connections from one host do not lock out a client from another (default limits)', async () => {
  const h = await listen();
  const silent = await Promise.all(Array.from({ length: 40 }, () => silentSocket(h.listener.port, '127.0.0.1')));
  const closedAtOnce = await Promise.all(silent.map((s) => Promise.race([s.closed.then(() => true), new Promise<boolean>((ok) => setTimeout(() => ok(false), 1_000))])));
  assert.equal(closedAtOnce.filter(Boolean).length, 40 - INBOUND_LIMITS.connectionsPerAddress, 'past the per-address share, closed at accept');
  // The honest client comes in the next second, so runsPerSecond (met by the flood) is not what is tested.
  await new Promise((ok) => setTimeout(ok, 1_100));
  const from = h.events.length;
  const honest = await new Promise<tls.TLSSocket>((ok, fail) => {
    const socket = net.connect({ host: '127.0.0.1', port: h.listener.port, localAddress: '127.0.0.2' });
    const s = tls.connect({ socket, servername: 'localhost', ca: identity.caPem, cert: pki.client.cert, key: pki.client.key }, () => ok(s));
    s.on('error', fail);
  });
  honest.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
  const run = await h.run(from);
  assert.equal(run.outcome, 'pass');
  honest.destroy();
  for (const s of silent) s.socket.destroy();
});

test('a silent connection gives its slot back after the first-byte deadline, as tls_timeout', async () => {
  const h = await listen({ firstByteTimeoutMs: 300 });
  const s = await silentSocket(h.listener.port, '127.0.0.1');
  const run = await h.run();
  assert.deepEqual(run.diagnoses, ['tls_timeout']);
  assert.match(String(run.steps.get('tls')!.summary), /sent nothing for 0\.3 s/);
  assert.ok(await s.closed < 2_000, 'closed long before the 10 s handshake timeout');
});

test('1,500 connect/close cycles: a bounded number of events, the rest counted in one summary run a second', async () => {
  const h = await listen();
  const cycles = 1_500;
  const t0 = performance.now();
  const one = () => new Promise<void>((ok) => {
    const s = net.connect(h.listener.port, '127.0.0.1', () => s.end());
    s.resume();
    s.on('error', () => {});
    s.on('close', () => ok());
  });
  for (let i = 0; i < cycles; i += 50) await Promise.all(Array.from({ length: Math.min(50, cycles - i) }, one));
  const seconds = Math.ceil((performance.now() - t0) / 1_000);
  await new Promise((ok) => setTimeout(ok, 1_300)); // the last summary
  const summaries = h.events.filter((e): e is Extract<RunEvent, { type: 'step' }> => e.type === 'step' && e.step.title === 'Connections closed at accept');
  const summaryRuns = new Set(summaries.map((e) => e.runId));
  const runs = h.events.filter((e) => e.type === 'run.started' && !summaryRuns.has(e.runId)).length;
  const closed = summaries.reduce((n, e) => {
    const c = (e.step.details as { closedAtAccept: Record<string, number> }).closedAtAccept;
    return n + c.runsPerSecond! + c.connectionsPerAddress! + c.connectionsPerListener!;
  }, 0);
  assert.equal(runs + closed, cycles, 'every connection is a run or counted in a summary');
  assert.ok(runs <= INBOUND_LIMITS.runsPerSecond * (seconds + 1), `${runs} runs in ${seconds} s`);
  assert.ok(summaryRuns.size <= seconds + 1, `${summaryRuns.size} summaries in ${seconds} s`);
  assert.ok(h.events.length <= (seconds + 1) * (INBOUND_LIMITS.runsPerSecond * 16 + 4), `${h.events.length} events for ${cycles} connections in ${seconds} s`);
  assert.match(String(summaries[0]!.step.summary), /closed at accept in the last second, without a run each \(\d+ past 20 runs a second/);
});

test('a Node client that does not trust the listener closes without an alert: listener_cert_untrusted, inferred', async () => {
  // Node checks the server's certificate itself and drops the connection without a TLS alert;
  // on TLS 1.3 that happens before the client's Finished, right after the listener's certificate.
  const h = await listen();
  const s = tls.connect({ host: '127.0.0.1', port: h.listener.port, servername: 'localhost', cert: pki.client.cert, key: pki.client.key, maxVersion: 'TLSv1.3', minVersion: 'TLSv1.3' });
  const refused = new Promise<string>((ok) => s.on('error', (e) => ok(e.message)));
  const run = await h.run();
  assert.match(await refused, /self-signed certificate/);
  assert.equal(run.outcome, 'fail');
  assert.deepEqual(run.diagnoses, ['listener_cert_untrusted']);
  const d = run.steps.get('tls')!.diagnosis!;
  assert.equal(d.inferred, true);
  assert.match(d.evidence.join('\n'), /inferred by the harness.*the listener's certificate/);
});
