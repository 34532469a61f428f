// A class on two relays behind real nginx (the configuration docs/deployment.md shows, from
// server/testing/relays-nginx.ts): 500 real WebSocket sessions through one URL, probes and
// flows from all of them, sign-in redirects routed to the relay that holds the flow, then one
// relay stopped (SIGTERM, then SIGKILL) and nginx restarted mid-class. Every session comes back
// through nginx, every run ends with its result or a clear cancellation, no session sees
// another's events, and no process, listener or descriptor is left behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, stat } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { RelayClient, type Msg } from './testing/relay-client.ts';
import { freePort } from './testing/peers.ts';
import { startRelaysNginx, type RelaysNginx } from './testing/relays-nginx.ts';
import { startRelayProcess, type RelayProcess } from './testing/relay-process.ts';
import { followRedirects } from './flows/user-agent.ts';
import { loadOrCreateLabPki, signClientCsr } from './lab/lab-pki.ts';
import { generateKeyPair, createCsr, exportPkcs8Pem } from '../shared/pki/issue.ts';
import { CLOSE_CODES } from '../shared/protocol/index.ts';
import type { LabInfo, ServerMessage } from '../shared/protocol/index.ts';

const SESSIONS = 500;
const SECRET = 'cluster-test-secret-0123456789abcdefghijklmnop';
const METRICS_TOKEN = 'cluster-test-metrics-0123456789abcdefghijklmn';
/** Short, so a stopped relay's waiting runs are cancelled within the test's time. */
const GRACE_MS = 1_000;
/** Time for the last events and close frames; generous, as the machine is shared. */
const CLOSE_MS = 3_000;
const LIMITS = [
  'sessionsTotal=2000', 'sessionsPerAddress=2000', 'preAuthSockets=2000', 'preAuthSocketsPerAddress=2000',
  'runsTotal=512', 'runsPerAddress=512', 'runsPerMinutePerAddress=100000', 'waitingRunsTotal=64', 'waitingRunsPerAddress=64',
  `shutdownGraceMs=${GRACE_MS}`, `shutdownCloseMs=${CLOSE_MS}`,
  // The machine is shared: a handshake may wait for a core; the runs' own timeouts are not the subject here.
  'tlsTimeoutMs=30000', 'connectTimeoutMs=30000', 'responseTimeoutMs=30000',
];
/** Runs in flight at once from the test (the rest wait their turn), so a loaded machine is not flooded. */
const RUNS_AT_ONCE = 16;

// ---- relays as real processes

type RelayProc = RelayProcess;
const startRelayProc = (id: string, opts: { nginxPort: number; labDir: string; port?: number }) =>
  startRelayProcess(id, { publicUrl: `http://127.0.0.1:${opts.nginxPort}`, labDir: opts.labDir, secret: SECRET, metricsToken: METRICS_TOKEN, limits: LIMITS, ...(opts.port ? { port: opts.port } : {}) });

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
}

const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
const childrenOf = (pid: number) => {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

async function sessionsOn(relay: RelayProc): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${relay.port}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  return Number(/^harness_sessions (\d+)$/m.exec(await res.text())?.[1]);
}

async function eventually(what: string, check: () => Promise<boolean> | boolean, ms = 15_000, state?: () => string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) assert.fail(`not within ${ms} ms: ${what}${state ? ` (${state()})` : ''}; nginx's last words: ${(await nginx.errorLog()).split('\n').slice(-4).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The first message `pred` takes (kept or to come), or null once the socket closed first; no timer left behind. */
function waitFor<T extends ServerMessage>(conn: RelayClient, pred: (m: ServerMessage) => boolean): Promise<T | null> {
  const kept = conn.messages.find(pred);
  if (kept) return Promise.resolve(kept as T);
  return new Promise((resolve) => {
    const onMessage = (data: unknown) => {
      const m = JSON.parse(String(data)) as ServerMessage;
      if (!pred(m)) return;
      conn.ws.off('message', onMessage);
      resolve(m as T);
    };
    conn.ws.on('message', onMessage);
    void conn.closed.then(() => {
      conn.ws.off('message', onMessage);
      resolve(conn.messages.find(pred) as T | undefined ?? null);
    });
  });
}

let requests = 0;
/** Every lab port any relay had, to check they are all released at the end. */
const labPortsSeen = new Set<number>();

// ---- a learner: one page that reconnects through nginx like the app (backoff 0.5 s, 1 s, 2 s …)

let nginx: RelaysNginx;
let labDir: string;
const relays = new Map<string, RelayProc>();
/** Which relay a welcome came from: each relay's lab listens on its own ports on this machine. */
const relayByLabPort = new Map<number, string>();
let client: { certificatePem: string; privateKeyPem: string };
let serverCaPem: string;

const labTarget = (lab: LabInfo, id: string) => lab.targets.find((t) => t.id === id)!.url;

class Learner {
  conn!: RelayClient;
  lab!: LabInfo;
  relay = '';
  connections = 0;
  /** Events of runs this page did not start (must stay empty). */
  readonly foreign: string[] = [];
  closes: { code: number; reason: string }[] = [];
  #reconnect = true;
  #ready!: Promise<void>;

  connect(): Promise<void> {
    this.#ready = (async () => {
      for (let attempt = 0; ; attempt++) {
        const conn = new RelayClient({ port: nginx.port, token: SECRET, origin: `http://127.0.0.1:${nginx.port}` });
        const outcome = await waitFor<Msg<'welcome'>>(conn, (m) => m.type === 'welcome');
        if (outcome && conn.ws.readyState === conn.ws.OPEN) {
          this.#watch(conn);
          this.conn = conn;
          this.lab = outcome.relay.lab!;
          this.relay = relayByLabPort.get(Number(new URL(labTarget(this.lab, 'mtls')).port)) ?? 'unknown';
          for (const t of this.lab.targets) labPortsSeen.add(Number(new URL(t.url).port));
          this.connections++;
          void conn.closed.then((c) => {
            this.closes.push(c);
            if (this.#reconnect) void this.connect();
          });
          return;
        }
        await conn.close();
        await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** attempt, 4_000) * (0.5 + Math.random() / 2)));
      }
    })();
    return this.#ready;
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  get open(): boolean {
    return this.conn?.ws.readyState === this.conn?.ws.OPEN;
  }

  /** Every run event on this connection must belong to a run this connection started. */
  #watch(conn: RelayClient): void {
    const sent = new Set<string>();
    const runs = new Set<string>();
    const send = conn.send.bind(conn);
    conn.send = (v: unknown) => {
      const id = (typeof v === 'string' ? JSON.parse(v) : v as { id?: string }).id;
      if (id) sent.add(id);
      send(v);
    };
    conn.ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as ServerMessage;
      if (m.type === 'run.started') {
        if (sent.has(m.id)) runs.add(m.runId);
        else this.foreign.push(`run.started for request ${m.id}`);
      } else if ((m.type === 'step' || m.type === 'run.finished') && !runs.has(m.runId)) {
        this.foreign.push(`${m.type} of run ${m.runId}`);
      }
    });
  }

  async close(): Promise<void> {
    this.#reconnect = false;
    await this.conn?.close();
  }
}

const learners: Learner[] = [];
/** Sessions per relay (and not connected), for failure messages. */
const tally = () => learners.reduce<Record<string, number>>((t, l) => { const k = l.open ? l.relay : 'down'; t[k] = (t[k] ?? 0) + 1; return t; }, {});
const on = (id: string) => learners.filter((l) => l.relay === id);

type Ended = { how: 'finished'; finished: Msg<'run.finished'> } | { how: 'closed'; code: number };

/** Starts a run and resolves with its end: run.finished, or the socket closing first (what the app reports). */
async function runUntilEnd(l: Learner, type: 'probe.start' | 'flow.start', body: Record<string, unknown>, onStarted?: (runId: string, conn: RelayClient) => void): Promise<Ended> {
  const conn = l.conn;
  const id = `c${++requests}`;
  conn.send({ type, ...body, id });
  const started = await waitFor<Msg<'run.started'> | Msg<'error'>>(conn, (m) => (m.type === 'run.started' || m.type === 'error') && m.id === id);
  if (started === null) return { how: 'closed', code: (await conn.closed).code };
  assert.equal(started.type, 'run.started', JSON.stringify(started));
  const runId = (started as Msg<'run.started'>).runId;
  onStarted?.(runId, conn);
  // A run.finished sent just before the close is still the run's end.
  const finished = await waitFor<Msg<'run.finished'>>(conn, (m) => m.type === 'run.finished' && m.runId === runId);
  return finished ? { how: 'finished', finished } : { how: 'closed', code: (await conn.closed).code };
}

const probe = (l: Learner) => runUntilEnd(l, 'probe.start', { probe: { url: labTarget(l.lab, 'mtls'), client } });
const clientCredentials = (l: Learner) => runUntilEnd(l, 'flow.start', { flow: { kind: 'client-credentials', issuer: labTarget(l.lab, 'issuer'), clientAuth: { method: 'client_secret_basic', clientId: 'lab-basic', clientSecret: 'lab-basic-secret' } } });

/** An authorization-code flow; `signIn` plays the learner's browser (follows the authorization URL through nginx), or not. */
function authorizationCode(l: Learner, signIn: boolean): Promise<Ended> {
  const flow = { kind: 'authorization-code', issuer: labTarget(l.lab, 'issuer'), clientAuth: { method: 'client_secret_basic', clientId: 'lab-basic', clientSecret: 'lab-basic-secret' }, scope: 'offline_access', callbackTimeoutMs: 8_000 };
  return runUntilEnd(l, 'flow.start', { flow }, (runId, conn) => {
    if (!signIn) return;
    void waitFor<Msg<'step'>>(conn, (m) => m.type === 'step' && m.runId === runId && m.step.id === 'authorize' && m.step.status !== 'running').then(async (step) => {
      if (step) await followRedirects((step.step.details as { authorizationUrl: string }).authorizationUrl, { ca: [serverCaPem] });
    }).catch(() => {});
  });
}

/** Runs `jobs` with at most RUNS_AT_ONCE in flight; results in order. */
async function pooled<T>(jobs: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(RUNS_AT_ONCE, jobs.length) }, async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  }));
  return out;
}

const spread = <T>(n: number, pool: T[]) => Array.from({ length: n }, (_, i) => pool[Math.floor((i * pool.length) / n)]!);

const labs = new Map<string, LabInfo>();
/** The lab a relay announces in its welcome, asked directly (not through nginx). */
async function labOf(r: RelayProc): Promise<LabInfo> {
  const c = await RelayClient.open({ port: r.port, token: SECRET, origin: `http://127.0.0.1:${nginxPortOf()}` });
  const lab = c.messages.find((m): m is Msg<'welcome'> => m.type === 'welcome')!.relay.lab!;
  await c.close();
  relayByLabPort.set(Number(new URL(labTarget(lab, 'mtls')).port), r.id);
  return lab;
}
let nginxPort = 0;
const nginxPortOf = () => nginxPort;

const passed = (e: Ended) => e.how === 'finished' && e.finished.outcome === 'pass';

before(async () => {
  labDir = join(await mkdtemp(join(tmpdir(), 'harness-cluster-')), 'lab');
  // The learner's certificate, issued once by the shared lab CA: both relays' labs must accept it.
  const pki = await loadOrCreateLabPki(labDir);
  serverCaPem = pki.serverCaPem;
  const keys = await generateKeyPair('P-256', true);
  const signed = await signClientCsr(pki, await createCsr(keys, 'CN=learner, O=mTLS Harness Lab'));
  client = { certificatePem: signed.certificatePem, privateKeyPem: await exportPkcs8Pem(keys.privateKey) };
  nginxPort = await freePort();
  const [r1, r2] = await Promise.all(['r1', 'r2'].map((id) => startRelayProc(id, { nginxPort, labDir })));
  for (const r of [r1!, r2!]) relays.set(r.id, r);
  for (const r of relays.values()) labs.set(r.id, await labOf(r));
  nginx = await startRelaysNginx({ port: nginxPort, relays: [...relays.values()].map((r) => ({ id: r.id, address: `127.0.0.1:${r.port}` })), connections: SESSIONS * 2 });
});

after(async () => {
  for (const l of learners) await l.close();
  for (const r of relays.values()) {
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    await r.exited;
  }
  await nginx?.stop();
});

test('both relays present one lab identity: the same CAs, token keys and clients, from one --lab-dir with private files 0600', async () => {
  const welcomes = [labs.get('r1'), labs.get('r2')];
  const [a, b] = welcomes as [LabInfo, LabInfo];
  assert.equal(a.caCertificatePem, b.caCertificatePem);
  assert.equal(a.caSubject, b.caSubject);
  assert.equal(a.serverCaPem, b.serverCaPem);
  // The token services sign with the same keys (a token from one verifies at the other).
  const jwks = await Promise.all([a, b].map(async (lab) => {
    const meta = JSON.parse((await followRedirects(`${labTarget(lab, 'issuer')}/.well-known/openid-configuration`, { ca: [serverCaPem] })).final.body) as { jwks_uri: string };
    return (await followRedirects(meta.jwks_uri, { ca: [serverCaPem] })).final.body;
  }));
  assert.equal(jwks[0], jwks[1]);
  let keyFiles = 0;
  for (const name of await readdir(labDir)) {
    const mode = (await stat(join(labDir, name))).mode & 0o777;
    const text = await readFile(join(labDir, name), 'utf8');
    if (text.includes('PRIVATE KEY') || text.includes('"d"')) {
      keyFiles++;
      assert.equal(mode, 0o600, `${name} holds a private key`);
    }
  }
  assert.ok(keyFiles >= 3, `the lab's key files: ${keyFiles}`);
  assert.equal((await stat(labDir)).mode & 0o777, 0o700);
});

test(`${SESSIONS} sessions through nginx, probes and flows from all, sign-in redirects reach their relay; SIGTERM one relay mid-run`, async () => {
  for (let i = 0; i < SESSIONS; i += 50) {
    const batch = Array.from({ length: Math.min(50, SESSIONS - i) }, () => new Learner());
    await Promise.all(batch.map((l) => l.connect()));
    learners.push(...batch);
  }
  const counts = { r1: on('r1').length, r2: on('r2').length };
  assert.equal(counts.r1 + counts.r2, SESSIONS, JSON.stringify(counts));
  assert.ok(counts.r1 > SESSIONS / 4 && counts.r2 > SESSIONS / 4, `nginx spreads sessions: ${JSON.stringify(counts)}`);

  // 100 probes, 10 client-credentials and 10 authorization-code flows, across all sessions.
  const runs = await pooled([
    ...spread(100, learners).map((l) => () => probe(l)),
    ...spread(10, learners.slice(1)).map((l) => () => clientCredentials(l)),
    ...spread(10, learners.slice(2)).map((l) => () => authorizationCode(l, true)),
  ]);
  const failed = runs.filter((r) => !passed(r)).map((r) => JSON.stringify(r));
  assert.deepEqual(failed, [], 'every run passes; a sign-in redirect sent to the other relay would end in callback_timeout');
  assert.ok(spread(10, learners.slice(2)).some((l) => l.relay === 'r1') && spread(10, learners.slice(2)).some((l) => l.relay === 'r2'), 'sign-ins on both relays');

  // Mid-run on r1: probes in flight and sign-ins nobody completes; then SIGTERM.
  const r1 = relays.get('r1')!;
  const moving = on('r1');
  const inFlight = [...spread(20, moving).map(probe), ...spread(5, moving).map((l) => authorizationCode(l, false))];
  await new Promise((r) => setTimeout(r, 100));
  const killedAt = performance.now();
  r1.child.kill('SIGTERM');
  const ends = await Promise.all(inFlight);
  for (const e of ends) {
    // SIGTERM: a run ends with its own result or relay_shutdown, sent before the close; on a
    // machine too busy to flush them within shutdownCloseMs, the socket is cut and the client says so.
    if (e.how === 'closed') assert.ok(e.code === 1006 || e.code === CLOSE_CODES.goingAway, JSON.stringify(e));
    else if (e.finished.outcome !== 'pass') assert.deepEqual(e.finished.diagnoses, ['relay_shutdown']);
  }
  assert.ok(ends.slice(20).every((e) => e.how === 'closed' || e.finished.diagnoses[0] === 'relay_shutdown'), 'waiting sign-ins are cancelled');
  assert.ok(ends.some((e) => e.how === 'finished' && e.finished.diagnoses[0] === 'relay_shutdown'), 'cancellations reach the browsers');
  assert.deepEqual(await r1.exited, { code: 0, signal: null });
  // Within the grace period, the close wait and start-up slack: no run's timer holds the process open.
  const exitMs = performance.now() - killedAt;
  assert.ok(exitMs < GRACE_MS + CLOSE_MS + 6_000, `r1 exited ${Math.round(exitMs)} ms after SIGTERM`);
  await eventually('every session of r1 is back, through nginx, on r2', async () => moving.every((l) => l.open && l.relay === 'r2'), 15_000, () => JSON.stringify(tally()));
  const closes = moving.map((l) => l.closes[0]!.code);
  assert.ok(closes.filter((c) => c === CLOSE_CODES.goingAway).length >= moving.length * 0.9, `sessions hear "going away": ${JSON.stringify(closes)}`);
  assert.equal(await portIsFree(r1.port), true, 'r1 released its port');
  assert.deepEqual(childrenOf(r1.child.pid!), []);
  await eventually('r2 holds all sessions', async () => (await sessionsOn(relays.get('r2')!)) === SESSIONS);

  // The moved sessions keep working on r2.
  const after = await pooled(spread(30, moving).map((l) => () => probe(l)));
  assert.ok(after.every(passed), JSON.stringify(after.filter((e) => !passed(e))));
  assert.deepEqual(learners.flatMap((l) => l.foreign), []);
});

test('SIGKILL one relay mid-run: its sessions reconnect to the other, each run ends or its socket is reported closed, nginx keeps no descriptor of it', async () => {
  // r1 back on its port (as a supervisor restarts it), then r2 killed outright.
  const old = relays.get('r1')!;
  relays.set('r1', await startRelayProc('r1', { nginxPort: nginx.port, labDir, port: old.port }));
  labs.set('r1', await labOf(relays.get('r1')!));
  const r2 = relays.get('r2')!;
  const worker = childrenOf(nginx.pid())[0]!;
  const nginxFdsBefore = fds(worker);
  const moving = on('r2');
  assert.equal(moving.length, SESSIONS);
  const inFlight = [...spread(20, moving).map(probe), ...spread(5, moving).map((l) => authorizationCode(l, false))];
  await new Promise((r) => setTimeout(r, 100));
  r2.child.kill('SIGKILL');
  const ends = await Promise.all(inFlight);
  // Killed: a run ends with its own result if it got there first; otherwise the client sees the socket close.
  for (const e of ends) assert.ok(e.how === 'closed' ? e.code === 1006 : e.finished.outcome === 'pass', JSON.stringify(e));
  assert.ok(ends.slice(20).every((e) => e.how === 'closed'), 'waiting sign-ins end with the closed socket');
  assert.equal((await r2.exited).signal, 'SIGKILL');
  await eventually('every session is back on r1', async () => learners.every((l) => l.open && l.relay === 'r1'), 15_000, () => JSON.stringify(tally()));
  await eventually('r1 holds all sessions', async () => (await sessionsOn(relays.get('r1')!)) === SESSIONS);
  assert.equal(await portIsFree(r2.port), true);
  // nginx's worker holds the same connections as before (browser + relay per session), none to the dead relay.
  await eventually(`nginx worker descriptors back to ${nginxFdsBefore} (now ${fds(worker)})`, () => fds(worker) <= nginxFdsBefore + 8);
  const after = await pooled(spread(30, learners).map((l) => () => probe(l)));
  assert.ok(after.every(passed), JSON.stringify(after.filter((e) => !passed(e))));
  assert.deepEqual(learners.flatMap((l) => l.foreign), []);
});

test('nginx restarted mid-class: every session reconnects, the relay closes the old ones, runs work again', async () => {
  const r1 = relays.get('r1')!;
  const before = learners.map((l) => l.connections);
  const relayFds = fds(r1.child.pid!);
  await nginx.restart();
  await eventually('every session reconnected', async () => learners.every((l, i) => l.open && l.connections > before[i]!), 30_000, () => JSON.stringify(tally()));
  await eventually('the relay dropped the sessions of the old nginx', async () => (await sessionsOn(r1)) === SESSIONS);
  // Its descriptors too: one per session, as before the restart (not one per session per nginx).
  await eventually(`r1's descriptors back to ${relayFds} (now ${fds(r1.child.pid!)})`, () => fds(r1.child.pid!) <= relayFds + 8);
  const after = await pooled([...spread(20, learners).map((l) => () => probe(l)), ...spread(4, learners).map((l) => () => authorizationCode(l, true))]);
  assert.ok(after.every(passed), JSON.stringify(after.filter((e) => !passed(e))));
  assert.deepEqual(learners.flatMap((l) => l.foreign), []);
});

test('nothing is left behind: relays exit, ports and lab ports are free, descriptors return', async () => {
  const r1 = relays.get('r1')!;
  const mine = readdirSync('/proc/self/fd').length;
  for (const l of learners) await l.close();
  await eventually('r1 sees no session', async () => (await sessionsOn(r1)) === 0);
  await eventually(`this process closed its ${SESSIONS} sockets`, () => readdirSync('/proc/self/fd').length <= mine - SESSIONS + 8);
  r1.child.kill('SIGTERM');
  assert.deepEqual(await r1.exited, { code: 0, signal: null });
  for (const port of new Set([r1.port, relays.get('r2')!.port, ...labPortsSeen])) assert.equal(await portIsFree(port), true, `port ${port}`);
  await nginx.stop();
  assert.equal(await portIsFree(nginx.port), true);
});
