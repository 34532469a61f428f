import type { InboundRequest, ServerMessage } from '../../../../shared/protocol.ts';
import type { RelayConnection, RunHandlers } from '../relay/connection.svelte.ts';
import { describeError, RelayError } from '../relay/errors.ts';
import type { BundleReport } from '../server-config/ca-bundle.ts';
import { RunTimeline } from '../timeline/run.svelte.ts';

type Started = Extract<ServerMessage, { type: 'inbound.started' }>;

/** One listener the relay opened for this page, as inbound.started described it. */
export interface Listener {
  /** The inbound.start id; every run.started of this listener echoes it. */
  requestId: string;
  listenerId: string;
  url: string;
  port: number;
  host: string;
  serverCaPem: string;
  serverCertificate: Started['serverCertificate'];
  trustedCAs: string[];
  warnings: string[];
  curl: string;
  rule: InboundRequest['rule'] | null;
  verifyDepth: number | null;
}

/** A client that reached a listener: one run the relay started by itself. */
export interface InboundConnection {
  timeline: RunTimeline;
  listenerId: string;
  arrivedAt: Date;
}

export type ListenerState = 'stopped' | 'starting' | 'listening' | 'stopping';

/**
 * The inbound check: the form, the listener the relay opened, and every client connection to
 * it, each followed live as a run. It lives as long as the page (not the screen), so clients
 * keep being recorded while the user looks at another screen.
 */
export class InboundSession {
  caPem = $state('');
  report = $state<BundleReport | null>(null);
  cnEquals = $state('');
  sanDnsEquals = $state('');
  /** Blank: no depth limit. */
  verifyDepth = $state('');
  /** Blank or 0: any free port. */
  port = $state('');

  state = $state<ListenerState>('stopped');
  listener = $state<Listener | null>(null);
  /** Why the listener is not (or no longer) running, when that was not the user's choice. */
  problem = $state<string | null>(null);
  connections = $state<InboundConnection[]>([]);
  /** The connection shown in full; null shows the newest. */
  selectedRunId = $state<string | null>(null);

  readonly #relay: RelayConnection;

  constructor(relay: RelayConnection) {
    this.#relay = relay;
    relay.onUnsolicitedRun((started) => this.#adopt(started));
    $effect.root(() => {
      $effect(() => {
        // The relay closes a session's listeners when its WebSocket closes.
        if (relay.status !== 'connected' && (this.state === 'listening' || this.state === 'stopping')) {
          this.state = 'stopped';
          this.problem = 'The connection to the relay dropped, which closes its listeners. Start the listener again once it is back.';
        }
      });
    });
  }

  get selected(): InboundConnection | null {
    return this.connections.find((c) => c.timeline.runId === this.selectedRunId) ?? this.connections[0] ?? null;
  }

  /** The request as the form describes it, or why it cannot be sent. */
  request(): { ok: true; inbound: InboundRequest } | { ok: false; message: string } {
    if (!this.caPem.includes('-----BEGIN CERTIFICATE-----')) return { ok: false, message: 'Choose or paste the CA certificates that client certificates must chain to.' };
    const inbound: InboundRequest = { caPem: this.caPem };
    const port = this.port.trim();
    if (port) {
      const n = Number(port);
      if (!Number.isInteger(n) || n < 0 || n > 65535) return { ok: false, message: 'The port must be a number from 1 to 65535, or blank for any free port.' };
      inbound.port = n;
    }
    const depth = this.verifyDepth.trim();
    if (depth) {
      const n = Number(depth);
      if (!Number.isInteger(n) || n < 1 || n > 16) return { ok: false, message: 'The verify depth must be a number from 1 to 16, or blank for no limit.' };
      inbound.verifyDepth = n;
    }
    const cn = this.cnEquals.trim();
    const san = this.sanDnsEquals.trim();
    if (cn || san) inbound.rule = { ...(cn ? { cnEquals: cn } : {}), ...(san ? { sanDnsEquals: san } : {}) };
    return { ok: true, inbound };
  }

  async start(): Promise<void> {
    if (this.state === 'starting' || this.state === 'listening') return;
    const built = this.request();
    if (!built.ok) {
      this.problem = built.message;
      return;
    }
    this.problem = null;
    this.state = 'starting';
    const id = this.#relay.nextId();
    try {
      const reply = await this.#relay.request({ type: 'inbound.start', id, inbound: built.inbound });
      if (reply.type !== 'inbound.started') throw new Error(`the relay answered inbound.start with ${reply.type}`);
      this.listener = {
        requestId: id,
        listenerId: reply.listenerId,
        url: reply.url,
        port: reply.port,
        host: reply.host,
        serverCaPem: reply.serverCaPem,
        serverCertificate: reply.serverCertificate,
        trustedCAs: reply.trustedCAs,
        warnings: reply.warnings,
        curl: reply.curl,
        rule: built.inbound.rule ?? null,
        verifyDepth: built.inbound.verifyDepth ?? null,
      };
      this.state = 'listening';
    } catch (err) {
      this.state = 'stopped';
      this.problem = `The listener did not start: ${describeError(err)}`;
    }
  }

  async stop(): Promise<void> {
    const listener = this.listener;
    if (!listener || this.state !== 'listening') return;
    this.state = 'stopping';
    try {
      await this.#relay.request({ type: 'inbound.stop', id: this.#relay.nextId(), listenerId: listener.listenerId });
    } catch (err) {
      // unknown_listener: it is gone already, which is what Stop wanted.
      if (!(err instanceof RelayError && (err.code === 'unknown_listener' || err.code === 'disconnected' || err.code === 'not_connected'))) this.problem = `Stopping the listener failed: ${describeError(err)}`;
    }
    this.state = 'stopped';
  }

  clearConnections(): void {
    this.connections = this.connections.filter((c) => c.timeline.active);
    this.selectedRunId = null;
  }

  #adopt(started: Extract<ServerMessage, { type: 'run.started' }>): RunHandlers | null {
    const listener = this.listener;
    if (started.kind !== 'inbound' || !listener || started.id !== listener.requestId) return null;
    const timeline = new RunTimeline({ target: started.target, method: 'Client', clientLabel: null, detail: `connected to the inbound listener on port ${listener.port}` });
    this.connections = [{ timeline, listenerId: listener.listenerId, arrivedAt: new Date() }, ...this.connections];
    return {
      onEvent: (event) => timeline.apply(event),
      onLost: (reason) => timeline.interrupt(reason),
    };
  }
}

const sessions = new WeakMap<RelayConnection, InboundSession>();

/** The page's one inbound session for this relay connection. */
export function inboundSessionFor(relay: RelayConnection): InboundSession {
  let session = sessions.get(relay);
  if (!session) {
    session = new InboundSession(relay);
    sessions.set(relay, session);
  }
  return session;
}
