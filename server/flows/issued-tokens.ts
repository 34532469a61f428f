// The tokens this session's flow runs were issued, kept on the relay so that in local mode the
// person at the page can reveal and copy one — on an explicit click, one token at a time
// (flow.reveal). They never travel in a run's events, so no timeline, Runs history, transcript,
// report or saved scenario holds them. Hosted mode keeps nothing (the relay is someone else's
// machine). Bounded in count and age, and all of it ends with the WebSocket session.

import type { IssuedTokenName as TokenName } from '../../shared/protocol/index.ts';

export type IssuedTokenSet = Partial<Record<TokenName, string>>;

/** Finished flow runs whose issued tokens one session keeps; the oldest run is dropped first. */
export const ISSUED_TOKEN_RUNS_PER_SESSION = 8; // runs
/** How long after it was issued a token can still be revealed. */
export const ISSUED_TOKENS_KEPT_MS = 15 * 60_000; // ms

interface Kept {
  tokens: IssuedTokenSet;
  at: number;
}

export class IssuedTokens {
  readonly #byRun = new Map<string, Kept>();
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(max: number = ISSUED_TOKEN_RUNS_PER_SESSION, ttlMs: number = ISSUED_TOKENS_KEPT_MS, now: () => number = Date.now) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`issued-token runs kept must be a positive integer, not ${max}`);
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`issued-token lifetime must be a positive number of ms, not ${ttlMs}`);
    this.#max = max;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /** Adds what one token request of `runId` returned: each kind keeps its newest token. */
  keep(runId: string, tokens: IssuedTokenSet): void {
    const given = Object.fromEntries(Object.entries(tokens).filter(([, v]) => typeof v === 'string' && v !== '')) as IssuedTokenSet;
    if (!Object.keys(given).length) return;
    const prev = this.#byRun.get(runId);
    this.#byRun.delete(runId);
    this.#byRun.set(runId, { tokens: { ...prev?.tokens, ...given }, at: this.#now() });
    this.#prune();
    while (this.#byRun.size > this.#max) this.#byRun.delete(this.#byRun.keys().next().value!);
  }

  /** The token, or why there is none: `unknown` (not this session's run, dropped, expired) or `not_issued`. */
  get(runId: string, which: TokenName): { token: string } | { missing: 'unknown' | 'not_issued' } {
    this.#prune();
    const kept = this.#byRun.get(runId);
    if (!kept) return { missing: 'unknown' };
    const token = kept.tokens[which];
    return token === undefined ? { missing: 'not_issued' } : { token };
  }

  /** Run ids still kept (tests, and the count the limit bounds). */
  get size(): number {
    this.#prune();
    return this.#byRun.size;
  }

  clear(): void {
    this.#byRun.clear();
  }

  #prune(): void {
    const now = this.#now();
    for (const [runId, kept] of this.#byRun) if (now - kept.at >= this.#ttlMs) this.#byRun.delete(runId);
  }
}
