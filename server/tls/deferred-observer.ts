// Reads the tap's bytes later rather than as they pass; see DeferredObserver for why.
import type { TlsObservation } from './observation.ts';
import type { TlsHandshakeObserver } from './observer.ts';

/** Queued bytes that force a read even before anyone asks: bounds memory on long connections. */
const READ_AT_LEAST_EVERY_BYTES = 64 * 1024;

/**
 * Parsing and decrypting cost a few hundred microseconds per handshake. Done as bytes pass, that
 * time would sit on the handshake's critical path (the keylog event even fires inside OpenSSL's
 * processing of the server's flight, before the client's reply goes out). So events are only
 * queued, in the order they happen, and read when someone asks for the observation, when the
 * connection closes, or when enough has queued up to be worth bounding.
 */
export class DeferredObserver {
  // Chunks are kept without copying: Node hands the tap fresh buffers (a new one per socket read;
  // JSStream copies every TLS write) and nothing writes to them afterwards.
  private readonly pending: { kind: 'client' | 'server' | 'keylog'; bytes: Buffer }[] = [];
  private pendingBytes = 0;

  constructor(private readonly observer: TlsHandshakeObserver) {}

  get done(): boolean {
    return this.observer.done;
  }

  add(kind: 'client' | 'server' | 'keylog', bytes: Buffer): void {
    if (this.observer.done) return;
    this.pending.push({ kind, bytes });
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= READ_AT_LEAST_EVERY_BYTES) this.flush();
  }

  observation(): TlsObservation {
    this.flush();
    return this.observer.observation();
  }

  /** Reads everything queued; cheap when nothing is. */
  flush(): void {
    this.pendingBytes = 0;
    for (const { kind, bytes } of this.pending.splice(0)) {
      if (this.observer.done) return;
      if (kind === 'client') this.observer.clientBytes(bytes);
      else if (kind === 'server') this.observer.serverBytes(bytes);
      else this.observer.keylog(bytes);
    }
  }
}
