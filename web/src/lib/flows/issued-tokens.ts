// Which tokens a finished flow run was issued, read from its own (masked) token responses, and
// the explicit request that reveals one (flow.reveal, local relays only). The value is asked for
// on each click and kept only by the block that shows it: never in the run's timeline, so never
// in the Runs history, a transcript or a saved scenario.
import { ISSUED_TOKEN_NAMES, type IssuedTokenName, type Step } from '../../../../shared/protocol/index.ts';
import type { RelayConnection } from '../relay/connection.svelte.ts';

/** What the relay keeps, as server/flows/issued-tokens.ts says (ISSUED_TOKEN_RUNS_PER_SESSION, ISSUED_TOKENS_KEPT_MS). */
export const RELAY_KEEPS = { runs: 8, minutes: 15 } as const;

export const TOKEN_TITLES = { access: 'Access token', refresh: 'Refresh token', id: 'ID token' } as const satisfies Record<IssuedTokenName, string>;

const FIELDS = { access: 'access_token', refresh: 'refresh_token', id: 'id_token' } as const satisfies Record<IssuedTokenName, string>;

/** The tokens named in the run's successful token responses (JSON or form-encoded), in a fixed order. */
export function issuedTokenNames(steps: readonly Step[]): IssuedTokenName[] {
  const bodies = steps.flatMap((s) => {
    const res = s.details && 'response' in s.details ? s.details.response : undefined;
    const ok = (s.status === 'ok' || s.status === 'warn') && res !== undefined && res.status >= 200 && res.status < 300;
    return ok ? [res.body] : [];
  });
  return ISSUED_TOKEN_NAMES.filter((name) => bodies.some((b) => new RegExp(`(^|[^\\w])${FIELDS[name]}("\\s*:|=)`).test(b)));
}

/** Asks the relay for one issued token of `runId`; throws with the relay's explanation when it refuses. */
export async function revealToken(relay: RelayConnection, runId: string, which: IssuedTokenName): Promise<string> {
  const reply = await relay.request({ type: 'flow.reveal', id: relay.nextId(), runId, which });
  return reply.token;
}
