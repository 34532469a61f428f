import type { InboundRequest, ProbeRequest, ServerMessage } from '../../../../shared/protocol/index.ts';
import type { InboundScenarioRequest, ScenarioExpect } from '../../../../shared/flows/scenario.ts';
import type { Harness } from '../app/harness.svelte.ts';
import type { KeyRing } from '../keys/keyring.svelte.ts';
import type { RelayConnection, RunHandlers } from '../relay/connection.svelte.ts';
import { clientNeedMessage, type ClientNeed } from '../scenarios/resolve.ts';
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

  /**
   * The client the relay itself connects as ("Connect"): a key-ring credential id, or 'none'
   * for a client without a certificate. What a saved scenario's client is.
   */
  connectAs = $state('none');
  /** An opened scenario's client certificate this browser cannot present yet: Connect waits for it. */
  clientNeed = $state<ClientNeed | null>(null);
  /** The scenario the form was last filled from: its expect block judges the connections made here. */
  opened = $state<{ name: string; expect: ScenarioExpect | null } | null>(null);
  /** Runs of the connections the relay made for "Connect" (not curl's, not a partner's). */
  ownRunIds = $state<string[]>([]);
  connecting = $state(false);
  /** A Connect is under way: the next connection the listener reports is its. */
  #awaitingOwn = 0;

  readonly #relay: RelayConnection;
  readonly #keyring: KeyRing;

  constructor(harness: Harness) {
    const relay = harness.relay;
    this.#relay = relay;
    this.#keyring = harness.keyring;
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

  /** The listener's settings and the client Connect uses, as a scenario saves them (the port is not saved). */
  async scenarioRequest(includeKey: boolean): Promise<{ ok: true; inbound: InboundScenarioRequest } | { ok: false; message: string }> {
    const built = this.request();
    if (!built.ok) return built;
    const { port: _port, ...listener } = built.inbound;
    if (this.connectAs === 'none') return { ok: true, inbound: { listener } };
    const credential = this.#keyring.get(this.connectAs);
    if (!credential?.ready) return { ok: false, message: 'The client to connect as has no certificate yet: choose another, or none.' };
    // Without secrets the file names the key instead of holding it, so it is not even exported.
    return { ok: true, inbound: { listener, client: { certificatePem: credential.certificateChainPem, privateKeyPem: includeKey ? await credential.privateKeyPem() : '(not included)' } } };
  }

  /**
   * The relay connects to the listener as the chosen client (a probe of the listener's URL that
   * trusts its CA): the connection appears in the list like any other, and is the run a saved
   * inbound scenario describes. Starts the listener first when it is not running.
   */
  async connect(): Promise<void> {
    if (this.connecting) return;
    this.problem = null;
    if (this.clientNeed && this.connectAs === 'none') {
      this.problem = clientNeedMessage(this.clientNeed, 'Connect without a client certificate instead');
      return;
    }
    const credential = this.connectAs === 'none' ? null : this.#keyring.get(this.connectAs);
    if (this.connectAs !== 'none' && !credential?.ready) {
      this.problem = 'The client to connect as has no certificate yet: choose another, or none.';
      return;
    }
    this.connecting = true;
    try {
      if (this.state !== 'listening') await this.start();
      const listener = this.listener;
      if (this.state !== 'listening' || !listener) return;
      const probe: ProbeRequest = { url: listener.url, method: 'GET', caPem: listener.serverCaPem, trustLab: false };
      if (credential) probe.client = { certificatePem: credential.certificateChainPem, privateKeyPem: await credential.privateKeyPem() };
      this.#awaitingOwn++;
      let settle!: () => void;
      const ended = new Promise<void>((resolve) => (settle = resolve));
      const runId = await this.#relay.startProbe(probe, {
        onEvent: (event) => {
          if (event.type === 'run.finished') settle();
        },
        onLost: () => settle(),
      });
      credential?.sentForRuns.push(runId);
      await ended;
    } catch (err) {
      this.problem = `Connecting to the listener failed: ${describeError(err)}`;
    } finally {
      this.#awaitingOwn = 0;
      this.connecting = false;
    }
  }

  /** The last connection the relay made for Connect, once finished: what Save offers as expect. */
  get ownOutcome(): ScenarioExpect | null {
    const run = this.connections.find((c) => this.ownRunIds.includes(c.timeline.runId ?? ''))?.timeline;
    return run?.outcome ? { outcome: run.outcome, diagnoses: run.diagnoses } : null;
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
    if (this.#awaitingOwn > 0) {
      this.#awaitingOwn--;
      this.ownRunIds = [started.runId, ...this.ownRunIds];
      this.selectedRunId = null;
    }
    return {
      onEvent: (event) => timeline.apply(event),
      onLost: (reason) => timeline.interrupt(reason),
    };
  }
}
