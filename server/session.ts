// One WebSocket connection: parses every frame at the edge, answers bad ones with a
// structured error (the connection and everyone's runs carry on), starts and cancels runs,
// and streams their events back. One typed send() does all encoding.
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { parseClientMessage, ProtocolError, PROTOCOL_VERSION, CLOSE_CODES, type ClientMessage, type RelayInfo, type RunKind, type RunOutcome, type ServerMessage, type Step } from '../shared/protocol.ts';
import { redactDeep, redactUrl, scrubDeep, secretValues } from '../shared/redact.ts';
import type { Limits } from './defaults.ts';
import { runProbe } from './probe/run-probe.ts';
import { runFlow, flowTarget, flowSecrets } from './flows/run-flow.ts';
import { DEFAULT_CALLBACK_TIMEOUT_MS } from './flows/authorization-code.ts';
import type { CallbackRegistry } from './flows/callbacks.ts';
import type { OutboundPolicy } from './net/outbound-guard.ts';
import type { LabTrust } from './net/dial.ts';
import type { RunningLab } from './lab/lab.ts';
import type { Logger } from './log.ts';
import { InboundListeners } from './inbound/listeners.ts';
import { fetchJwks, JwksFetchFailed } from './jwks/fetch-jwks.ts';

/** What a run's executor gets: where to send steps and when to stop. */
export interface RunContext {
  signal: AbortSignal;
  onStep(step: Step): void;
}

type Executor = (ctx: RunContext) => Promise<{ outcome: RunOutcome; diagnoses: string[]; durationMs: number }>;

export interface RelayState {
  limits: Limits;
  info: RelayInfo;
  lab: RunningLab | null;
  log: Logger;
  /** Runs in flight across all sessions. */
  activeRuns: number;
  /** The relay's own origin, e.g. http://127.0.0.1:8080 (redirect URIs point here). */
  origin: string;
  callbacks: CallbackRegistry;
  /** Which targets runs may reach (hosted mode enforces the outbound guard). */
  policy: OutboundPolicy;
}

export class Session {
  readonly #ws: WebSocket;
  readonly #state: RelayState;
  readonly #runs = new Map<string, AbortController>();
  readonly #inbound: InboundListeners;
  /** jwks.fetch calls in flight; they count against runsPerConnection like runs do. */
  #fetches = 0;
  #alive = true;
  /** The connection under the WebSocket, held corked while one turn of the event loop sends. */
  readonly #socket: Duplex | undefined;
  #corked = false;

  constructor(ws: WebSocket, state: RelayState, socket?: Duplex) {
    this.#ws = ws;
    this.#state = state;
    this.#socket = socket;
    this.#inbound = new InboundListeners({ hosted: state.info.mode === 'hosted', lab: state.lab, log: state.log, emit: (event) => this.send(redactDeep(event)) });
    ws.on('message', (data, isBinary) => this.#onFrame(data, isBinary));
    ws.on('pong', () => { this.#alive = true; });
    ws.on('close', () => this.#cancelAll());
    ws.on('error', () => this.#cancelAll());
    this.send({ type: 'welcome', version: PROTOCOL_VERSION, relay: state.info, time: Date.now() });
  }

  /** Called by the heartbeat: false when the client missed a whole interval. */
  heartbeat(): boolean {
    if (!this.#alive) {
      this.#cancelAll();
      this.#ws.terminate();
      return false;
    }
    this.#alive = false;
    this.#ws.ping();
    return true;
  }

  send(msg: ServerMessage): void {
    if (this.#ws.readyState !== this.#ws.OPEN) return;
    this.#coalesce();
    this.#ws.send(JSON.stringify(msg));
  }

  /**
   * Events sent by one piece of work (a run's start and its first step; a step's end and the
   * next one's start) leave in one write: each write wakes the browser's side, and on a loaded
   * machine those wake-ups cost more than the frames. They leave before the relay turns to any
   * other I/O, so nothing waits behind another run's handshake.
   */
  #coalesce(): void {
    const socket = this.#socket;
    if (!socket || this.#corked) return;
    this.#corked = true;
    socket.cork();
    process.nextTick(() => {
      this.#corked = false;
      socket.uncork();
    });
  }

  #onFrame(data: unknown, isBinary: boolean): void {
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
      case 'lab.sign': {
        const lab = this.#state.lab;
        if (!lab) return this.send({ type: 'error', id: msg.id, code: 'lab_unavailable', message: 'the built-in lab is not running (relay started with --no-lab)' });
        try {
          const signed = await lab.signCsr(msg.csrPem);
          return this.send({ type: 'lab.signed', id: msg.id, ...signed });
        } catch (err) {
          const message = err instanceof Error && (err as { code?: string }).code === 'csr_invalid' ? err.message : 'the CSR could not be signed: it is not a valid PKCS#10 request';
          return this.send({ type: 'error', id: msg.id, code: 'csr_invalid', message });
        }
      }
      case 'lab.register': {
        const tokens = this.#state.lab?.tokens;
        if (!tokens) return this.send({ type: 'error', id: msg.id, code: 'lab_unavailable', message: 'the built-in lab is not running (relay started with --no-lab)' });
        const registered = await tokens.register({ publicJwk: msg.publicJwk, ...(msg.method ? { method: msg.method } : {}) });
        return this.send({ type: 'lab.registered', id: msg.id, ...registered });
      }
      case 'probe.start': {
        const lab = this.#labTrust();
        const { headers, body, client, url, secretNames } = msg.probe;
        const secrets = secretValues({ headers, body, url, ...(secretNames ? { names: secretNames } : {}), privateKeyPems: client ? [client.privateKeyPem] : [] });
        return this.#startRun(msg.id, 'probe', msg.probe.url, secrets, (ctx) => runProbe(msg.probe, { limits: this.#state.limits, ...(lab ? { lab } : {}), policy: this.#state.policy, ...ctx }));
      }
      case 'inbound.start':
        return this.send(await this.#inbound.start(msg));
      case 'inbound.stop':
        return this.send(await this.#inbound.stop(msg));
      case 'jwks.fetch': {
        if (this.#runs.size + this.#fetches >= this.#state.limits.runsPerConnection) {
          return this.send({ type: 'error', id: msg.id, code: 'too_many_runs', message: `at most ${this.#state.limits.runsPerConnection} runs and fetches at once per connection` });
        }
        this.#fetches++;
        const lab = this.#labTrust();
        try {
          const fetched = await fetchJwks(msg.url, msg.caPem, { limits: this.#state.limits, policy: this.#state.policy, ...(lab ? { lab } : {}), signal: AbortSignal.timeout(this.#state.limits.runTimeoutMs) });
          return this.send({ type: 'jwks.fetched', id: msg.id, ...fetched });
        } catch (err) {
          if (err instanceof JwksFetchFailed) return this.send({ type: 'error', id: msg.id, code: err.code, message: err.message });
          throw err;
        } finally {
          this.#fetches--;
        }
      }
      case 'flow.start': {
        const { origin, callbacks, lab } = this.#state;
        const target = flowTarget(msg.flow);
        // Time a person spends logging in at the authorization server is not the relay's to cap.
        const personMs = msg.flow.kind === 'authorization-code' ? (msg.flow.callbackTimeoutMs ?? DEFAULT_CALLBACK_TIMEOUT_MS) : 0;
        const limits = { ...this.#state.limits, runTimeoutMs: this.#state.limits.runTimeoutMs + personMs };
        return this.#startRun(msg.id, 'flow', target, secretValues({ extra: flowSecrets(msg.flow) }), (ctx) => runFlow(msg.flow, { limits, extraTrustedCaPem: this.#state.lab ? [this.#state.lab.serverCaPem] : [], relayOrigin: origin, callbacks, lab, policy: this.#state.policy, ...ctx }), limits.runTimeoutMs);
      }
    }
  }

  #labTrust(): LabTrust | undefined {
    const lab = this.#state.lab;
    return lab ? { serverCaPem: lab.serverCaPem, endpoints: lab.info.targets.map((t) => new URL(t.url).host) } : undefined;
  }

  /**
   * Common life of every run: limits, id, started/finished events, cancellation, cleanup.
   * `secrets` are the values the request carries (credentials, key lines): they are scrubbed
   * from every event of the run, whatever echoes them.
   */
  async #startRun(requestId: string, kind: RunKind, target: string, secrets: string[], execute: Executor, runTimeoutMs = this.#state.limits.runTimeoutMs): Promise<void> {
    const { limits } = this.#state;
    if (this.#runs.size >= limits.runsPerConnection) {
      return this.send({ type: 'error', id: requestId, code: 'too_many_runs', message: `at most ${limits.runsPerConnection} runs at once per connection` });
    }
    if (this.#state.activeRuns >= limits.runsTotal) {
      return this.send({ type: 'error', id: requestId, code: 'too_many_runs', message: 'the relay is busy; try again in a moment' });
    }
    const runId = `r${randomBytes(6).toString('hex')}`;
    const controller = new AbortController();
    const runTimer = setTimeout(() => controller.abort(), runTimeoutMs);
    this.#runs.set(runId, controller);
    this.#state.activeRuns++;
    this.send({ type: 'run.started', id: requestId, runId, kind, target: scrubDeep(redactUrl(target), secrets) });
    const t0 = performance.now();
    try {
      const result = await execute({ signal: controller.signal, onStep: (step) => this.send({ type: 'step', runId, step: scrubDeep(redactDeep(step), secrets) }) });
      this.send({ type: 'run.finished', runId, outcome: result.outcome, diagnoses: result.diagnoses, durationMs: result.durationMs });
    } catch (err) {
      // A bug in one run must not take the relay or anyone else's runs down.
      this.#state.log.error('run failed', { runId, kind, error: scrubDeep(err instanceof Error ? err.message : String(err), secrets) });
      this.send({ type: 'run.finished', runId, outcome: 'error', diagnoses: [], durationMs: Math.round(performance.now() - t0) });
    } finally {
      clearTimeout(runTimer);
      this.#runs.delete(runId);
      this.#state.activeRuns--;
    }
  }

  #cancelAll(): void {
    for (const run of this.#runs.values()) run.abort();
    this.#inbound.closeAll();
  }

  close(): void {
    this.#cancelAll();
    this.#ws.close(CLOSE_CODES.goingAway, 'relay shutting down');
  }
}
