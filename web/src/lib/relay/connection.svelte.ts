import {
  CLOSE_CODES,
  CLOSE_REASONS,
  PROTOCOL_VERSION,
  parseServerMessage,
  type ClientMessage,
  type LabSignProfile,
  type ProbeRequest,
  type RelayInfo,
  type RunEvent,
  type ServerMessage,
} from '../../../../shared/protocol/index.ts';
import type { RelayAddress } from './address.ts';
import { RelayError } from './errors.ts';
import { isReplyTo, type RelayRequest, type ReplyTo, type RequestType } from './replies.ts';

export type RelayStatus = 'connecting' | 'connected' | 'reconnecting' | 'refused';

/** Receives the events of one run, in order, and hears if the connection drops mid-run. */
export interface RunHandlers {
  onEvent(event: RunEvent): void;
  onLost(reason: string): void;
}

/** The events of one server check (docs/server-check.md), in order; hears if the connection drops. */
export interface CheckHandlers {
  onEvent(event: Extract<ServerMessage, { type: 'check.started' | 'check.step' | 'check.case' | 'check.finished' }>): void;
  onLost(reason: string): void;
}

interface Pending {
  resolve(message: ServerMessage): void;
  reject(error: RelayError): void;
  timer: ReturnType<typeof setTimeout>;
  run?: RunHandlers;
  check?: CheckHandlers;
}

const RELAY_LIMITS = {
  replyTimeoutMs: 20_000, // a reply (run.started, lab.signed) slower than this means the relay is stuck
  retryDelaysMs: [500, 1_000, 2_000, 4_000, 8_000, 10_000],
} as const;

/** What the header and banner say while a relay that announced its shutdown comes back. */
const RESTARTING = {
  short: 'relay restarting',
  reason: 'The relay is restarting, or was stopped by whoever runs it. This page reconnects by itself as soon as it is back; a run the relay could not finish in time ended with relay_shutdown.',
} as const;

/**
 * The one WebSocket to the relay: connection state for the header, requests matched to
 * replies by `id`, and run events routed to their run by `runId`.
 */
export class RelayConnection {
  status = $state<RelayStatus>('connecting');
  /** Why the relay is not connected, in a sentence; empty when connected. */
  reason = $state('');
  /** What the user can do about `reason`. */
  hint = $state('');
  /** A few words for the header, e.g. "no access token". */
  shortReason = $state('');
  info = $state<RelayInfo | null>(null);
  attempt = $state(0);
  /** Epoch ms of the next automatic reconnect, while reconnecting. */
  nextRetryAt = $state<number | null>(null);
  /** A relay error that answered no request of ours (shown once, dismissible). */
  notice = $state<string | null>(null);

  readonly address: RelayAddress;
  #socket: WebSocket | null = null;
  #welcomed = false;
  #pending = new Map<string, Pending>();
  #runs = new Map<string, RunHandlers>();
  #checks = new Map<string, CheckHandlers>();
  #adopters = new Set<(started: Extract<ServerMessage, { type: 'run.started' }>) => RunHandlers | null>();
  #seq = 0;
  #runObservers = new Set<(event: RunEvent) => void>();
  /** The relay's clock minus this browser's, in ms, as of the last welcome. */
  clockOffsetMs = 0;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** The relay announced its shutdown: failed attempts until it is back keep that explanation. */
  #restarting = false;

  constructor(address: RelayAddress) {
    this.address = address;
  }

  get connected(): boolean {
    return this.status === 'connected';
  }

  connect(): void {
    this.#clearRetry();
    this.#welcomed = false;
    if (this.status !== 'reconnecting') this.status = 'connecting';
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.address.wsUrl);
    } catch (err) {
      this.#refuse('bad relay address', 'The relay address is not a valid WebSocket URL.', String(err));
      return;
    }
    this.#socket = socket;
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') this.#receive(event.data);
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      void this.#closed(event.code, event.reason);
    };
  }

  /** Reconnect now instead of waiting for the next automatic attempt (or after a refusal). */
  retryNow(): void {
    if (this.#socket) return;
    this.attempt = 0;
    this.status = 'connecting';
    this.connect();
  }

  dispose(): void {
    this.#clearRetry();
    const socket = this.#socket;
    this.#socket = null;
    socket?.close(1000);
  }

  /** Asks the lab CA to sign `csrPem`; `profile` picks the issuer and validity (LAB_SIGN_PROFILES). */
  async signCsr(csrPem: string, profile?: LabSignProfile): Promise<{ certificatePem: string; chainPem: string }> {
    const reply = await this.request(profile ? { type: 'lab.sign', id: this.#nextId(), csrPem, profile } : { type: 'lab.sign', id: this.#nextId(), csrPem });
    return { certificatePem: reply.certificatePem, chainPem: reply.chainPem };
  }

  /** Starts a probe; resolves with the run id once the relay accepted it. Events go to `run`. */
  startProbe(probe: ProbeRequest, run: RunHandlers): Promise<string> {
    return this.startRun({ type: 'probe.start', id: this.#nextId(), probe }, run);
  }

  /**
   * Starts any run-starting request (flow.start, …); resolves with the run id once accepted.
   * Feature screens use this rather than a method each.
   */
  async startRun(message: RelayRequest<'flow.start' | 'probe.start'>, run: RunHandlers): Promise<string> {
    return (await this.#request(message, run)).runId;
  }

  /** Starts a server check; resolves with its id (cancel it with cancelRun) once accepted. Events go to `check`. */
  async startCheck(message: RelayRequest<'check.start'>, check: CheckHandlers): Promise<string> {
    return (await this.#request(message, undefined, check)).checkId;
  }

  /**
   * Any request the relay answers once (REPLIES): resolves with its reply, typed by the request's
   * type; rejects with a RelayError carrying the relay's `code` when it answers with an error.
   */
  request<T extends RequestType>(message: RelayRequest<T>): Promise<ReplyTo<T>> {
    return this.#request(message);
  }

  /** A fresh request id for `request()` / `startRun()`. */
  nextId(): string {
    return this.#nextId();
  }

  /**
   * Runs the relay starts on its own (e.g. one per client reaching an inbound listener) arrive
   * with a run.started whose `id` no request of ours carries; `handler` adopts them.
   * Returns an unsubscribe function.
   */
  onUnsolicitedRun(handler: (started: Extract<ServerMessage, { type: 'run.started' }>) => RunHandlers | null): () => void {
    this.#adopters.add(handler);
    return () => this.#adopters.delete(handler);
  }

  /** Every run event of this connection, whoever started the run (the run history records them). */
  observeRuns(observer: (event: RunEvent) => void): () => void {
    this.#runObservers.add(observer);
    return () => this.#runObservers.delete(observer);
  }

  cancelRun(runId: string): void {
    this.#send({ type: 'run.cancel', id: this.#nextId(), runId });
  }

  /** The sign-in window of a waiting flow is done without a usable redirect: the relay may end the wait. */
  settleRun(runId: string): void {
    this.#send({ type: 'run.settle', id: this.#nextId(), runId });
  }

  #nextId(): string {
    this.#seq += 1;
    return `b${this.#seq}`;
  }

  #send(message: ClientMessage): void {
    if (!this.#socket || !this.#welcomed) throw new RelayError('not_connected', 'The relay is not connected');
    this.#socket.send(JSON.stringify(message));
  }

  #request<T extends RequestType>(message: RelayRequest<T>, run?: RunHandlers, check?: CheckHandlers): Promise<ReplyTo<T>> {
    // `Extract` over a type parameter hides the members every request has.
    const { id, type } = message as ClientMessage & { type: T };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new RelayError('timeout', `The relay did not answer ${type} within ${RELAY_LIMITS.replyTimeoutMs / 1000} s`));
      }, RELAY_LIMITS.replyTimeoutMs);
      const answer = (reply: ServerMessage) => {
        if (isReplyTo(type, reply)) resolve(reply);
        else reject(new RelayError('internal', `the relay answered ${type} with ${reply.type}`));
      };
      const pending: Pending = { resolve: answer, reject, timer };
      if (run) pending.run = run;
      if (check) pending.check = check;
      this.#pending.set(id, pending);
      try {
        this.#send(message);
      } catch (err) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(err);
      }
    });
  }

  #settle(id: string): Pending | undefined {
    const pending = this.#pending.get(id);
    if (!pending) return undefined;
    clearTimeout(pending.timer);
    this.#pending.delete(id);
    return pending;
  }

  #receive(text: string): void {
    let message: ServerMessage;
    try {
      message = parseServerMessage(text);
    } catch {
      this.notice = 'The relay sent a frame this page could not read; it was ignored.';
      return;
    }
    if (message.type === 'run.started' || message.type === 'step' || message.type === 'run.finished') {
      for (const observe of this.#runObservers) observe(message);
    }
    switch (message.type) {
      case 'welcome':
        if (message.version !== PROTOCOL_VERSION) {
          this.#refuse(
            'protocol version mismatch',
            `The relay speaks protocol version ${String(message.version)}; this page speaks ${PROTOCOL_VERSION}.`,
            'Reload the page so the relay serves the matching app.',
          );
          this.#socket?.close(1000);
          return;
        }
        this.#welcomed = true;
        this.info = message.relay;
        if (typeof message.time === 'number') this.clockOffsetMs = message.time - Date.now();
        this.status = 'connected';
        this.reason = '';
        this.hint = '';
        this.shortReason = '';
        this.attempt = 0;
        this.#restarting = false;
        return;
      case 'run.started': {
        const pending = this.#settle(message.id);
        if (pending?.run) {
          this.#runs.set(message.runId, pending.run);
          pending.run.onEvent(message);
        }
        if (pending) {
          pending.resolve(message);
          return;
        }
        for (const adopt of this.#adopters) {
          const run = adopt(message);
          if (run) {
            this.#runs.set(message.runId, run);
            run.onEvent(message);
            return;
          }
        }
        return;
      }
      case 'step':
        this.#runs.get(message.runId)?.onEvent(message);
        return;
      case 'run.finished':
        this.#runs.get(message.runId)?.onEvent(message);
        this.#runs.delete(message.runId);
        return;
      case 'check.started': {
        const pending = this.#settle(message.id);
        if (pending?.check) {
          this.#checks.set(message.checkId, pending.check);
          pending.check.onEvent(message);
        }
        pending?.resolve(message);
        return;
      }
      case 'check.step':
      case 'check.case':
        this.#checks.get(message.checkId)?.onEvent(message);
        return;
      case 'check.finished':
        this.#checks.get(message.checkId)?.onEvent(message);
        this.#checks.delete(message.checkId);
        return;
      case 'error': {
        const pending = message.id === undefined ? undefined : this.#settle(message.id);
        if (pending) pending.reject(new RelayError(message.code, message.message));
        else this.notice = `${message.message} (${message.code})`;
        return;
      }
      default:
        // Every other reply (lab.signed, pong, and those of newer features) answers one request.
        if ('id' in message && typeof message.id === 'string') this.#settle(message.id)?.resolve(message);
        return;
    }
  }

  async #closed(code: number, closeReason: string): Promise<void> {
    const wasWelcomed = this.#welcomed;
    this.#welcomed = false;
    const lost = wasWelcomed ? 'The connection to the relay closed' : 'The relay could not be reached';
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new RelayError('disconnected', `${lost} before it answered`));
      this.#pending.delete(id);
    }
    for (const [runId, run] of this.#runs) {
      run.onLost(`${lost} during the run; its last steps may be missing.`);
      this.#runs.delete(runId);
    }
    for (const [checkId, check] of this.#checks) {
      check.onLost(`${lost} during the check; the cases still running were not judged.`);
      this.#checks.delete(checkId);
    }
    if (this.status === 'refused') return;
    // The relay is full (its session caps): it says why in the close reason; try again later.
    if (code === CLOSE_CODES.tryAgainLater) {
      this.#scheduleRetry(`The relay refused a new session${closeReason ? `: ${closeReason}` : ''}.`);
      return;
    }

    if (code === CLOSE_CODES.goingAway && closeReason === CLOSE_REASONS.shuttingDown) this.#restarting = true;
    if (this.#restarting) {
      this.#scheduleRetry(RESTARTING.reason, RESTARTING.short);
      return;
    }

    if (!wasWelcomed) {
      const refusal = await this.#askWhyRefused();
      if (refusal) {
        this.#refuse(refusal.short, refusal.reason, refusal.hint);
        return;
      }
    }
    const detail = closeReason ? `: ${closeReason}` : code === 1006 || code === 1005 ? '' : ` (close code ${code})`;
    this.#scheduleRetry(`${lost}${detail}.`);
  }

  /**
   * A browser WebSocket never reveals the HTTP status of a failed upgrade. If the relay's
   * origin answers plain HTTP, it is running and chose to refuse the upgrade (its guard checks
   * token, Origin and Host and answers 403); if it does not answer, it is down or restarting.
   */
  async #askWhyRefused(): Promise<{ short: string; reason: string; hint: string } | null> {
    let status: number;
    let said = '';
    try {
      const response = await fetch(this.address.httpUrl, { cache: 'no-store', credentials: 'omit' });
      status = response.status;
      // 503: the relay is shutting down or not ready yet; it comes back by itself.
      if (status === 503) return null;
      if (status === 401 || status === 403) said = (await response.text()).trim().slice(0, 200);
    } catch {
      return null;
    }
    const because = said ? ` (HTTP ${status}: ${said})` : status === 401 || status === 403 ? ` (HTTP ${status})` : '';
    if (!this.address.token) {
      return {
        short: 'no access token',
        reason: `This page was opened without the relay's access token, so the relay refused the connection${because}.`,
        hint: 'Open the address the relay printed when it started; it ends in ?token=…',
      };
    }
    return {
      short: 'token or origin not accepted',
      reason: `The relay is running but refused this page's connection${because}: the access token is not the current one, or this page's origin is not allowed.`,
      hint: 'The token changes every time the relay starts: open the address it printed this time.',
    };
  }

  #refuse(short: string, reason: string, hint: string): void {
    this.#clearRetry();
    this.status = 'refused';
    this.shortReason = short;
    this.reason = reason;
    this.hint = hint;
    this.info = null;
  }

  #scheduleRetry(reason: string, short = 'connection lost'): void {
    const delays = RELAY_LIMITS.retryDelaysMs;
    const delay = delays[Math.min(this.attempt, delays.length - 1)] ?? 10_000;
    this.attempt += 1;
    this.status = 'reconnecting';
    this.reason = reason;
    this.hint = '';
    this.shortReason = short;
    this.nextRetryAt = Date.now() + delay;
    this.#retryTimer = setTimeout(() => this.connect(), delay);
  }

  #clearRetry(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.nextRetryAt = null;
  }
}
