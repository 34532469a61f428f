// Which clock judges a JWT's times. Servers judge exp and nbf by their own clock, and the one
// closest to hand is the relay's: its WebSocket welcome carries its time. When the relay is not
// connected, the browser's clock is used, and the screen says so.
import type { RelayConnection } from '../relay/connection.svelte.ts';

const CLOCK_LIMITS = {
  /** Offsets smaller than this are the welcome's travel time, not a clock difference. */
  resolutionMs: 1_000, // ms
} as const;

type ClockSource = { kind: 'relay'; offsetMs: number } | { kind: 'browser'; why: string };

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

  /**
   * Takes the relay's clock from its WebSocket welcome (`time`, epoch ms). An HTTP request for
   * the Date header would cost a round trip and, on the WebSocket path, a red 426 in the console.
   */
  sync(relay: Pick<RelayConnection, 'connected' | 'clockOffsetMs'>): void {
    this.now = Date.now();
    if (!relay.connected) {
      this.source = { kind: 'browser', why: 'the relay is not connected' };
      return;
    }
    const offsetMs = relay.clockOffsetMs;
    this.source = { kind: 'relay', offsetMs: Math.abs(offsetMs) < CLOCK_LIMITS.resolutionMs ? 0 : offsetMs };
  }
}
