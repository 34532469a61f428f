// Which clock judges a JWT's times. Servers judge exp and nbf by their own clock, and the one
// closest to hand is the relay's: its HTTP answers carry a Date header. When that cannot be
// read (another origin in development, relay down), the browser's clock is used, and the
// screen says so.
import type { RelayConnection } from '../relay/connection.svelte.ts';

export const CLOCK_LIMITS = {
  /** A round trip slower than this makes the estimate too loose to be worth it. */
  maxRoundTripMs: 2_000, // ms
  /** HTTP dates have whole seconds. */
  resolutionMs: 1_000, // ms
} as const;

export type ClockSource = { kind: 'relay'; offsetMs: number; roundTripMs: number } | { kind: 'browser'; why: string };

export class RelayClock {
  source = $state<ClockSource>({ kind: 'browser', why: 'the relay has not been asked yet' });
  /** Ticks every second while someone watches, so times and lint follow the clock. */
  now = $state(Date.now());
  #watchers = 0;
  #timer: ReturnType<typeof setInterval> | null = null;

  /** Epoch ms on the judging clock. */
  get judgeNow(): number {
    return this.now + (this.source.kind === 'relay' ? this.source.offsetMs : 0);
  }

  /** A few words for the screen. */
  get label(): string {
    const s = this.source;
    if (s.kind === 'browser') return `this browser's clock (${s.why})`;
    const off = Math.round(s.offsetMs / 100) / 10;
    return `the relay's clock (±1 s; this browser is ${off === 0 ? 'in step' : `${Math.abs(off)} s ${off > 0 ? 'behind' : 'ahead'}`})`;
  }

  /** Starts the ticker; returns the function that stops it. */
  watch(): () => void {
    this.#watchers += 1;
    this.#timer ??= setInterval(() => (this.now = Date.now()), 1_000);
    return () => {
      this.#watchers -= 1;
      if (this.#watchers === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = null;
      }
    };
  }

  /** Reads the relay's Date header (a plain GET of its WebSocket path answers 426 at once). */
  async sync(relay: RelayConnection): Promise<void> {
    const started = Date.now();
    try {
      const response = await fetch(relay.address.httpUrl, { cache: 'no-store', credentials: 'omit' });
      const ended = Date.now();
      const date = response.headers.get('date');
      const relayMs = date ? Date.parse(date) : NaN;
      if (!Number.isFinite(relayMs)) {
        this.source = { kind: 'browser', why: "the relay's Date header cannot be read from this page" };
        return;
      }
      const roundTripMs = ended - started;
      if (roundTripMs > CLOCK_LIMITS.maxRoundTripMs) {
        this.source = { kind: 'browser', why: `the relay took ${roundTripMs} ms to answer` };
        return;
      }
      // The header truncates to the second: on average the relay was half a second further.
      const offsetMs = relayMs + CLOCK_LIMITS.resolutionMs / 2 - (started + ended) / 2;
      this.source = { kind: 'relay', offsetMs: Math.abs(offsetMs) < CLOCK_LIMITS.resolutionMs ? 0 : offsetMs, roundTripMs };
    } catch {
      this.source = { kind: 'browser', why: 'the relay could not be reached' };
    } finally {
      this.now = Date.now();
    }
  }
}
