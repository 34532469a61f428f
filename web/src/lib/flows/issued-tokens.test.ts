// Which issued tokens the Token flows screen offers to reveal, read from the run's masked token
// responses; and the limits it quotes are the relay's own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Step } from '../../../../shared/protocol/index.ts';
import { ISSUED_TOKEN_RUNS_PER_SESSION, ISSUED_TOKENS_KEPT_MS } from '../../../../server/flows/issued-tokens.ts';
import { issuedTokenNames, RELAY_KEEPS } from './issued-tokens.ts';

function step(status: Step['status'], response?: { status: number; body: string }): Step {
  const shown = response && { ...response, headers: {}, bytes: response.body.length, truncated: false };
  return { id: 'exchange', phase: 'exchange', status, title: 'Token request', summary: '', startMs: 0, durationMs: 1, ...(shown ? { details: { response: shown } } : {}) };
}

const MASKED = '••••••';
const cases: [string, Step[], string[]][] = [
  ['client credentials (JSON)', [step('ok', { status: 200, body: `{\n  "access_token": "${MASKED}",\n  "token_type": "Bearer"\n}` })], ['access']],
  ['authorization code with OpenID', [step('ok', { status: 200, body: `{"access_token":"${MASKED}","refresh_token":"${MASKED}","id_token":"${MASKED}"}` })], ['access', 'refresh', 'id']],
  ['form-encoded answer (GitHub)', [step('warn', { status: 200, body: `access_token=${MASKED}&scope=repo&token_type=bearer` })], ['access']],
  ['a refusal names no token', [step('fail', { status: 400, body: '{"error":"invalid_client"}' })], []],
  ['a 4xx that mentions a field is not an issue', [step('ok', { status: 401, body: `{"access_token":"${MASKED}"}` })], []],
  ['a word that only contains the name', [step('ok', { status: 200, body: '{"my_access_token_hint": 1, "note": "no access_token here"}' })], []],
  ['no response at all (discovery only)', [step('ok')], []],
];

for (const [name, steps, want] of cases) {
  test(`issuedTokenNames: ${name}`, () => assert.deepEqual(issuedTokenNames(steps), want));
}

test('the screen quotes the limits the relay keeps', () => {
  assert.deepEqual(RELAY_KEEPS, { runs: ISSUED_TOKEN_RUNS_PER_SESSION, minutes: ISSUED_TOKENS_KEPT_MS / 60_000 });
});
