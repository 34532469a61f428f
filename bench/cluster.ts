// One relay reached directly against two relays behind real nginx, in the same run: probes per
// second (the same sessions and probes, rounds alternating so machine noise hits both) and how
// many sessions a relay holds while a welcome still comes within WELCOME_BUDGET_MS. Each relay
// is `harness serve --hosted` in its own process with its own lab (one shared lab directory),
// nginx runs the configuration of docs/deployment.md (server/testing/relays-nginx.ts).
//   npm run bench -- cluster          (bench/run.ts records it; BENCH_CLUSTER_ROUNDS, BENCH_CLUSTER_SESSIONS)
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { LabInfo, ServerMessage } from '../shared/protocol/index.ts';
import { loadOrCreateLabPki, signClientCsr } from '../server/lab/lab-pki.ts';
import { generateKeyPair, createCsr, exportPkcs8Pem } from '../shared/pki/issue.ts';
import { freePort } from '../server/testing/peers.ts';
import { startRelaysNginx } from '../server/testing/relays-nginx.ts';
import { startRelayProcess, type RelayProcess } from '../server/testing/relay-process.ts';

const SECRET = 'bench-cluster-secret-0123456789abcdefghijklmnop';
/** Sessions that send probes at once, each one after the other. */
const WORKERS = 16;
const PROBES_PER_WORKER = 15;
/** A relay "holds" sessions while the 95th percentile welcome of a batch comes within this. */
const WELCOME_BUDGET_MS = 1_000;
const RAMP_BATCH = 250;
const LIMITS = ['sessionsTotal=10000', 'sessionsPerAddress=10000', 'preAuthSockets=10000', 'preAuthSocketsPerAddress=10000',
  'runsTotal=512', 'runsPerAddress=512', 'runsPerMinutePerAddress=1000000'];

export interface ClusterBench {
  /** Probes per second, one per round. */
  directRates: number[];
  nginxRates: number[];
  medianDirect: number;
  medianNginx: number;
  ratio: number;
  /** Sessions one relay held directly, and two behind nginx together, within the welcome budget (or the cap). */
  sessionsOneRelay: number;
  sessionsTwoRelays: number;
  cap: number;
  /** Relay memory and descriptors per idle session (one relay, direct). */
  rssKiBPerSession: number;
  fdsPerSession: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

class Session {
  readonly ws: WebSocket;
  lab: LabInfo | null = null;
  readonly welcomed: Promise<number>;
  #n = 0;
  readonly #finished = new Map<string, (m: ServerMessage) => void>();
  readonly #started = new Map<string, (m: ServerMessage) => void>();
  readonly #ended = new Map<string, ServerMessage>();

  constructor(port: number, origin: string) {
    const t0 = performance.now();
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${SECRET}`, { origin });
    this.ws.on('error', () => {});
    this.welcomed = new Promise((ok, fail) => {
      this.ws.once('close', (code) => fail(new Error(`closed ${code} before the welcome`)));
      this.ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as ServerMessage;
        if (m.type === 'welcome') {
          this.lab = m.relay.lab;
          ok(performance.now() - t0);
        } else if (m.type === 'run.started' || m.type === 'error') {
          this.#started.get(m.id ?? '')?.(m);
        } else if (m.type === 'run.finished') {
          // run.started and run.finished can come in one read: keep an end nobody waits for yet.
          const waiter = this.#finished.get(m.runId);
          if (waiter) waiter(m);
          else this.#ended.set(m.runId, m);
        }
      });
    });
    this.welcomed.catch(() => {});
  }

  async probe(client: { certificatePem: string; privateKeyPem: string }): Promise<void> {
    const id = `b${this.#n++}`;
    const started = await new Promise<ServerMessage>((ok) => {
      this.#started.set(id, ok);
      this.ws.send(JSON.stringify({ type: 'probe.start', id, probe: { url: this.lab!.targets.find((t) => t.id === 'mtls')!.url, client } }));
    });
    this.#started.delete(id);
    if (started.type !== 'run.started') throw new Error(`probe refused: ${JSON.stringify(started)}`);
    const finished = this.#ended.get(started.runId) ?? await new Promise<ServerMessage>((ok) => this.#finished.set(started.runId, ok));
    this.#ended.delete(started.runId);
    this.#finished.delete(started.runId);
    if (finished.type === 'run.finished' && finished.outcome !== 'pass') throw new Error(`probe ${finished.outcome}: ${finished.diagnoses.join(', ')}`);
  }

  close(): void {
    this.ws.terminate();
  }
}

async function open(n: number, port: number, origin: string): Promise<{ sessions: Session[]; welcomeMs: number[] }> {
  const sessions = Array.from({ length: n }, () => new Session(port, origin));
  const welcomeMs = await Promise.all(sessions.map((s) => s.welcomed));
  return { sessions, welcomeMs };
}

/** Probes per second from WORKERS sessions, PROBES_PER_WORKER each. */
async function rate(sessions: Session[], client: { certificatePem: string; privateKeyPem: string }): Promise<number> {
  const t0 = performance.now();
  await Promise.all(sessions.map(async (s) => { for (let i = 0; i < PROBES_PER_WORKER; i++) await s.probe(client); }));
  return (sessions.length * PROBES_PER_WORKER) / ((performance.now() - t0) / 1000);
}

/** Opens batches until a batch's p95 welcome exceeds the budget, a session is refused, or `cap`. */
async function ramp(port: number, origin: string, cap: number): Promise<{ held: number; sessions: Session[] }> {
  const all: Session[] = [];
  while (all.length < cap) {
    try {
      const { sessions, welcomeMs } = await open(Math.min(RAMP_BATCH, cap - all.length), port, origin);
      all.push(...sessions);
      const p95 = [...welcomeMs].sort((a, b) => a - b)[Math.ceil(welcomeMs.length * 0.95) - 1]!;
      if (p95 > WELCOME_BUDGET_MS) return { held: all.length - sessions.length, sessions: all };
    } catch {
      return { held: all.length, sessions: all };
    }
  }
  return { held: all.length, sessions: all };
}

const rssKiB = async (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]);
const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

export async function clusterBench(rounds = Number(process.env.BENCH_CLUSTER_ROUNDS ?? 5), cap = Number(process.env.BENCH_CLUSTER_SESSIONS ?? 1000)): Promise<ClusterBench> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-cluster-'));
  const labDir = join(dir, 'lab');
  const pki = await loadOrCreateLabPki(labDir);
  const keys = await generateKeyPair('P-256', true);
  const client = { certificatePem: (await signClientCsr(pki, await createCsr(keys, 'CN=bench'))).certificatePem, privateKeyPem: await exportPkcs8Pem(keys.privateKey) };
  const nginxPort = await freePort();
  const origin = `http://127.0.0.1:${nginxPort}`;
  const relays: RelayProcess[] = await Promise.all(['b1', 'b2'].map((id) => startRelayProcess(id, { publicUrl: origin, labDir, secret: SECRET, limits: LIMITS })));
  const nginx = await startRelaysNginx({ port: nginxPort, relays: relays.map((r) => ({ id: r.id, address: `127.0.0.1:${r.port}` })), connections: cap * 2 });
  try {
    const direct = (await open(WORKERS, relays[0]!.port, origin)).sessions;
    const viaNginx = (await open(WORKERS, nginxPort, origin)).sessions;
    // Warm-up: compile paths, TLS contexts, nginx's worker.
    await rate(direct, client);
    await rate(viaNginx, client);
    const directRates: number[] = [];
    const nginxRates: number[] = [];
    for (let i = 0; i < rounds; i++) {
      directRates.push(await rate(direct, client));
      nginxRates.push(await rate(viaNginx, client));
      console.log(`  round ${i + 1}: one relay direct ${directRates[i]!.toFixed(0)} probes/s, two behind nginx ${nginxRates[i]!.toFixed(0)} probes/s`);
    }
    for (const s of [...direct, ...viaNginx]) s.close();
    await new Promise((r) => setTimeout(r, 500));

    const pid = relays[0]!.child.pid!;
    const rss0 = await rssKiB(pid);
    const fds0 = fdCount(pid);
    const one = await ramp(relays[0]!.port, origin, cap);
    console.log(`  one relay held ${one.held} sessions`);
    const rssKiBPerSession = (await rssKiB(pid) - rss0) / one.sessions.length;
    const fdsPerSession = (fdCount(pid) - fds0) / one.sessions.length;
    for (const s of one.sessions) s.close();
    await new Promise((r) => setTimeout(r, 500));
    const two = await ramp(nginxPort, origin, cap * 2);
    console.log(`  two relays behind nginx held ${two.held} sessions`);
    for (const s of two.sessions) s.close();
    const medianDirect = median(directRates);
    const medianNginx = median(nginxRates);
    return { directRates, nginxRates, medianDirect, medianNginx, ratio: medianNginx / medianDirect, sessionsOneRelay: one.held, sessionsTwoRelays: two.held, cap, rssKiBPerSession, fdsPerSession };
  } finally {
    await nginx.stop();
    for (const r of relays) r.child.kill('SIGTERM');
    await Promise.all(relays.map((r) => r.exited));
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await clusterBench());
