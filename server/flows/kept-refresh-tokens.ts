// The refresh tokens this session's authorization-code runs ended with, kept on the relay so a
// later refresh-token run can name the run instead of the token: the page never receives a
// refresh token (every event is redacted), yet the refresh grant can be run against the lab or a
// partner from the browser. Only the newest token of each run is kept (with rotation, the only
// one that still works), a few runs at most, and all of it ends with the WebSocket session.

/** Authorization-code runs whose refresh token one session keeps; the oldest is dropped first. */
export const KEPT_REFRESH_TOKENS_PER_SESSION = 4; // refresh tokens

export class KeptRefreshTokens {
  readonly #byRun = new Map<string, string>();
  readonly #max: number;

  constructor(max: number = KEPT_REFRESH_TOKENS_PER_SESSION) {
    this.#max = max;
  }

  /** The newest refresh token of `runId` (a later rotation replaces it). */
  keep(runId: string, token: string): void {
    this.#byRun.delete(runId);
    this.#byRun.set(runId, token);
    while (this.#byRun.size > this.#max) this.#byRun.delete(this.#byRun.keys().next().value!);
  }

  get(runId: string): string | undefined {
    return this.#byRun.get(runId);
  }

  clear(): void {
    this.#byRun.clear();
  }
}
