// The inbound check end to end: a real relay, a real WebSocket session that opens a listener,
// and real curl as the partner's client. Each client that connects must show up as a run with
// the right diagnosis while curl reads the same verdict in the listener's JSON answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import WebSocket from 'ws';
import { startRelay, type RunningRelay } from '../relay.ts';
import { findStep, INBOUND_PHASES, type InboundStep, type ServerMessage, type Step } from '../../shared/protocol/index.ts';
import { MASK } from '../../shared/redact.ts';
import { makeTestPki, type Pair, type TestPki } from '../testing/test-pki.ts';

type Msg<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

let pki: TestPki;
let relay: RunningRelay;

async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}


class Session {
  readonly ws: WebSocket;
  /** Every frame with the time it arrived (performance.now()). */
  readonly messages: { msg: ServerMessage; at: number }[] = [];
  #waiters: { pred: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];

  constructor(r: RunningRelay = relay) {
    this.ws = new WebSocket(`ws://127.0.0.1:${r.port}/ws?token=${r.token}`, { origin: r.origin });
    this.ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as ServerMessage;
      this.messages.push({ msg, at: performance.now() });
      this.#waiters = this.#waiters.filter((w) => (w.pred(msg) ? (w.resolve(msg), false) : true));
    });
  }

  opened(): Promise<void> {
    return new Promise((ok, fail) => { this.ws.once('open', () => ok()); this.ws.once('error', fail); });
  }

  send(v: unknown): void {
    this.ws.send(typeof v === 'string' ? v : JSON.stringify(v));
  }

  next<T extends ServerMessage>(pred: (m: ServerMessage) => boolean, from = 0, timeoutMs = 10_000): Promise<T> {
    const found = this.messages.slice(from).find((e) => pred(e.msg));
    if (found) return Promise.resolve(found.msg as T);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a message')), timeoutMs);
      this.#waiters.push({ pred, resolve: (m) => { clearTimeout(timer); resolve(m as T); } });
    });
  }

  /** Sends a request and returns its reply (or error) by id. */
  async request<T extends ServerMessage>(frame: { id: string } & Record<string, unknown>): Promise<T> {
    const from = this.messages.length;
    this.send(frame);
    return this.next<T>((m) => 'id' in m && m.id === frame.id && m.type !== 'run.started', from);
  }

  close(): Promise<void> {
    return new Promise((ok) => { this.ws.once('close', () => ok()); this.ws.close(); });
  }
}

interface Curl {
  exitCode: number;
  status: number;
  body: string;
  stderr: string;
  endedAt: number;
}

function curl(args: string[], url: string): Promise<Curl> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '10', '-w', '\n%{http_code}', ...args, url], (err, stdout, stderr) => {
      const lines = stdout.split('\n');
      const status = Number(lines.pop());
      resolve({ exitCode: typeof err?.code === 'number' ? err.code : 0, status, body: lines.join('\n'), stderr, endedAt: performance.now() });
    });
  });
}

interface InboundRun {
  started: Msg<'run.started'>;
  startedAt: number;
  finished: Msg<'run.finished'>;
  finishedAt: number;
  /** Step events in arrival order, with their index among all the session's frames. */
  events: { step: Step; index: number }[];
  final: Map<string, Step>;
  startedIndex: number;
  finishedIndex: number;
}

/** The run of the next client to connect to the listener opened by request `listenerRequest`. */
async function nextRun(s: Session, listenerRequest: string, from: number): Promise<InboundRun> {
  const started = await s.next<Msg<'run.started'>>((m) => m.type === 'run.started' && m.id === listenerRequest, from);
  const finished = await s.next<Msg<'run.finished'>>((m) => m.type === 'run.finished' && m.runId === started.runId, from);
  const indexOf = (m: ServerMessage) => s.messages.findIndex((e) => e.msg === m);
  const events = s.messages.flatMap((e, index) => (e.msg.type === 'step' && e.msg.runId === started.runId ? [{ step: e.msg.step, index }] : []));
  const final = new Map(events.map((e) => [e.step.id, e.step]));
  const startedIndex = indexOf(started);
  const finishedIndex = indexOf(finished);
  return { started, startedAt: s.messages[startedIndex]!.at, finished, finishedAt: s.messages[finishedIndex]!.at, events, final, startedIndex, finishedIndex };
}

/** Step ids in the order they first arrived, each once. */
function firstArrival(run: InboundRun): string[] {
  return [...new Set(run.events.map((e) => e.step.id))];
}

let session: Session;
let listener: Msg<'inbound.started'>;
let serverCaFile: string;

// One hook: Node 20 does not wait for one root-level before() before starting the next.
before(async () => {
  pki = await makeTestPki();
  relay = await startRelay({ port: 0, quiet: true, dataDir: await tempDir('inbound-lab-'), webRoot: await tempDir('inbound-web-') });
  session = new Session();
  await session.opened();
  listener = await session.request<Msg<'inbound.started'>>({
    type: 'inbound.start',
    id: 'in-1',
    inbound: { caPem: pki.clientCa.cert, rule: { cnEquals: 'test-client' }, verifyDepth: 2 },
  });
  assert.equal(listener.type, 'inbound.started', JSON.stringify(listener));
  serverCaFile = await pki.file('listener-ca.pem', listener.serverCaPem);
});
after(async () => {
  await session.close();
  await relay.close();
});

test('inbound.started names the URL, the CA to trust, the bundle and a curl line', () => {
  assert.match(listener.url, /^https:\/\/localhost:\d+\/$/);
  assert.equal(listener.url, `https://localhost:${listener.port}/`);
  assert.equal(listener.host, '127.0.0.1');
  assert.equal(listener.serverCertificate, 'lab', 'the lab runs, so its localhost certificate is reused');
  assert.equal(listener.serverCaPem, relay.lab!.pki.serverCaPem);
  assert.deepEqual(listener.trustedCAs, ['CN=Test Client Root, O=Harness Tests']);
  assert.deepEqual(listener.warnings, []);
  assert.equal(listener.curl, `curl --cert client.pem --key client.key --cacert server-ca.pem https://localhost:${listener.port}/`);
});

const withCert = (p: Pair) => ['--cacert', () => serverCaFile, '--cert', p.certFile, '--key', p.keyFile] as const;

const cases: {
  name: string;
  args: () => (string | (() => string))[];
  url?: () => string;
  want: { outcome: 'pass' | 'fail'; diagnoses: string[]; status: number; failedStep?: string; reason?: RegExp };
}[] = [
  { name: 'the right certificate passes; curl gets 200', args: () => [...withCert(pki.client)], want: { outcome: 'pass', diagnoses: [], status: 200 } },
  { name: 'a certificate from another CA → client_cert_unknown_ca, 400', args: () => [...withCert(pki.clientFromOtherCa)], want: { outcome: 'fail', diagnoses: ['client_cert_unknown_ca'], status: 400, failedStep: 'verify', reason: /The SSL certificate error/ } },
  { name: 'an expired certificate → client_cert_expired, 400', args: () => [...withCert(pki.clientExpired)], want: { outcome: 'fail', diagnoses: ['client_cert_expired'], status: 400, failedStep: 'verify', reason: /The SSL certificate error/ } },
  { name: 'a certificate valid only from next week → client_cert_not_yet_valid, 400', args: () => [...withCert(pki.clientNotYetValid)], want: { outcome: 'fail', diagnoses: ['client_cert_not_yet_valid'], status: 400, failedStep: 'verify' } },
  { name: 'a serverAuth-only certificate → client_cert_wrong_usage, 400', args: () => [...withCert(pki.clientServerAuthOnly)], want: { outcome: 'fail', diagnoses: ['client_cert_wrong_usage'], status: 400, failedStep: 'verify' } },
  { name: 'no certificate → client_cert_required, 400', args: () => ['--cacert', () => serverCaFile], want: { outcome: 'fail', diagnoses: ['client_cert_required'], status: 400, failedStep: 'certificate', reason: /No required SSL certificate was sent/ } },
  { name: 'the wrong CN → access_denied, 403', args: () => [...withCert(pki.clientWrongCn)], want: { outcome: 'fail', diagnoses: ['access_denied'], status: 403, failedStep: 'rule', reason: /Forbidden/ } },
  { name: 'a chain deeper than verifyDepth → client_chain_too_deep, 400', args: () => [...withCert(pki.clientViaTwoIntermediates)], want: { outcome: 'fail', diagnoses: ['client_chain_too_deep'], status: 400, failedStep: 'verify', reason: /The SSL certificate error/ } },
  { name: 'TLS 1.2 with the wrong CN → access_denied, 403', args: () => ['--tls-max', '1.2', ...withCert(pki.clientWrongCn)], want: { outcome: 'fail', diagnoses: ['access_denied'], status: 403, failedStep: 'rule' } },
  { name: 'plain HTTP on the port → not_tls, answered 400 like nginx', args: () => [], url: () => listener.url.replace('https:', 'http:'), want: { outcome: 'fail', diagnoses: ['not_tls'], status: 400, failedStep: 'tls' } },
  { name: 'a client that does not trust the listener → listener_cert_untrusted', args: () => [...withCert(pki.client)].filter((a) => a !== '--cacert' && typeof a === 'string'), want: { outcome: 'fail', diagnoses: ['listener_cert_untrusted'], status: 0, failedStep: 'tls' } },
];

for (const c of cases) {
  test(`curl: ${c.name}`, async () => {
    const from = session.messages.length;
    const args = c.args().map((a) => (typeof a === 'function' ? a() : a));
    const result = await curl(args, c.url?.() ?? listener.url);
    const run = await nextRun(session, 'in-1', from);

    assert.equal(run.started.kind, 'inbound');
    assert.match(run.started.target, new RegExp(`^127\\.0\\.0\\.1:\\d+ → https://localhost:${listener.port}/$`));
    assert.equal(run.finished.outcome, c.want.outcome, JSON.stringify([...run.final.values()].map((s) => [s.id, s.status, s.summary])));
    assert.deepEqual(run.finished.diagnoses, c.want.diagnoses);

    // Streamed as it happened: started first, finished last, steps in phase order, each sent
    // as running before its final state, and the run began before curl was done.
    assert.ok(run.startedIndex < run.events[0]!.index && run.events.at(-1)!.index < run.finishedIndex);
    assert.deepEqual(firstArrival(run), [...INBOUND_PHASES]);
    assert.ok(run.startedAt < result.endedAt, 'run.started arrived while curl was still connected');
    for (const id of ['tcp', 'tls']) assert.equal(run.events.find((e) => e.step.id === id)!.step.status, 'running', `${id} was sent as running first`);

    assert.equal(result.status === 0 ? 0 : result.status, c.want.status, result.stderr);
    if (c.want.failedStep) {
      const failed = run.final.get(c.want.failedStep)!;
      assert.equal(failed.status, 'fail');
      assert.equal(failed.diagnosis?.code, c.want.diagnoses[0]);
      assert.ok(failed.diagnosis!.fix.client.length > 10 && failed.diagnosis!.fix.server.length > 10);
    }
    if (c.want.status === 200 || c.want.status === 403 || (c.want.status === 400 && c.want.failedStep !== 'tls')) {
      const body = JSON.parse(result.body) as Record<string, unknown>;
      assert.equal(body.status, c.want.status);
      assert.equal(body.verdict, c.want.outcome);
      assert.equal(body.runId, run.started.runId, 'the partner can quote the run id');
      if (c.want.reason) assert.match(String(body.reason), c.want.reason);
      assert.equal((body.diagnosis as { code: string } | null)?.code ?? null, c.want.diagnoses[0] ?? null);
      const response = findStep(run.final.values() as Iterable<InboundStep>, 'response')!;
      assert.equal(response.title, `HTTP ${c.want.status}`);
    }
    if (c.want.failedStep === 'tls') {
      for (const id of ['certificate', 'verify', 'rule', 'request', 'response']) assert.equal(run.final.get(id)!.status, 'skipped', id);
    }
  });
}

test('the certificate step shows the chain as sent; verify shows the path and depth', async () => {
  const from = session.messages.length;
  await curl([...withCert(pki.clientViaTwoIntermediates)].map((a) => (typeof a === 'function' ? a() : a)), listener.url);
  const run = await nextRun(session, 'in-1', from);
  const cert = findStep(run.final.values() as Iterable<InboundStep>, 'certificate')!;
  const chain = cert.details!.chain as { subject: string; issuer: string; sha256: string; notAfter: string; inBundle: boolean }[];
  assert.deepEqual(chain.map((c) => c.subject), ['CN=deeper-client', 'CN=Test Client Intermediate 2, O=Harness Tests', 'CN=Test Client Intermediate, O=Harness Tests']);
  assert.match(String(cert.details!.chainSource), /as sent/);
  assert.match(chain[0]!.sha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.equal(chain[0]!.inBundle, false);
  const verify = findStep(run.final.values() as Iterable<InboundStep>, 'verify')!;
  assert.equal(verify.details!.depth, 3);
  assert.equal(verify.details!.verifyDepth, 2);
  assert.equal(verify.details!.authorized, true, 'Node verified the chain; the depth is what refused it');
  assert.deepEqual(verify.details!.path, [...chain.map((c) => c.subject), 'CN=Test Client Root, O=Harness Tests']);
});

test('request headers are shown and answered with secrets masked', async () => {
  const from = session.messages.length;
  const secret = 'Bearer sk-live-0123456789abcdef';
  const args = [...withCert(pki.client)].map((a) => (typeof a === 'function' ? a() : a));
  const result = await curl([...args, '-X', 'POST', '-H', `Authorization: ${secret}`, '-H', 'X-Partner: acme', '--data', 'a=1&b=2'], `${listener.url}orders?x=1`);
  const run = await nextRun(session, 'in-1', from);
  const request = findStep(run.final.values() as Iterable<InboundStep>, 'request')!;
  assert.equal(request.details!.method, 'POST');
  assert.equal(request.details!.path, '/orders?x=1');
  assert.equal(request.details!.bodyBytes, 7);
  const headers = request.details!.headers as Record<string, string>;
  assert.ok(String(headers.authorization).endsWith(MASK), headers.authorization);
  assert.equal((JSON.parse(result.body) as { request: { headers: Record<string, string> } }).request.headers.authorization, `Bearer ${MASK}`, 'the client sees the scheme it sent and a mask');
  assert.equal(headers['x-partner'], 'acme');
  const wire = JSON.stringify(session.messages.slice(from).map((e) => e.msg));
  assert.ok(!wire.includes('sk-live-0123456789abcdef'), 'the credential never reaches the WebSocket');
  assert.ok(!result.body.includes('sk-live-0123456789abcdef'), 'nor the answer to the client');
  assert.equal(result.status, 200);
});

test('steps arrive while the client is still connected: checks before the request is even sent', async () => {
  const from = session.messages.length;
  const socket = tls.connect({ host: '127.0.0.1', port: listener.port, servername: 'localhost', ca: listener.serverCaPem, cert: pki.client.cert, key: pki.client.key });
  await new Promise<void>((ok, fail) => { socket.once('secureConnect', () => ok()); socket.once('error', fail); });
  // The handshake is done and no request sent: the certificate checks are already on the WS.
  const started = await session.next<Msg<'run.started'>>((m) => m.type === 'run.started' && m.id === 'in-1', from);
  const rule = await session.next<Msg<'step'>>((m) => m.type === 'step' && m.runId === started.runId && m.step.id === 'rule' && m.step.status !== 'running', from);
  assert.equal(rule.step.status, 'ok');
  assert.ok(!session.messages.slice(from).some((e) => e.msg.type === 'run.finished' && e.msg.runId === started.runId), 'the run is still open');
  const response = new Promise<string>((ok) => {
    let text = '';
    socket.on('data', (d) => { text += d; });
    socket.on('end', () => ok(text));
  });
  socket.write('GET /late HTTP/1.1\r\nHost: localhost\r\n\r\n');
  assert.match(await response, /^HTTP\/1\.1 200 OK/);
  const run = await nextRun(session, 'in-1', from);
  assert.equal(run.finished.outcome, 'pass');
  assert.equal(findStep(run.final.values() as Iterable<InboundStep>, 'request')!.details!.path, '/late');
  socket.destroy();
});

test('a second listener without rule or depth limit lets a deep chain in; a third is refused', async () => {
  const second = await session.request<Msg<'inbound.started'>>({ type: 'inbound.start', id: 'in-2', inbound: { caPem: pki.clientCa.cert } });
  assert.equal(second.type, 'inbound.started');
  assert.notEqual(second.port, listener.port);
  const third = await session.request<Msg<'error'>>({ type: 'inbound.start', id: 'in-3', inbound: { caPem: pki.clientCa.cert } });
  assert.equal(third.code, 'too_many_listeners');
  assert.match(third.message, /at most 2 inbound listeners/);

  const from = session.messages.length;
  const result = await curl(['--cacert', serverCaFile, '--cert', pki.clientViaTwoIntermediates.certFile, '--key', pki.clientViaTwoIntermediates.keyFile], second.url);
  const run = await nextRun(session, 'in-2', from);
  assert.equal(result.status, 200);
  assert.equal(run.finished.outcome, 'pass');
  assert.equal(findStep(run.final.values() as Iterable<InboundStep>, 'verify')!.details!.depth, 3);
  assert.match(String(run.final.get('rule')!.summary), /no access rule/);

  // inbound.stop closes the port.
  const stopped = await session.request<Msg<'inbound.stopped'>>({ type: 'inbound.stop', id: 'stop-2', listenerId: second.listenerId });
  assert.deepEqual(stopped, { type: 'inbound.stopped', id: 'stop-2', listenerId: second.listenerId });
  assert.equal(await connectError(second.port), 'ECONNREFUSED');
  const again = await session.request<Msg<'error'>>({ type: 'inbound.stop', id: 'stop-2b', listenerId: second.listenerId });
  assert.equal(again.code, 'unknown_listener');
});

function connectError(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(null); });
    s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

test('inbound.stop while a client is mid-connection finishes its run as error, then replies', async () => {
  const s = new Session();
  await s.opened();
  const l = await s.request<Msg<'inbound.started'>>({ type: 'inbound.start', id: 'mid', inbound: { caPem: pki.clientCa.cert } });
  const socket = tls.connect({ host: '127.0.0.1', port: l.port, servername: 'localhost', ca: l.serverCaPem, cert: pki.client.cert, key: pki.client.key });
  socket.on('error', () => {});
  const started = await s.next<Msg<'run.started'>>((m) => m.type === 'run.started' && m.id === 'mid');
  await s.next((m) => m.type === 'step' && m.runId === started.runId && m.step.id === 'request');
  const stopped = await s.request<Msg<'inbound.stopped'>>({ type: 'inbound.stop', id: 'mid-stop', listenerId: l.listenerId });
  assert.equal(stopped.type, 'inbound.stopped');
  const finishedIndex = s.messages.findIndex((e) => e.msg.type === 'run.finished' && e.msg.runId === started.runId);
  const stoppedIndex = s.messages.findIndex((e) => e.msg === stopped);
  assert.ok(finishedIndex >= 0 && finishedIndex < stoppedIndex, 'the run finished before inbound.stopped');
  assert.equal((s.messages[finishedIndex]!.msg as Msg<'run.finished'>).outcome, 'error');
  socket.destroy();
  await s.close();
});

test('closing the WebSocket closes its listeners', async () => {
  const s = new Session();
  await s.opened();
  const l = await s.request<Msg<'inbound.started'>>({ type: 'inbound.start', id: 'ws-close', inbound: { caPem: pki.clientCa.cert, port: 0 } });
  assert.equal(await connectError(l.port), null, 'open while the session is');
  await s.close();
  let code: string | null = null;
  for (let i = 0; i < 50 && code !== 'ECONNREFUSED'; i++) {
    await new Promise((ok) => setTimeout(ok, 20));
    code = await connectError(l.port);
  }
  assert.equal(code, 'ECONNREFUSED');
});

const badFrames: { name: string; frame: () => unknown; code: string; message: RegExp }[] = [
  { name: 'no inbound object', frame: () => ({ type: 'inbound.start', id: 'b1' }), code: 'bad_message', message: /^inbound must be an object$/ },
  { name: 'no caPem', frame: () => ({ type: 'inbound.start', id: 'b2', inbound: {} }), code: 'bad_message', message: /inbound\.caPem must be a string/ },
  { name: 'caPem without a certificate block', frame: () => ({ type: 'inbound.start', id: 'b3', inbound: { caPem: 'hello' } }), code: 'bad_message', message: /inbound\.caPem must be a PEM bundle/ },
  { name: 'port out of range', frame: () => ({ type: 'inbound.start', id: 'b4', inbound: { caPem: pki.clientCa.cert, port: 70000 } }), code: 'bad_message', message: /inbound\.port must be an integer from 0 to 65535/ },
  { name: 'port as a string', frame: () => ({ type: 'inbound.start', id: 'b5', inbound: { caPem: pki.clientCa.cert, port: '8443' } }), code: 'bad_message', message: /inbound\.port/ },
  { name: 'host name that is not an address', frame: () => ({ type: 'inbound.start', id: 'b6', inbound: { caPem: pki.clientCa.cert, host: 'evil.example' } }), code: 'bad_message', message: /inbound\.host must be an IP address or localhost/ },
  { name: 'misspelt rule field', frame: () => ({ type: 'inbound.start', id: 'b7', inbound: { caPem: pki.clientCa.cert, rule: { cnEqual: 'x' } } }), code: 'bad_message', message: /inbound\.rule\.cnEqual is not a rule field/ },
  { name: 'empty CN rule', frame: () => ({ type: 'inbound.start', id: 'b8', inbound: { caPem: pki.clientCa.cert, rule: { cnEquals: '' } } }), code: 'bad_message', message: /inbound\.rule\.cnEquals must be a non-empty single-line string/ },
  { name: 'negative verifyDepth', frame: () => ({ type: 'inbound.start', id: 'b9', inbound: { caPem: pki.clientCa.cert, verifyDepth: -1 } }), code: 'bad_message', message: /inbound\.verifyDepth must be an integer from 0 to 16/ },
  { name: 'stop without listenerId', frame: () => ({ type: 'inbound.stop', id: 'b10' }), code: 'bad_message', message: /listenerId must be a string/ },
  { name: 'stop of an unknown listener', frame: () => ({ type: 'inbound.stop', id: 'b11', listenerId: 'l0' }), code: 'unknown_listener', message: /no inbound listener l0/ },
  { name: 'a private key in the CA bundle', frame: () => ({ type: 'inbound.start', id: 'b12', inbound: { caPem: pki.clientCa.cert + pki.clientCa.key } }), code: 'ca_invalid', message: /contains a private key/ },
  { name: 'a damaged certificate', frame: () => ({ type: 'inbound.start', id: 'b13', inbound: { caPem: '-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n' } }), code: 'ca_invalid', message: /CA bundle/ },
  { name: 'a port already in use', frame: () => ({ type: 'inbound.start', id: 'b14', inbound: { caPem: pki.clientCa.cert, port: relay.port } }), code: 'listen_failed', message: /already in use/ },
];

test('bad inbound frames get specific errors and leave the session working', async () => {
  const s = new Session();
  await s.opened();
  for (const b of badFrames) {
    const frame = b.frame() as { id: string };
    const reply = await s.request<Msg<'error'>>(frame);
    assert.equal(reply.type, 'error', b.name);
    assert.equal(reply.code, b.code, `${b.name}: ${reply.message}`);
    assert.match(reply.message, b.message, b.name);
    assert.ok(!reply.message.includes('PRIVATE KEY'), 'a pasted key is never echoed');
  }
  const ok = await s.request<Msg<'inbound.started'>>({ type: 'inbound.start', id: 'after-bad', inbound: { caPem: pki.clientCa.cert } });
  assert.equal(ok.type, 'inbound.started');
  await s.close();
});

test('without the lab the listener makes its own self-signed localhost certificate; closing the relay closes it', async () => {
  const bare = await startRelay({ port: 0, quiet: true, lab: false, dataDir: await tempDir('inbound-nolab-'), webRoot: await tempDir('inbound-web-') });
  let port = 0;
  try {
    const s = new Session(bare);
    await s.opened();
    const l = await s.request<Msg<'inbound.started'>>({ type: 'inbound.start', id: 'own', inbound: { caPem: pki.clientCa.cert, rule: { cnEquals: 'test-client' } } });
    port = l.port;
    assert.equal(l.serverCertificate, 'self-signed');
    const ca = await pki.file('own-ca.pem', l.serverCaPem);
    const result = await curl(['--cacert', ca, '--cert', pki.client.certFile, '--key', pki.client.keyFile], l.url);
    assert.equal(result.status, 200, result.stderr);
    assert.equal((JSON.parse(result.body) as { verdict: string }).verdict, 'pass');
  } finally {
    await bare.close();
  }
  // The session is still open from the client's side: the relay itself closed the listener.
  assert.equal(await connectError(port), 'ECONNREFUSED');
});

test('hosted mode refuses to open listeners', async () => {
  const hosted = await startRelay({ port: 0, quiet: true, lab: false, hosted: true, dataDir: await tempDir('inbound-hosted-'), webRoot: await tempDir('inbound-web-') });
  try {
    const s = new Session(hosted);
    await s.opened();
    const reply = await s.request<Msg<'error'>>({ type: 'inbound.start', id: 'h', inbound: { caPem: pki.clientCa.cert } });
    assert.equal(reply.code, 'inbound_refused');
    assert.match(reply.message, /hosted mode/);
    await s.close();
  } finally {
    await hosted.close();
  }
});
