// Fair shares of what all sessions share: run slots and the sessions themselves. A session may
// hold only its share, and in hosted mode so may all the sessions of one client address
// together, so one token holder cannot leave everyone else with "the relay is busy".
//
// Authorization-code flows spend most of their life waiting for a person to sign in. While a
// flow waits it gives its run slot back and holds a waiting slot instead: waits have their own,
// smaller caps, so they can never take the slots probes run on.
import { isIPv6 } from 'node:net';
import type { Limits } from './defaults.ts';

export type ShareRefusal = { code: 'busy_session' | 'busy_address' | 'busy_relay' | 'rate_limited'; message: string };

interface Counts {
  work: number;
  wait: number;
}

/**
 * The key one client address is counted under: IPv4 as is (an IPv4-mapped IPv6 address is its
 * IPv4 address), IPv6 by its /64, the block one subscriber usually holds whole.
 */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}

/** The slots one run holds; `release` gives back whatever it still holds. */
export interface RunSlot {
  /** The run now only waits (a browser redirect): its run slot goes back, its waiting slot stays. */
  wait(): void;
  /** The wait is over: the run works again (always granted; bounded by the waiting caps). */
  resume(): void;
  release(): void;
}

/** What one session holds; made by RunSlots.holder(). */
export interface SlotHolder {
  readonly address: string;
  readonly counts: Counts;
}

export class RunSlots {
  readonly #limits: Limits;
  /** Hosted mode: shares per client address apply (locally every session is the same person). */
  readonly #perAddress: boolean;
  readonly #total: Counts = { work: 0, wait: 0 };
  readonly #addresses = new Map<string, Counts>();

  constructor(limits: Limits, perAddress: boolean) {
    this.#limits = limits;
    this.#perAddress = perAddress;
  }

  holder(address: string): SlotHolder {
    return { address, counts: { work: 0, wait: 0 } };
  }

  /** Runs and waits in flight across the relay. */
  get total(): Readonly<Counts> {
    return this.#total;
  }

  /**
   * A run slot, or why not. `waits`: the run will wait for a redirect, so a waiting slot is
   * reserved now too — a flow refused for lack of one is refused before the person signs in.
   */
  acquire(holder: SlotHolder, opts: { waits?: boolean } = {}): RunSlot | ShareRefusal {
    const l = this.#limits;
    const waits = opts.waits === true;
    const mine = holder.counts;
    if (mine.work >= l.runsPerConnection) return { code: 'busy_session', message: `at most ${l.runsPerConnection} runs at once per session; wait for one to finish` };
    if (waits && mine.wait >= l.waitingRunsPerConnection) return { code: 'busy_session', message: `at most ${l.waitingRunsPerConnection} authorization-code flows may wait for a redirect at once per session; finish or cancel one` };
    const addr = this.#addresses.get(holder.address) ?? { work: 0, wait: 0 };
    if (this.#perAddress) {
      if (addr.work >= l.runsPerAddress) return { code: 'busy_address', message: `at most ${l.runsPerAddress} runs at once from one address (all its sessions together); wait for one to finish` };
      if (waits && addr.wait >= l.waitingRunsPerAddress) return { code: 'busy_address', message: `at most ${l.waitingRunsPerAddress} authorization-code flows may wait for a redirect at once from one address; finish or cancel one` };
    }
    if (this.#total.work >= l.runsTotal) return { code: 'busy_relay', message: 'the relay is busy; try again in a moment' };
    if (waits && this.#total.wait >= l.waitingRunsTotal) return { code: 'busy_relay', message: 'too many authorization-code flows are waiting for a redirect on this relay; try again in a moment' };
    this.#addresses.set(holder.address, addr);

    const all = [mine, addr, this.#total];
    const add = (kind: keyof Counts, n: number) => {
      for (const c of all) c[kind] += n;
    };
    let work = true;
    let wait = waits;
    add('work', 1);
    if (wait) add('wait', 1);
    const forgetAddress = () => {
      if (addr.work === 0 && addr.wait === 0) this.#addresses.delete(holder.address);
    };
    return {
      wait: () => {
        if (work && wait) { work = false; add('work', -1); }
      },
      resume: () => {
        if (!work && wait) { work = true; add('work', 1); }
      },
      release: () => {
        if (work) add('work', -1);
        if (wait) add('wait', -1);
        work = wait = false;
        forgetAddress();
      },
    };
  }
}

export function isRefusal(v: RunSlot | ShareRefusal): v is ShareRefusal {
  return 'code' in v;
}

/** Sessions open, in all and per client address: admit() before the upgrade completes. */
export class SessionCount {
  readonly #limits: Limits;
  readonly #perAddress: boolean;
  #total = 0;
  readonly #addresses = new Map<string, number>();

  constructor(limits: Limits, perAddress: boolean) {
    this.#limits = limits;
    this.#perAddress = perAddress;
  }

  /** A release function, or why the session is refused. */
  admit(address: string): (() => void) | ShareRefusal {
    const l = this.#limits;
    const n = this.#addresses.get(address) ?? 0;
    if (this.#perAddress && n >= l.sessionsPerAddress) return { code: 'busy_address', message: `at most ${l.sessionsPerAddress} sessions at once from one address; close another tab of the app` };
    if (this.#total >= l.sessionsTotal) return { code: 'busy_relay', message: 'the relay has as many sessions as it accepts; try again in a moment' };
    this.#total++;
    this.#addresses.set(address, n + 1);
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.#total--;
      const left = (this.#addresses.get(address) ?? 1) - 1;
      if (left > 0) this.#addresses.set(address, left);
      else this.#addresses.delete(address);
    };
  }
}

const MINUTE_MS = 60_000;

/**
 * Runs started per client address in the last minute (hosted mode): concurrency caps alone let
 * one address start a new run the moment one ends, all day. A sliding window, so there is no
 * boundary at which a burst of twice the rate fits. Memory: at most runsPerMinutePerAddress
 * start times per address with a session; an address's entry goes when its window empties.
 */
export class RunRate {
  readonly #limits: Limits;
  readonly #perAddress: boolean;
  readonly #starts = new Map<string, number[]>();
  readonly #now: () => number;

  constructor(limits: Limits, perAddress: boolean, now: () => number = () => performance.now()) {
    this.#limits = limits;
    this.#perAddress = perAddress;
    this.#now = now;
  }

  /** Counts one start for `address`, or says when it may start again. */
  admit(address: string): true | ShareRefusal {
    if (!this.#perAddress) return true;
    const now = this.#now();
    const max = this.#limits.runsPerMinutePerAddress;
    const recent = (this.#starts.get(address) ?? []).filter((t) => now - t < MINUTE_MS);
    if (recent.length >= max) {
      this.#starts.set(address, recent);
      const waitS = Math.max(1, Math.ceil((MINUTE_MS - (now - recent[0]!)) / 1000));
      return { code: 'rate_limited', message: `at most ${max} run${max === 1 ? '' : 's'} a minute from one address (all its sessions together); try again in ${waitS} s` };
    }
    recent.push(now);
    this.#starts.set(address, recent);
    if (this.#starts.size > 64) this.#sweep(now);
    return true;
  }

  /** Addresses counted now (for tests). */
  get addresses(): number {
    return this.#starts.size;
  }

  #sweep(now: number): void {
    for (const [address, starts] of this.#starts) if (now - starts[starts.length - 1]! >= MINUTE_MS) this.#starts.delete(address);
  }
}
