// A real WebSocket client of a running relay, for tests: sends requests, waits for replies and
// run events, and can stop reading (its socket paused) like a frozen browser tab.
import WebSocket from 'ws';
import type { Socket } from 'node:net';
import type { RunningRelay } from '../relay.ts';
import type { ServerMessage } from '../../shared/protocol/index.ts';

export type Msg<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

let seq = 0;

export class RelayClient {
  readonly ws: WebSocket;
  readonly messages: ServerMessage[] = [];
  /** Keep every message (default) or only the replies to requests and run ends (long floods). */
  keepSteps = true;
  #waiters: { pred: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
  readonly #replies = new Map<string, (m: ServerMessage) => void>();
  readonly closed: Promise<{ code: number; reason: string }>;

  /** `headers`: more request headers for the upgrade, e.g. what a proxy in front would add. */
  constructor(relay: Pick<RunningRelay, 'port' | 'token' | 'origin'>, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(`ws://127.0.0.1:${relay.port}/ws?token=${relay.token}`, { origin: relay.origin, headers });
    this.ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as ServerMessage;
      // A reply awaited by id goes straight to its waiter (floods await thousands at once).
      const id = 'id' in msg && msg.type !== 'run.started' ? msg.id : undefined;
      const replyWaiter = id === undefined ? undefined : this.#replies.get(id);
      if (replyWaiter) {
        this.#replies.delete(id!);
        return replyWaiter(msg);
      }
      if (this.keepSteps || msg.type !== 'step') this.messages.push(msg);
      if (this.#waiters.length) this.#waiters = this.#waiters.filter((w) => (w.pred(msg) ? (w.resolve(msg), false) : true));
    });
    this.ws.on('error', () => {});
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  }

  static async open(relay: Pick<RunningRelay, 'port' | 'token' | 'origin'>): Promise<RelayClient> {
    const c = new RelayClient(relay);
    await c.next((m) => m.type === 'welcome');
    return c;
  }

  send(v: unknown): void {
    this.ws.send(typeof v === 'string' ? v : JSON.stringify(v));
  }

  next<T extends ServerMessage>(pred: (m: ServerMessage) => boolean, timeoutMs = 10_000): Promise<T> {
    const found = this.messages.find(pred);
    if (found) return Promise.resolve(found as T);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a message')), timeoutMs);
      this.#waiters.push({ pred, resolve: (m) => { clearTimeout(timer); resolve(m as T); } });
    });
  }

  /** Sends a request and resolves with its first reply (the answer or an error). */
  async request<T extends ServerMessage>(msg: Record<string, unknown>, timeoutMs = 10_000): Promise<T | Msg<'error'>> {
    const id = `q${++seq}`;
    this.send({ ...msg, id });
    return this.reply<T | Msg<'error'>>(id, timeoutMs);
  }

  /** The answer to request `id` (any reply but run.started, which next() sees). */
  reply<T extends ServerMessage>(id: string, timeoutMs = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.#replies.delete(id); reject(new Error(`timed out waiting for the answer to ${id}`)); }, timeoutMs);
      this.#replies.set(id, (m) => { clearTimeout(timer); resolve(m as T); });
    });
  }

  /** Starts a run; resolves with run.started or the refusal. */
  start(type: 'probe.start' | 'flow.start', body: Record<string, unknown>): Promise<Msg<'run.started'> | Msg<'error'>> {
    const id = `q${++seq}`;
    this.send({ type, ...body, id });
    return this.next((m) => (m.type === 'run.started' || m.type === 'error') && m.id === id);
  }

  /** A probe from start to finish; throws when it is refused. */
  async probe(probe: unknown, timeoutMs = 20_000): Promise<Msg<'run.finished'>> {
    const started = await this.start('probe.start', { probe });
    if (started.type === 'error') throw new Error(`probe refused: ${started.code} ${started.message}`);
    return this.next<Msg<'run.finished'>>((m) => m.type === 'run.finished' && m.runId === started.runId, timeoutMs);
  }

  /** Round trip of a ping, in ms. */
  async ping(timeoutMs = 10_000): Promise<number> {
    const t0 = performance.now();
    await this.request({ type: 'ping' }, timeoutMs);
    return performance.now() - t0;
  }

  /** Stops reading, like a frozen tab: the relay's writes pile up in its own buffers. */
  stopReading(): void {
    (this.ws as unknown as { _socket: Socket })._socket.pause();
  }

  resumeReading(): void {
    (this.ws as unknown as { _socket: Socket })._socket.resume();
  }

  close(): Promise<unknown> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    this.ws.terminate();
    return this.closed;
  }
}

/** A raw upgrade, to read the close code and reason of a refused session. */
export async function openOrRefused(relay: Pick<RunningRelay, 'port' | 'token' | 'origin'>, headers: Record<string, string> = {}): Promise<{ client: RelayClient; welcomed: boolean; close?: { code: number; reason: string } }> {
  const client = new RelayClient(relay, headers);
  const outcome = await Promise.race([client.next((m) => m.type === 'welcome').then(() => 'welcomed' as const), client.closed]);
  return outcome === 'welcomed' ? { client, welcomed: true } : { client, welcomed: false, close: outcome };
}

/** Opens a session, runs one probe to its end and closes: the diagnoses it finished with. */
export async function probeDiagnoses(relay: Pick<RunningRelay, 'port' | 'token' | 'origin'>, probe: Record<string, unknown>): Promise<string[]> {
  const client = await RelayClient.open(relay);
  try {
    return (await client.probe(probe)).diagnoses;
  } finally {
    await client.close();
  }
}
