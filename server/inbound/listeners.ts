// The inbound listeners of one WebSocket session: started and stopped on request, at most a
// few at a time, all closed when the session ends. Refused in hosted mode, where a listener
// would open a port on the relay's host to anyone who can reach it.
import { randomBytes } from 'node:crypto';
import type { ClientMessage, RunEvent, ServerMessage } from '../../shared/protocol/index.ts';
import type { RunningLab } from '../lab/lab.ts';
import type { Logger } from '../log.ts';
import { INBOUND_LIMITS, type InboundLimits } from './limits.ts';
import { ListenError, startInboundListener, type InboundListener } from './listener.ts';
import { serverIdentity } from './server-identity.ts';
import { CaBundleError, readTrustBundle } from './trust-bundle.ts';

interface InboundDeps {
  hosted: boolean;
  lab: RunningLab | null;
  log: Logger;
  /** Where the listeners' run events go (the session redacts and sends them). */
  emit(event: RunEvent): void;
  limits?: Partial<InboundLimits>;
}

type StartMessage = Extract<ClientMessage, { type: 'inbound.start' }>;
type StopMessage = Extract<ClientMessage, { type: 'inbound.stop' }>;
type Reply = Extract<ServerMessage, { type: 'inbound.started' | 'inbound.stopped' | 'error' }>;

export class InboundListeners {
  readonly #deps: InboundDeps;
  readonly #limits: InboundLimits;
  readonly #open = new Map<string, InboundListener>();
  /** Starts in progress count against the limit too. */
  #starting = 0;
  #closed = false;

  constructor(deps: InboundDeps) {
    this.#deps = deps;
    this.#limits = { ...INBOUND_LIMITS, ...deps.limits };
  }

  async start(msg: StartMessage): Promise<Reply> {
    const { id, inbound } = msg;
    if (this.#deps.hosted) {
      return { type: 'error', id, code: 'inbound_refused', message: 'inbound listeners are off in hosted mode: they would open a port on the relay\'s host to anyone; run the harness locally (npm start) to check a client' };
    }
    if (this.#open.size + this.#starting >= this.#limits.listenersPerSession) {
      return { type: 'error', id, code: 'too_many_listeners', message: `at most ${this.#limits.listenersPerSession} inbound listeners per connection; stop one first (inbound.stop)` };
    }
    this.#starting++;
    try {
      const bundle = await readTrustBundle(inbound.caPem);
      const identity = await serverIdentity(this.#deps.lab?.pki ?? null);
      const listenerId = `l${randomBytes(6).toString('hex')}`;
      const listener = await startInboundListener({
        listenerId,
        requestId: id,
        host: inbound.host ?? '127.0.0.1',
        port: inbound.port ?? 0,
        identity,
        bundle,
        ...(inbound.rule ? { rule: inbound.rule } : {}),
        ...(inbound.verifyDepth !== undefined ? { verifyDepth: inbound.verifyDepth } : {}),
        limits: this.#limits,
        emit: this.#deps.emit,
        log: this.#deps.log,
      });
      if (this.#closed) {
        // The session ended while the listener was starting.
        await listener.close();
        return { type: 'error', id, code: 'listen_failed', message: 'the connection closed while the listener was starting' };
      }
      this.#open.set(listenerId, listener);
      return {
        type: 'inbound.started',
        id,
        listenerId,
        url: listener.url,
        port: listener.port,
        host: listener.host,
        serverCaPem: identity.caPem,
        serverCertificate: identity.source,
        trustedCAs: bundle.subjects,
        warnings: bundle.warnings,
        curl: listener.curl,
      };
    } catch (err) {
      if (err instanceof CaBundleError) return { type: 'error', id, code: 'ca_invalid', message: err.message };
      if (err instanceof ListenError) return { type: 'error', id, code: 'listen_failed', message: err.message };
      throw err;
    } finally {
      this.#starting--;
    }
  }

  async stop(msg: StopMessage): Promise<Reply> {
    const listener = this.#open.get(msg.listenerId);
    if (!listener) return { type: 'error', id: msg.id, code: 'unknown_listener', message: `no inbound listener ${msg.listenerId.slice(0, 64)} is open on this connection` };
    this.#open.delete(msg.listenerId);
    await listener.close();
    return { type: 'inbound.stopped', id: msg.id, listenerId: msg.listenerId };
  }

  /** The session is over: stop accepting at once; runs still open finish as stopped. */
  closeAll(): void {
    this.#closed = true;
    for (const listener of this.#open.values()) {
      listener.close().catch((err: unknown) => this.#deps.log.error('inbound listener close failed', { error: String(err) }));
    }
    this.#open.clear();
  }
}
