// What one token holder can do to take more than a fair share of the relay, each as a function
// that runs the attack with real clients against a running relay until `stop` is called. Used by
// the per-point tests and by server/load.test.ts (which adds its own attacks the same way).
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DEFAULT_LIMITS, type Limits } from '../defaults.ts';
import type { RunningRelay } from '../relay.ts';
import type { LabInfo } from '../../shared/protocol/index.ts';
import { generateKeyPair, createCsr } from '../../shared/pki/issue.ts';
import { publicJwkOf } from '../../shared/jwt/sign.ts';
import { startHostileTarget } from './hostile-target.ts';
import { RelayClient } from './relay-client.ts';

/** A full garbage collection, without starting node with --expose-gc. */
export const forceGc: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/**
 * Bytes the relay's process holds after a full collection: heap plus Buffers (where pending
 * frames live). The least of three looks 100 ms apart, so a frame still on its way out when the
 * first look happens is not taken for memory kept.
 */
export async function retainedBytes(): Promise<number> {
  let least = Infinity;
  for (let i = 0; i < 3; i++) {
    if (i) await new Promise((ok) => setTimeout(ok, 100));
    forceGc();
    const m = process.memoryUsage();
    least = Math.min(least, m.heapUsed + m.arrayBuffers);
  }
  return least;
}

/** Limits for a test relay, leaving out names this relay does not know (so a test runs on older code too). */
export function knownLimits(limits: Record<string, number>): Partial<Limits> {
  return Object.fromEntries(Object.entries(limits).filter(([k]) => Object.hasOwn(DEFAULT_LIMITS, k)));
}

/** What an attack needs to know of the relay; plain data, so an attack can run in another process. */
export interface RelayRef {
  port: number;
  token: string;
  origin: string;
  lab: {
    info: LabInfo;
    serverCaPem: string;
    pki: { serverCertPem: string; serverKeyPem: string };
    tokens?: { issuer: string; authorizeOrigin: string };
  } | null;
}

export function relayRef(r: RunningRelay): RelayRef {
  const lab = r.lab;
  return {
    port: r.port,
    token: r.token,
    origin: r.origin,
    lab: lab && {
      info: lab.info,
      serverCaPem: lab.serverCaPem,
      pki: { serverCertPem: lab.pki.serverCertPem, serverKeyPem: lab.pki.serverKeyPem },
      ...(lab.tokens ? { tokens: { issuer: lab.tokens.issuer, authorizeOrigin: lab.tokens.authorizeOrigin } } : {}),
    },
  };
}

/** A running attack: `stop()` ends it and closes its clients; `stats` says what the relay answered. */
export interface Attack {
  name: string;
  stats: Record<string, number>;
  stop(): Promise<void>;
}

/** Counts replies by type/code, e.g. { 'run.started': 32, 'error:busy_session': 30 }. */
function tally(stats: Record<string, number>, reply: { type: string; code?: string }): void {
  const key = reply.type === 'error' ? `error:${reply.code}` : reply.type;
  stats[key] = (stats[key] ?? 0) + 1;
}

/** An authorization-code flow against the lab that waits for a redirect no one will send. */
export function waitingFlow(relay: RelayRef, callbackTimeoutMs = 300_000): Record<string, unknown> {
  const issuer = relay.lab!.tokens!.issuer;
  return {
    kind: 'authorization-code',
    authorizationUrl: `${relay.lab!.tokens!.authorizeOrigin}/authorize`,
    tokenUrl: `${issuer}/token`,
    clientAuth: { method: 'client_secret_basic', clientId: 'lab-basic', clientSecret: 'lab-basic-secret' },
    callbackTimeoutMs,
  };
}

/** `sessions` sessions each start `flows` authorization-code flows and leave them waiting. */
export async function slotHogging(relay: RelayRef, opts: { sessions?: number; flows?: number } = {}): Promise<Attack> {
  const stats: Record<string, number> = {};
  const clients = await Promise.all(Array.from({ length: opts.sessions ?? 8 }, () => RelayClient.open(relay)));
  await Promise.all(clients.flatMap((c) => Array.from({ length: opts.flows ?? 8 }, async () => {
    const reply = await c.start('flow.start', { flow: waitingFlow(relay) });
    tally(stats, reply);
    // Held only once the flow waits for the browser.
    if (reply.type === 'run.started') await c.next((m) => m.type === 'step' && m.runId === reply.runId && m.step.id === 'callback');
  })));
  return { name: 'slot hogging (waiting authorization-code flows)', stats, stop: async () => { await Promise.all(clients.map((c) => c.close())); } };
}

/** An HTTPS target (the lab's server certificate) answering every request with `bodyBytes` of text. */
export async function bulkyTarget(relay: RelayRef, bodyBytes = 200 * 1024): Promise<{ url: string; caPem: string; close(): Promise<void> }> {
  const body = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(bodyBytes / 27)).slice(0, bodyBytes);
  const server = https.createServer({ cert: relay.lab!.pki.serverCertPem, key: relay.lab!.pki.serverKeyPem }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' }).end(body);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `https://localhost:${(server.address() as AddressInfo).port}/bulk`,
    caPem: relay.lab!.serverCaPem,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

/**
 * A browser tab that stopped reading while it keeps starting probes of a target with bulky
 * answers: every finished probe's events wait in the relay for a reader that never comes.
 */
export async function nonReader(relay: RelayRef, opts: { intervalMs?: number } = {}): Promise<Attack & { client: RelayClient; stopSending(): void }> {
  const stats: Record<string, number> = { 'probe.start sent': 0 };
  const target = await bulkyTarget(relay);
  const client = await RelayClient.open(relay);
  client.stopReading();
  const timer = setInterval(() => {
    if (client.ws.readyState !== client.ws.OPEN) return;
    for (let i = 0; i < 4; i++) client.send({ type: 'probe.start', id: `nr${stats['probe.start sent']!++}`, probe: { url: target.url, caPem: target.caPem } });
  }, opts.intervalMs ?? 25);
  return {
    name: 'non-reading client',
    client,
    stats,
    stopSending: () => clearInterval(timer),
    stop: async () => {
      clearInterval(timer);
      await client.close();
      await target.close();
    },
  };
}

/** A public JWK padded with members up to the frame limit (~`bytes` in all). */
export async function paddedJwk(bytes = 900 * 1024): Promise<Record<string, unknown>> {
  const pair = await generateKeyPair('P-256', true);
  const jwk: Record<string, unknown> = { ...(await publicJwkOf(pair.publicKey)) };
  for (let i = 0; i * 8000 < bytes; i++) jwk[`pad${i}`] = 'A'.repeat(8000);
  return jwk;
}

/** One session registers padded keys (16 different ones, in turn) with the lab as fast as it is answered. */
export async function registrationFlood(relay: RelayRef, opts: { count?: number; bytes?: number } = {}): Promise<Attack> {
  const stats: Record<string, number> = {};
  const client = await RelayClient.open(relay);
  client.keepSteps = false;
  // Built once: the flood costs the relay, not this process.
  let frames: string[] = await Promise.all(Array.from({ length: 16 }, async () => JSON.stringify({ type: 'lab.register', id: '@ID@', publicJwk: await paddedJwk(opts.bytes) })));
  let running = true;
  const loop = (async () => {
    for (let i = 0; running && i < (opts.count ?? 200); i++) {
      const id = `reg${i}`;
      client.send(frames[i % frames.length]!.replace('@ID@', id));
      const reply = await client.reply(id).catch(() => ({ type: 'timeout' }));
      tally(stats, reply as { type: string; code?: string });
    }
  })();
  return { name: 'lab registration flood', stats, stop: async () => { running = false; await loop; frames = []; await client.close(); } };
}

/** One session sends `count` lab.sign requests at once, again every time they are answered. */
export async function signFlood(relay: RelayRef, opts: { count?: number } = {}): Promise<Attack> {
  const stats: Record<string, number> = {};
  const client = await RelayClient.open(relay);
  client.keepSteps = false;
  const keys = await generateKeyPair('P-256', true);
  const csrPem = await createCsr(keys, 'CN=flood');
  let running = true;
  const loop = (async () => {
    while (running) {
      await Promise.all(Array.from({ length: opts.count ?? 1000 }, () => client.request({ type: 'lab.sign', csrPem }, 30_000).then((r) => tally(stats, r), () => tally(stats, { type: 'timeout' }))));
    }
  })();
  return { name: 'lab.sign flood', stats, stop: async () => { running = false; await loop; await client.close(); } };
}

/**
 * A session that keeps 8 probes at once running against a target built to make the relay work on
 * its answer: JSON nested 4,000 deep (pretty-printing once made a 272 MB frame of it) or 256 KiB
 * of `-eyJab` (redaction once backtracked on it for seconds).
 */
export async function hostileBodies(relay: RelayRef, route: 'deep-json' | 'backtrack'): Promise<Attack> {
  const stats: Record<string, number> = {};
  const target = await startHostileTarget({ cert: relay.lab!.pki.serverCertPem, key: relay.lab!.pki.serverKeyPem });
  const client = await RelayClient.open(relay);
  let running = true;
  const one = async () => {
    while (running) {
      const reply = await client.start('probe.start', { probe: { url: `${target.base}/${route}`, caPem: relay.lab!.serverCaPem } });
      tally(stats, reply);
      if (reply.type !== 'run.started') {
        await new Promise((ok) => setTimeout(ok, 20));
        continue;
      }
      await client.next((m) => m.type === 'run.finished' && m.runId === reply.runId);
    }
  };
  const loops = Promise.all(Array.from({ length: 8 }, one));
  return {
    name: `hostile bodies (${route})`,
    stats,
    stop: async () => {
      running = false;
      await loops;
      await client.close();
      await target.close();
    },
  };
}

/**
 * Every attack of the load test (server/load.test.ts), by name. Add one here: a function that
 * starts it against the relay and returns its stop(). `engaged`: a line the relay logs once its
 * protection has kicked in; the load test measures from then on (the steady state of the attack).
 */
export const ATTACKS: Record<string, { title: string; engaged?: RegExp; maxSlowdown?: number; start(relay: RelayRef): Promise<Attack> }> = {
  slotHogging: { title: 'slot hogging: 8 sessions × 8 waiting authorization-code flows', start: (r) => slotHogging(r, { sessions: 8, flows: 8 }) },
  nonReader: { title: 'a client that stops reading while its probes stream bulky answers', engaged: /session not reading/, start: (r) => nonReader(r) },
  registrationFlood: { title: 'lab.register flood with padded keys', start: (r) => registrationFlood(r, { count: 10_000 }) },
  signFlood: { title: 'lab.sign flood, 1,000 at once', start: (r) => signFlood(r, { count: 1_000 }) },
  deepJson: { title: '8 probes at once of a target answering JSON nested 4,000 deep', start: (r) => hostileBodies(r, 'deep-json') },
  backtracking: { title: '8 probes at once of a target answering 256 KiB of -eyJab', start: (r) => hostileBodies(r, 'backtrack') },
};
