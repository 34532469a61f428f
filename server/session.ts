// One WebSocket connection: parses every frame at the edge, answers bad ones with a
// structured error (the connection and everyone's runs carry on), starts and cancels runs,
// and streams their events back. One typed send() does all encoding.
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { parseClientMessage, ProtocolError, PROTOCOL_VERSION, CLOSE_CODES, CLOSE_REASONS, type ClientMessage, type RelayInfo, type RunEvent, type RunKind, type RunOutcome, type ServerMessage } from '../shared/protocol/index.ts';
import { diagnosis } from '../shared/diagnoses.ts';
import { redactDeep, redactUrl, secretValues } from '../shared/redact.ts';
import type { Limits } from './defaults.ts';
import { runProbe } from './probe/run-probe.ts';
import { runFlow, flowTarget, flowSecrets } from './flows/run.ts';
import { DEFAULT_CALLBACK_TIMEOUT_MS } from './flows/authorization-code.ts';
import type { CallbackRegistry } from './flows/callbacks.ts';
import type { IssuedTokenSet } from './flows/issued-tokens.ts';
import type { OutboundPolicy } from './net/outbound-guard.ts';
import { LabRegistrationRefused } from './lab/token-service.ts';
import { CsrError } from '../shared/pki/issue.ts';
import type { RunningLab } from './lab/lab.ts';
import { isRefusal, type RunRate, type RunSlot, type RunSlots, type ShareRefusal, type SlotHolder } from './shares.ts';
import type { Logger } from './log.ts';
import type { RelayMetrics } from './metrics.ts';
import { InboundListeners } from './inbound/listeners.ts';
import { KeptRefreshTokens, KEPT_REFRESH_TOKENS_PER_SESSION } from './flows/kept-refresh-tokens.ts';
import { IssuedTokens, ISSUED_TOKEN_RUNS_PER_SESSION, ISSUED_TOKENS_KEPT_MS } from './flows/issued-tokens.ts';
import { fetchJwks, JwksFetchFailed } from './jwks/fetch-jwks.ts';
import { answerCheckKit, streamCheck, type CheckDeps } from './check/session-check.ts';
import type { Owner } from './net/fair-share.ts';
import { ContextHold } from './net/tls-contexts.ts';
import { newRunId, runInEnvelope, type RunContext, type RunResult } from './run/envelope.ts';

/** How long a step event that ends right after the last write may wait for the next one (ms). */
const STEP_HOLD_MS = 16;

/**
 * A probe repeated with the same credentials reuses the TLS context of the session's last runs
 * (the key parsed once) if it starts within this long of the last; the session's end drops them.
 */
const RECENT_CONTEXT_IDLE_MS = 5_000;
const RECENT_CONTEXTS_PER_SESSION = 4;

/** What a run's executor gets from the session: the envelope's context, whose run it is, and its run slot's waiting. */
interface SessionRunContext extends RunContext {
  /** The session, for the fair share of the event loop (fair-share.ts). */
  owner: Owner;
  /** The run waits for a person (true) or works again (false): see shares.ts. */
  onWaiting(waiting: boolean): void;
}

type Executor = (ctx: SessionRunContext) => Promise<RunResult>;

export interface RelayState {
  limits: Limits;
  metrics: RelayMetrics;
  info: RelayInfo;
  lab: RunningLab | null;
  log: Logger;
  /** Run slots shared by all sessions (fair shares per session and client address). */
  slots: RunSlots;
  /** Runs started per client address a minute (hosted mode). */
  rate: RunRate;
  /** The relay's own origin, e.g. http://127.0.0.1:8080 (redirect URIs point here). */
  origin: string;
  callbacks: CallbackRegistry;
  /** Which targets runs may reach (hosted mode enforces the outbound guard). */
  policy: OutboundPolicy;
}

/** Size of a received frame as ws hands it over (a Buffer, or fragments of one). */
function frameBytes(data: unknown): number {
  if (Buffer.isBuffer(data)) return data.length;
  if (Array.isArray(data)) return data.reduce((n: number, b: Buffer) => n + b.length, 0);
  if (data instanceof ArrayBuffer) return data.byteLength;
  return 0;
}

export class Session {
  /** Names this session in the operator's log lines (hosted mode); random, says nothing. */
  readonly id = `s${randomBytes(4).toString('hex')}`;
  readonly #ws: WebSocket;
  readonly #state: RelayState;
  readonly #runs = new Map<string, AbortController>();
  readonly #inbound: InboundListeners;
  readonly #refreshTokens = new KeptRefreshTokens();
  /** Local mode: the tokens this session's flow runs were issued, for flow.reveal. */
  readonly #issued = new IssuedTokens();
  /** This session's share of the run slots; jwks.fetch calls count like runs do. */
  readonly #slots: SlotHolder;
  readonly #address: string;
  /** lab.sign / lab.register requests in flight (labRequestsPerConnection). */
  #labRequests = 0;
  /** The TLS contexts (with the keys) of this session's last probes, for a repeated probe. */
  readonly #recentContexts = new ContextHold(RECENT_CONTEXTS_PER_SESSION, { idleMs: RECENT_CONTEXT_IDLE_MS });
  /** The secret values of this session's last probe and what they were computed from (#probeSecrets). */
  #recentSecrets: { of: string; values: string[]; timer: NodeJS.Timeout } | undefined;
  /** When this session's recent server checks started (checksPerMinute). */
  #checkStarts: number[] = [];
  /** Authorization URLs of this session's waiting flows, by run id (run.settle). */
  readonly #authorizationUrls = new Map<string, string>();
  /** Whom the lab's registered clients belong to, and whose turn queued run work is (fair-share.ts): this session. */
  readonly #labOwner = randomBytes(12).toString('hex');
  /** Set while the browser is not reading (send buffer past sendBufferBytes). */
  #congestion: NodeJS.Timeout | null = null;
  #alive = true;
  /** The relay is shutting down: no new runs; the session closes once its runs have ended. */
  #draining = false;
  /** The shutdown grace period is over and this session's runs were cancelled (relay_shutdown). */
  #shutdownCancelled = false;
  /** The connection under the WebSocket, held corked while one turn of the event loop sends. */
  readonly #socket: Duplex | undefined;
  #corked = false;
  /** An uncork is due at the end of this piece of work. */
  #uncorkTick = false;
  /** Held step events leave when this fires, if nothing else sent them first. */
  #holdTimer: NodeJS.Timeout | undefined;
  /** performance.now() of the last write to the connection. */
  #wroteAt = -Infinity;

  /** `address`: the client's, as shares.ts addressKey() counts it. */
  constructor(ws: WebSocket, state: RelayState, socket?: Duplex, address = 'local') {
    this.#ws = ws;
    this.#state = state;
    this.#socket = socket;
    this.#slots = state.slots.holder(address);
    this.#address = address;
    this.#inbound = new InboundListeners({ hosted: state.info.mode === 'hosted', lab: state.lab, log: state.log, emit: (event) => {
      this.#meterInbound(event);
      this.send(redactDeep(event));
    } });
    ws.on('message', (data, isBinary) => this.#onFrame(data, isBinary));
    ws.on('pong', () => { this.#alive = true; });
    ws.on('close', () => this.#end());
    ws.on('error', () => this.#end());
    this.send({ type: 'welcome', version: PROTOCOL_VERSION, relay: state.info, time: Date.now() });
  }

  /** Start times of this session's inbound runs (one per client that reached a listener), for the metrics. */
  readonly #inboundStarts = new Map<string, number>();

  #meterInbound(event: RunEvent): void {
    const { metrics } = this.#state;
    if (event.type === 'run.started') {
      this.#inboundStarts.set(event.runId, performance.now());
      metrics.runStarted('inbound');
    } else if (event.type === 'step') {
      metrics.step(event.step);
    } else {
      const t0 = this.#inboundStarts.get(event.runId);
      if (t0 === undefined) return;
      this.#inboundStarts.delete(event.runId);
      metrics.runFinished('inbound', event.outcome, (performance.now() - t0) / 1000);
    }
  }

  /** Called by the heartbeat: false when the client missed a whole interval. */
  heartbeat(): boolean {
    if (!this.#alive) {
      this.#end();
      this.#ws.terminate();
      return false;
    }
    this.#alive = false;
    this.#ws.ping();
    return true;
  }

  send(msg: ServerMessage): void {
    if (this.#ws.readyState !== this.#ws.OPEN) return;
    // A browser that stopped reading loses the steps of its (cancelled) runs, not its replies.
    if (this.#congestion && msg.type === 'step') return;
    this.#coalesce(msg.type === 'step' || msg.type === 'run.started');
    this.#ws.send(JSON.stringify(msg));
    // A run's end leaves at once: nothing of that run follows it, and the cleanup after it
    // (slots, metrics, sockets closing) would otherwise run first.
    if (msg.type === 'run.finished') this.#uncork();
    if (!this.#congestion && this.#ws.bufferedAmount > this.#state.limits.sendBufferBytes) this.#congested();
  }

  /**
   * The browser is not reading what its runs produce: without a bound the relay would keep it
   * all in memory. Its runs are cancelled and new ones refused until the buffer drains to half
   * the limit; if it has not after sendBufferStallMs, the session is closed. Other sessions
   * are not touched.
   */
  #congested(): void {
    const { sendBufferBytes, sendBufferStallMs } = this.#state.limits;
    const since = performance.now();
    this.#state.log.info('session not reading: runs cancelled', { bufferedBytes: this.#ws.bufferedAmount, limitBytes: sendBufferBytes });
    this.#congestion = setInterval(() => {
      if (this.#ws.bufferedAmount <= sendBufferBytes / 2) {
        this.#clearCongestion();
      } else if (performance.now() - since >= sendBufferStallMs) {
        this.#state.log.info('session still not reading: closed', { bufferedBytes: this.#ws.bufferedAmount, stalledMs: Math.round(performance.now() - since) });
        this.#clearCongestion();
        this.#end();
        this.#ws.terminate();
      }
    }, Math.min(250, sendBufferStallMs));
    this.#congestion.unref();
    this.#cancelAll();
    this.send({ type: 'error', code: 'slow_reader', message: `this page stopped reading the relay's events while its runs produced them (over ${Math.round(sendBufferBytes / 1024 / 1024)} MiB waiting); its runs were cancelled` });
  }

  #clearCongestion(): void {
    if (this.#congestion) clearInterval(this.#congestion);
    this.#congestion = null;
  }

  /** True while the browser has not caught up with the events it was sent. */
  #notReading(): boolean {
    if (this.#congestion && this.#ws.bufferedAmount <= this.#state.limits.sendBufferBytes / 2) this.#clearCongestion();
    return this.#congestion !== null;
  }

  /** Refusal of new work while the browser is not reading. */
  #slowReader(id: string): ServerMessage {
    this.#state.metrics.refused('slow_reader');
    return { type: 'error', id, code: 'slow_reader', message: 'this page is not reading the relay\'s events; new runs wait until it catches up' };
  }

  /**
   * Events sent by one piece of work (a run's start and its first step; a step's end and the
   * next one's start) leave in one write: each write wakes the browser's side, and on a loaded
   * machine those wake-ups cost more than the frames. They leave before the relay turns to any
   * other I/O, so nothing waits behind another run's handshake.
   */
  #coalesce(holdable: boolean): void {
    const socket = this.#socket;
    if (!socket) return;
    if (!this.#corked) {
      this.#corked = true;
      socket.cork();
    }
    // A step (or a run's start) that comes soon after the last write waits (at most
    // STEP_HOLD_MS) for the next one: a quick probe repeated in a loop then leaves whole, start
    // to verdict, in one write instead of one write each, which on a loaded machine costs both
    // ends more than the frames. A run started after a quiet moment is announced at once.
    // Anything else (a reply, a run's end) leaves at the end of this piece of work, with what
    // waited.
    const sinceWrite = performance.now() - this.#wroteAt;
    if (holdable && sinceWrite < STEP_HOLD_MS) {
      this.#holdTimer ??= setTimeout(() => this.#uncork(), STEP_HOLD_MS - sinceWrite);
      return;
    }
    if (this.#uncorkTick) return;
    this.#uncorkTick = true;
    process.nextTick(() => this.#uncork());
  }

  #uncork(): void {
    this.#uncorkTick = false;
    if (this.#holdTimer) clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    if (!this.#corked) return;
    this.#corked = false;
    this.#wroteAt = performance.now();
    this.#socket?.uncork();
  }

  /** Event-loop time and bytes this session's frames owe (frameCpuPercent, frameBytesPerSecond), as of #debtAt. */
  #cpuDebtMs = 0;
  #byteDebt = 0;
  #debtAt = performance.now();
  #frameThrottle: NodeJS.Timeout | null = null;

  /** Frames that arrived after this session used its slice of the current turn (frameTurnMs). */
  readonly #inbox: [unknown, boolean][] = [];
  /** When this session's slice of the current turn of the event loop began; -1 between turns. */
  #turnStart = -1;

  /**
   * Frames are handled for at most frameTurnMs per turn of the event loop; the rest of what one
   * read delivered (a read holds up to 64 KiB of small frames) waits for the next turn, reading
   * paused, so every other session's I/O is read in between.
   */
  #onFrame(data: unknown, isBinary: boolean): void {
    if (this.#inbox.length || this.#turnUsed()) {
      this.#inbox.push([data, isBinary]);
      if (this.#inbox.length === 1) {
        this.#ws.pause();
        setImmediate(() => this.#drainInbox());
      }
      return;
    }
    this.#handleTimed(data, isBinary);
  }

  #turnUsed(): boolean {
    const now = performance.now();
    if (this.#turnStart < 0) {
      this.#turnStart = now;
      queueMicrotask(() => setImmediate(() => { this.#turnStart = -1; }));
      return false;
    }
    return now - this.#turnStart >= this.#state.limits.frameTurnMs;
  }

  #drainInbox(): void {
    this.#turnStart = performance.now();
    while (this.#inbox.length && performance.now() - this.#turnStart < this.#state.limits.frameTurnMs) {
      const [data, isBinary] = this.#inbox.shift()!;
      this.#handleTimed(data, isBinary);
    }
    this.#turnStart = -1;
    if (this.#inbox.length) setImmediate(() => this.#drainInbox());
    else if (!this.#frameThrottle) this.#ws.resume();
  }

  #handleTimed(data: unknown, isBinary: boolean): void {
    const t0 = performance.now();
    try {
      this.#handleFrame(data, isBinary);
    } finally {
      this.#chargeFrame(t0, frameBytes(data));
    }
  }

  /**
   * Charges a frame's synchronous cost and its size to this session. A session past its share
   * is not read from until its debt is paid back: its frames wait in the kernel (a flood slows
   * its sender), and everyone else's runs and pings go on.
   */
  #chargeFrame(t0: number, bytes: number): void {
    this.#charge(performance.now() - t0, bytes);
  }

  /** Adds `ms` of event-loop time and `bytes` of frames to this session's debt; pauses reading past its share. */
  #charge(ms: number, bytes: number): void {
    const now = performance.now();
    const { frameCpuPercent, frameCpuBurstMs, frameBytesPerSecond, maxFrameBytes } = this.#state.limits;
    const share = frameCpuPercent / 100;
    const bytesPerMs = frameBytesPerSecond / 1000;
    const byteBurst = 2 * maxFrameBytes;
    // Paid back at `share` of all the time since the last charge, handling included: a session
    // that keeps the loop busy gets `share` of it.
    const elapsed = now - this.#debtAt;
    this.#cpuDebtMs = Math.max(0, this.#cpuDebtMs - elapsed * share) + ms;
    this.#byteDebt = Math.max(0, this.#byteDebt - elapsed * bytesPerMs) + bytes;
    this.#debtAt = now;
    if (this.#frameThrottle) return;
    const waitMs = Math.max(this.#cpuDebtMs > frameCpuBurstMs ? this.#cpuDebtMs / share : 0, this.#byteDebt > byteBurst ? (this.#byteDebt - byteBurst / 2) / bytesPerMs : 0);
    if (waitMs <= 0) return;
    this.#ws.pause();
    this.#frameThrottle = setTimeout(() => {
      this.#frameThrottle = null;
      if (!this.#inbox.length) this.#ws.resume();
    }, waitMs);
  }

  #handleFrame(data: unknown, isBinary: boolean): void {
    if (isBinary) {
      this.send({ type: 'error', code: 'bad_message', message: 'binary frames are not part of the protocol; send JSON text' });
      return;
    }
    let msg: ClientMessage;
    try {
      msg = parseClientMessage(String(data));
    } catch (err) {
      if (err instanceof ProtocolError) {
        this.send({ type: 'error', ...(err.id ? { id: err.id } : {}), code: err.code, message: err.message });
      } else {
        this.send({ type: 'error', code: 'internal', message: 'the frame could not be processed' });
      }
      return;
    }
    this.#dispatch(msg).catch((err: unknown) => {
      this.#state.log.error('message handler failed', { type: msg.type, error: String(err) });
      this.send({ type: 'error', id: msg.id, code: 'internal', message: 'the relay failed to handle this request' });
    });
  }

  async #dispatch(msg: ClientMessage): Promise<void> {
    switch (msg.type) {
      case 'ping':
        return this.send({ type: 'pong', id: msg.id });
      case 'run.cancel': {
        const run = this.#runs.get(msg.runId);
        if (!run) return this.send({ type: 'error', id: msg.id, code: 'unknown_run', message: `no run ${msg.runId} in progress on this connection` });
        run.abort();
        return;
      }
      case 'lab.sign':
        return this.#labSign(msg);
      case 'lab.register':
        return this.#labRegister(msg);
      case 'probe.start':
        return this.#startProbe(msg);
      case 'inbound.start':
        return this.send(await this.#inbound.start(msg));
      case 'inbound.stop':
        return this.send(await this.#inbound.stop(msg));
      case 'run.settle': {
        const url = this.#authorizationUrls.get(msg.runId);
        if (url) this.#state.callbacks.settle(url);
        return;
      }
      case 'check.kit':
        return this.send(await answerCheckKit(msg, this.#checkDeps()));
      case 'check.start':
        return this.#startCheck(msg);
      case 'jwks.fetch':
        return this.#fetchJwks(msg);
      case 'flow.start':
        return this.#startFlow(msg);
      case 'flow.reveal':
        return this.send(this.#reveal(msg));
    }
  }

  #labSign(msg: Extract<ClientMessage, { type: 'lab.sign' }>): Promise<void> | void {
    const lab = this.#state.lab;
    if (!lab) return this.send({ type: 'error', id: msg.id, code: 'lab_unavailable', message: 'the built-in lab is not running (relay started with --no-lab)' });
    return this.#labRequest(msg.id, async () => {
      try {
        const signed = await lab.signCsr(msg.csrPem, msg.profile);
        return this.send({ type: 'lab.signed', id: msg.id, ...signed });
      } catch (err) {
        const message = err instanceof CsrError ? err.message : 'the CSR could not be signed: it is not a valid PKCS#10 request';
        return this.send({ type: 'error', id: msg.id, code: 'csr_invalid', message });
      }
    });
  }

  #labRegister(msg: Extract<ClientMessage, { type: 'lab.register' }>): Promise<void> | void {
    const tokens = this.#state.lab?.tokens;
    if (!tokens) return this.send({ type: 'error', id: msg.id, code: 'lab_unavailable', message: 'the built-in lab is not running (relay started with --no-lab)' });
    const { limits } = this.#state;
    return this.#labRequest(msg.id, async () => {
      try {
        const registered = await tokens.register({ publicJwk: msg.publicJwk, ...(msg.method ? { method: msg.method } : {}) }, {
          owner: this.#labOwner,
          maxPerOwner: limits.labRegistrationsPerConnection,
          maxTotal: limits.labRegistrationsTotal,
          ttlMs: limits.labRegistrationTtlMs,
        });
        // Registered after the session closed (the reply would reach no one): forget it now.
        if (this.#ws.readyState !== this.#ws.OPEN) tokens.forget(this.#labOwner);
        return this.send({ type: 'lab.registered', id: msg.id, ...registered });
      } catch (err) {
        if (err instanceof LabRegistrationRefused) return this.send({ type: 'error', id: msg.id, code: err.code, message: err.message });
        throw err;
      }
    });
  }

  /**
   * The values a probe's request carries, in every encoding (a few hundred microseconds for a
   * PEM key): a probe repeated within RECENT_CONTEXT_IDLE_MS with the same inputs reuses them, as
   * it reuses the TLS context those inputs built.
   */
  #probeSecrets(headers: Record<string, string> | undefined, body: string | undefined, url: string, secretNames: string[] | undefined, privateKeyPem: string | undefined): string[] {
    const of = JSON.stringify([headers ?? null, body ?? null, url, secretNames ?? null, privateKeyPem ?? null]);
    const values = this.#recentSecrets?.of === of ? this.#recentSecrets.values : secretValues({ headers, body, url, ...(secretNames ? { names: secretNames } : {}), privateKeyPems: privateKeyPem ? [privateKeyPem] : [] });
    // Forgotten RECENT_CONTEXT_IDLE_MS after the last probe that used them, like the contexts.
    clearTimeout(this.#recentSecrets?.timer);
    const timer = setTimeout(() => { this.#recentSecrets = undefined; }, RECENT_CONTEXT_IDLE_MS);
    timer.unref();
    this.#recentSecrets = { of, values, timer };
    return values;
  }

  #startProbe(msg: Extract<ClientMessage, { type: 'probe.start' }>): Promise<void> {
    const lab = this.#state.lab?.trust;
    const { headers, body, client, url, secretNames } = msg.probe;
    const names = secretNames ? { names: secretNames } : {};
    const pems = client?.privateKeyPem ? [client.privateKeyPem] : [];
    // Until the run first waits its turn (it has read neither key nor certificate by then), its
    // events are scrubbed of the key's lines as they are; their encodings follow (#probeSecrets).
    const early = [...secretValues({ headers, body, url, ...names }), ...secretValues({ privateKeyPems: pems, encodings: false })].sort((a, b) => b.length - a.length);
    return this.#startRun(msg.id, 'probe', msg.probe.url, early, (ctx) => runProbe(msg.probe, { limits: this.#state.limits, ...(lab ? { lab } : {}), policy: this.#state.policy, tlsContextHold: this.#recentContexts, ...ctx }), {
      secretsOnceWaiting: () => this.#probeSecrets(headers, body, url, secretNames, client?.privateKeyPem),
    });
  }

  /** A JWKS fetch holds a run slot while it runs, like a run, but answers with one reply. */
  async #fetchJwks(msg: Extract<ClientMessage, { type: 'jwks.fetch' }>): Promise<void> {
    if (this.#notReading()) return this.send(this.#slowReader(msg.id));
    const slot = this.#acquire();
    if (isRefusal(slot)) return this.send(this.#refusal(msg.id, slot));
    const lab = this.#state.lab?.trust;
    const { metrics } = this.#state;
    const t0 = performance.now();
    let outcome: RunOutcome = 'error';
    metrics.runStarted('jwks');
    try {
      const fetched = await fetchJwks(msg.url, msg.caPem, { limits: this.#state.limits, policy: this.#state.policy, ...(lab ? { lab } : {}), signal: AbortSignal.timeout(this.#state.limits.runTimeoutMs) });
      outcome = 'pass';
      return this.send({ type: 'jwks.fetched', id: msg.id, ...fetched });
    } catch (err) {
      if (err instanceof JwksFetchFailed) {
        outcome = 'fail';
        return this.send({ type: 'error', id: msg.id, code: err.code, message: err.message });
      }
      throw err;
    } finally {
      metrics.runFinished('jwks', outcome, (performance.now() - t0) / 1000);
      slot.release();
    }
  }

  #startFlow(msg: Extract<ClientMessage, { type: 'flow.start' }>): Promise<void> | void {
    const { origin, callbacks, lab } = this.#state;
    const target = flowTarget(msg.flow);
    // Time a person spends logging in at the authorization server is not the relay's to cap
    // (FLOW_LIMITS.callbackTimeoutMs bounds it); the flow waits on a waiting slot meanwhile.
    const waits = msg.flow.kind === 'authorization-code';
    const personMs = msg.flow.kind === 'authorization-code' ? (msg.flow.callbackTimeoutMs ?? DEFAULT_CALLBACK_TIMEOUT_MS) : 0;
    const limits = { ...this.#state.limits, runTimeoutMs: this.#state.limits.runTimeoutMs + personMs };
    // A refresh-token run that names an earlier authorization-code run exchanges the token
    // that run ended with (kept here, never sent to the page), and keeps a rotated one.
    let flow = msg.flow;
    let keep: ((runId: string, token: string) => void) | undefined;
    if (flow.kind === 'authorization-code') keep = (runId, token) => this.#refreshTokens.keep(runId, token);
    if (flow.kind === 'refresh-token' && flow.refreshTokenFromRun) {
      const from = flow.refreshTokenFromRun;
      const token = this.#refreshTokens.get(from);
      if (!token) return this.send({ type: 'error', id: msg.id, code: 'unknown_run', message: `no refresh token is kept from run ${from}: it was not an authorization-code run of this connection that ended with a refresh token (the relay keeps the last ${KEPT_REFRESH_TOKENS_PER_SESSION}); run the authorization code flow again, or paste a refresh token` });
      const { refreshTokenFromRun: _from, ...rest } = flow;
      flow = { ...rest, refreshToken: token };
      keep = (_runId, rotated) => this.#refreshTokens.keep(from, rotated);
    }
    const run = flow;
    // Only a local relay keeps issued tokens for the person to reveal; a hosted one never holds them past the run.
    const local = this.#state.info.mode === 'local';
    return this.#startRun(msg.id, 'flow', target, secretValues({ extra: flowSecrets(run) }), ({ runId, ...ctx }) => runFlow(run, {
      limits, relayOrigin: origin, callbacks, lab, policy: this.#state.policy,
      ...(keep ? { keepRefreshToken: (token: string) => keep(runId, token) } : {}),
      ...(local ? { onIssuedTokens: (tokens: IssuedTokenSet) => this.#issued.keep(runId, tokens) } : {}),
      ...ctx,
    }), { runTimeoutMs: limits.runTimeoutMs, waits });
  }

  /**
   * One issued token, unmasked, on the person's explicit request: local mode only, a finished
   * flow run of this session, within ISSUED_TOKENS_KEPT_MS. The answer is a reply, not a run
   * event, so nothing that records runs sees it; nothing here logs it.
   */
  #reveal(msg: Extract<ClientMessage, { type: 'flow.reveal' }>): ServerMessage {
    const { id, runId, which } = msg;
    if (this.#state.info.mode !== 'local') return { type: 'error', id, code: 'reveal_refused', message: 'this relay is hosted: issued tokens stay masked here (run the harness locally to reveal and copy them)' };
    if (this.#runs.has(runId)) return { type: 'error', id, code: 'token_not_kept', message: `run ${runId} is still in progress: its tokens can be revealed once it has finished` };
    const kept = this.#issued.get(runId, which);
    if ('token' in kept) return { type: 'flow.token', id, runId, which, token: kept.token };
    const name = { access: 'an access token', refresh: 'a refresh token', id: 'an ID token' }[which];
    return {
      type: 'error', id, code: 'token_not_kept',
      message: kept.missing === 'not_issued'
        ? `run ${runId} was not issued ${name}`
        : `no tokens are kept from run ${runId}: it is not a flow run of this connection that was issued tokens, or it is past the last ${ISSUED_TOKEN_RUNS_PER_SESSION} runs or ${ISSUED_TOKENS_KEPT_MS / 60_000} minutes the relay keeps them; run the flow again`,
    };
  }

  /**
   * Common life of every run: limits, id, started/finished events, cancellation, cleanup.
   * `secrets` are the values the request carries (credentials, key lines): they are scrubbed
   * from every event of the run, whatever echoes them.
   */
  async #startRun(requestId: string, kind: RunKind, target: string, secrets: string[], execute: Executor, opts: { runTimeoutMs?: number; waits?: boolean; secretsOnceWaiting?: () => readonly string[] } = {}): Promise<void> {
    if (this.#draining) return this.send(this.#shuttingDown(requestId));
    if (this.#notReading()) return this.send(this.#slowReader(requestId));
    const slot: RunSlot | ShareRefusal = this.#acquire({ waits: opts.waits === true });
    if (isRefusal(slot)) return this.send(this.#refusal(requestId, slot));
    const runId = newRunId();
    const controller = new AbortController();
    const runTimer = setTimeout(() => controller.abort(), opts.runTimeoutMs ?? this.#state.limits.runTimeoutMs);
    this.#runs.set(runId, controller);
    const t0 = performance.now();
    const { metrics } = this.#state;
    metrics.runStarted(kind);
    let outcome: RunOutcome = 'error';
    try {
      const result = await runInEnvelope({
        requestId, runId, kind, target: redactUrl(target), secrets,
        ...(opts.secretsOnceWaiting ? { secretsOnceWaiting: opts.secretsOnceWaiting } : {}),
        send: (event) => this.send(event),
        signal: controller.signal,
        observeStep: (step) => {
          // The authorization URL this run sent the browser to: run.settle ends its wait early.
          if (step.phase === 'authorize' && step.details) this.#authorizationUrls.set(runId, step.details.authorizationUrl);
          metrics.step(step);
        },
        // A bug in one run must not take the relay or anyone else's runs down.
        onFault: (message) => this.#state.log.error('run failed', { runId, kind, error: message }),
        interrupted: (elapsedMs) => (this.#shutdownCancelled ? this.#finishedByShutdown(runId, elapsedMs) : undefined),
      }, (ctx) => execute({ ...ctx, owner: this.#labOwner, onWaiting: (waiting) => (waiting ? slot.wait() : slot.resume()) }));
      outcome = result.outcome;
    } finally {
      clearTimeout(runTimer);
      metrics.runFinished(kind, outcome, (performance.now() - t0) / 1000);
      if (this.#state.info.mode === 'hosted') this.#state.log.info('run finished', { session: this.id, runId, kind, outcome, durationMs: Math.round(performance.now() - t0) });
      this.#runs.delete(runId);
      this.#authorizationUrls.delete(runId);
      slot.release();
      this.#closeIfDrained();
    }
  }

  /** A run cancelled because the relay shut down: a verdict the person can read, then its end. */
  #finishedByShutdown(runId: string, elapsedMs: number): RunEvent[] {
    const durationMs = Math.round(elapsedMs);
    const d = diagnosis('relay_shutdown', [`still running ${this.#state.limits.shutdownGraceMs} ms after the relay was told to stop (shutdownGraceMs)`]);
    return [
      { type: 'step', runId, step: { id: 'relay-shutdown', phase: 'verdict', status: 'fail', title: 'Relay shut down', summary: d.summary, startMs: durationMs, durationMs: 0, diagnosis: d } },
      { type: 'run.finished', runId, outcome: 'error', diagnoses: ['relay_shutdown'], durationMs },
    ];
  }

  #shuttingDown(id: string): ServerMessage {
    this.#state.metrics.refused('shutting_down');
    return { type: 'error', id, code: 'shutting_down', message: 'the relay is shutting down and starts no new runs; this page reconnects by itself once it is back' };
  }

  #checkDeps(): CheckDeps {
    const lab = this.#state.lab?.trust;
    return { limits: this.#state.limits, policy: this.#state.policy, ...(lab ? { lab } : {}), runningLab: this.#state.lab };
  }

  /**
   * A server check holds one run slot (its cases run a few at a time within it) and can be
   * cancelled like a run; a session starts at most checksPerMinute of them.
   */
  async #startCheck(msg: Extract<ClientMessage, { type: 'check.start' }>): Promise<void> {
    if (this.#draining) return this.send(this.#shuttingDown(msg.id));
    if (this.#notReading()) return this.send(this.#slowReader(msg.id));
    const now = performance.now();
    this.#checkStarts = this.#checkStarts.filter((t) => now - t < 60_000);
    const perMinute = this.#state.limits.checksPerMinute;
    if (this.#checkStarts.length >= perMinute) {
      return this.send({ type: 'error', id: msg.id, code: 'busy_session', message: `at most ${perMinute} server checks a minute per session; try again in ${Math.ceil((60_000 - (now - this.#checkStarts[0]!)) / 1000)} s` });
    }
    const slot = this.#acquire();
    if (isRefusal(slot)) return this.send(this.#refusal(msg.id, slot));
    this.#checkStarts.push(now);
    const checkId = `c${randomBytes(6).toString('hex')}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#state.limits.runTimeoutMs);
    this.#runs.set(checkId, controller);
    const { metrics } = this.#state;
    const t0 = performance.now();
    // A check passes with grade A (what `harness check` requires by default), fails with a lower one.
    let outcome: RunOutcome = 'error';
    metrics.runStarted('check');
    try {
      await streamCheck(msg, checkId, { ...this.#checkDeps(), owner: this.#labOwner, signal: controller.signal, send: (m) => {
        if (m.type === 'check.step') metrics.step(m.step);
        if (m.type === 'check.finished') outcome = m.report.grade === 'A' ? 'pass' : m.report.grade ? 'fail' : 'error';
        this.send(m);
      } });
    } finally {
      metrics.runFinished('check', outcome, (performance.now() - t0) / 1000);
      clearTimeout(timer);
      this.#runs.delete(checkId);
      slot.release();
      this.#closeIfDrained();
    }
  }

  /** A run slot if this session, its address and the relay have room, and the address's rate allows a start. */
  #acquire(opts: { waits?: boolean } = {}): RunSlot | ShareRefusal {
    const slot = this.#state.slots.acquire(this.#slots, opts);
    if (isRefusal(slot)) return slot;
    const rate = this.#state.rate.admit(this.#address);
    if (rate === true) return slot;
    slot.release();
    return rate;
  }

  #refusal(id: string, refusal: ShareRefusal): ServerMessage {
    this.#state.metrics.refused(refusal.code);
    return { type: 'error', id, code: refusal.code, message: refusal.message };
  }

  /** At most labRequestsPerConnection lab requests in flight: a flood is refused, not queued. */
  async #labRequest(id: string, work: () => Promise<void>): Promise<void> {
    const max = this.#state.limits.labRequestsPerConnection;
    if (this.#labRequests >= max) return this.send({ type: 'error', id, code: 'busy_session', message: `at most ${max} lab requests (lab.sign, lab.register) at once per session; wait for the answers` });
    this.#labRequests++;
    const t0 = performance.now();
    try {
      await work();
    } finally {
      this.#labRequests--;
      // Signing runs on the event loop (about 5 ms a certificate) in pieces no frame handler
      // sees: the request's whole time is charged to the session's share (an overestimate
      // when several overlap, which only a flood does).
      this.#charge(performance.now() - t0, 0);
    }
  }

  #cancelAll(): void {
    for (const run of this.#runs.values()) run.abort();
    this.#inbound.closeAll();
    this.#refreshTokens.clear();
  }

  /** The connection is gone: stop its work and forget what it registered with the lab. */
  #end(): void {
    this.#clearCongestion();
    if (this.#holdTimer) clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    if (this.#frameThrottle) clearTimeout(this.#frameThrottle);
    this.#inbox.length = 0;
    this.#cancelAll();
    this.#issued.clear();
    this.#recentContexts.release();
    clearTimeout(this.#recentSecrets?.timer);
    this.#recentSecrets = undefined;
    this.#state.lab?.tokens?.forget(this.#labOwner);
    // Inbound runs cut short by the session's end still leave the in-flight gauge.
    for (const t0 of this.#inboundStarts.values()) this.#state.metrics.runFinished('inbound', 'error', (performance.now() - t0) / 1000);
    this.#inboundStarts.clear();
  }

  /** Runs and server checks in flight. */
  get runsInFlight(): number {
    return this.#runs.size;
  }

  /**
   * The relay is shutting down: new runs are refused, and the session closes with "going away"
   * as soon as it has no run in flight (at once if it has none), so its runs' results still
   * reach the browser.
   */
  drain(): void {
    this.#draining = true;
    this.#closeIfDrained();
  }

  /** The grace period is over: what still runs is cancelled and ends with relay_shutdown. */
  cancelForShutdown(): void {
    this.#draining = true;
    this.#shutdownCancelled = true;
    this.#cancelAll();
    this.#closeIfDrained();
  }

  #closeIfDrained(): void {
    if (this.#draining && this.#runs.size === 0) this.close();
  }

  close(): void {
    this.#end();
    this.#ws.close(CLOSE_CODES.goingAway, CLOSE_REASONS.shuttingDown);
  }

  /** Cuts the connection without a closing handshake (a peer that did not answer the close). */
  terminate(): void {
    this.#end();
    this.#ws.terminate();
  }
}
