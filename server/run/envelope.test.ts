import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunEvent } from '../../shared/protocol/index.ts';
import { runInEnvelope, type EnvelopeOptions, type RunContext, type RunResult } from './envelope.ts';

const SECRET = 's3cr3t-value-123';

function options(events: RunEvent[], more: Partial<EnvelopeOptions> = {}): EnvelopeOptions {
  return { requestId: SECRET, runId: 'r1', kind: 'probe', target: `https://example.test/?k=${SECRET}`, secrets: [SECRET], send: (e) => events.push(e), ...more };
}

const passing = async (ctx: RunContext): Promise<RunResult> => {
  ctx.onStep({ id: 'inputs', phase: 'inputs', status: 'ok', title: 'Inputs', summary: `echoed ${SECRET}`, startMs: 0 });
  return { outcome: 'pass', diagnoses: [], durationMs: 1 };
};

test('run.started, the steps with the secrets scrubbed, run.finished; the request id comes back as sent', async () => {
  const events: RunEvent[] = [];
  const seen: string[] = [];
  const result = await runInEnvelope(options(events, { observeStep: (s) => seen.push(s.summary!) }), passing);
  assert.equal(result.outcome, 'pass');
  assert.deepEqual(events.map((e) => e.type), ['run.started', 'step', 'run.finished']);
  const started = events[0] as Extract<RunEvent, { type: 'run.started' }>;
  assert.equal(started.id, SECRET);
  assert.doesNotMatch(JSON.stringify(events.slice(1)), new RegExp(SECRET));
  assert.doesNotMatch(started.target, new RegExp(SECRET));
  // The observer sees the step as the run reported it (metrics, the authorization URL).
  assert.deepEqual(seen, [`echoed ${SECRET}`]);
});

test('a fault ends the run with error where the caller asks, and is thrown where it does not', async () => {
  const boom = async (): Promise<RunResult> => {
    throw new Error(`bug near ${SECRET}`);
  };
  const events: RunEvent[] = [];
  const faults: string[] = [];
  const result = await runInEnvelope(options(events, { onFault: (m) => faults.push(m) }), boom);
  assert.equal(result.outcome, 'error');
  assert.equal(events.at(-1)!.type, 'run.finished');
  assert.equal(faults.length, 1);
  assert.doesNotMatch(faults[0]!, new RegExp(SECRET));
  await assert.rejects(runInEnvelope(options([]), boom), /bug near/);
});

test('a run stopped from outside ends with the caller\'s events when it has some', async () => {
  const cases = [
    { name: 'interrupted, with an ending', ending: true, abort: true, want: ['run.started', 'step', 'step', 'run.finished:error'] },
    { name: 'interrupted, no ending of its own', ending: false, abort: true, want: ['run.started', 'step', 'run.finished:pass'] },
    { name: 'not interrupted', ending: true, abort: false, want: ['run.started', 'step', 'run.finished:pass'] },
  ];
  for (const c of cases) {
    const events: RunEvent[] = [];
    const controller = new AbortController();
    if (c.abort) controller.abort();
    await runInEnvelope(options(events, {
      signal: controller.signal,
      interrupted: () => (c.ending ? [
        { type: 'step', runId: 'r1', step: { id: 'stop', phase: 'verdict', status: 'fail', title: 'Stopped', startMs: 0 } },
        { type: 'run.finished', runId: 'r1', outcome: 'error', diagnoses: [], durationMs: 0 },
      ] : undefined),
    }), passing);
    assert.deepEqual(events.map((e) => (e.type === 'run.finished' ? `${e.type}:${e.outcome}` : e.type)), c.want, c.name);
  }
});

test('secrets made once the run first waits: asked for then, not at its start, and scrubbed from everything after', async () => {
  const KEY_LINE = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC';
  const ENCODED = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC%2Fencoded';
  const events: RunEvent[] = [];
  let asked = 0;
  let askedAtStart = -1;
  await runInEnvelope(options(events, {
    secrets: [SECRET, KEY_LINE],
    secretsOnceWaiting: () => {
      asked++;
      return [ENCODED, SECRET, KEY_LINE];
    },
  }), async (ctx) => {
    ctx.onStep({ id: 'inputs', phase: 'inputs', status: 'running', title: 'Inputs', summary: `starting ${SECRET} ${KEY_LINE}`, startMs: 0 });
    askedAtStart = asked;
    await Promise.resolve();
    ctx.onStep({ id: 'inputs', phase: 'inputs', status: 'ok', title: 'Inputs', summary: `echoed ${ENCODED}`, startMs: 0 });
    ctx.onStep({ id: 'tls', phase: 'tls', status: 'ok', title: 'TLS', summary: `again ${ENCODED}`, startMs: 1 });
    return { outcome: 'pass', diagnoses: [], durationMs: 1 };
  });
  assert.equal(askedAtStart, 0, 'the run\'s start is scrubbed with the secrets given up front');
  assert.equal(asked, 1, 'made once');
  const text = JSON.stringify(events.filter((e) => e.type === 'step'));
  for (const v of [SECRET, KEY_LINE, 'encoded']) assert.doesNotMatch(text, new RegExp(v), `${v} scrubbed`);
});
