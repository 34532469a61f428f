// Where a probe's time went, read from the step events alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Step } from '../../../../shared/protocol/index.ts';
import { phaseTimings } from './timings.ts';

const step = (id: string, startMs: number, durationMs: number | undefined, details?: Record<string, unknown>, status: Step['status'] = 'ok'): Step =>
  ({ id, phase: id, title: id, status, startMs, durationMs, details }) as Step;

test('each finished phase is a row; the HTTP exchange is split by its timings; the verdict gives the total', () => {
  const t = phaseTimings([
    step('inputs', 0, 1),
    step('dns', 1, 2),
    step('tcp', 3, 1),
    step('tls', 4, 10),
    step('request', 14, 1),
    step('response', 15, 5, { timings: { requestSentMs: 15, headersMs: 18, firstByteMs: 19, endMs: 20 } }),
    step('verdict', 20, 0, { totalMs: 21 }),
  ], 99);
  assert.ok(t);
  assert.deepEqual(t.rows.map((r) => [r.id, r.startMs, r.endMs]), [
    ['inputs', 0, 1], ['dns', 1, 3], ['tcp', 3, 4], ['tls', 4, 14],
    ['sent', 14, 15], ['headers', 15, 18], ['first-byte', 18, 19], ['body', 19, 20],
  ]);
  assert.equal(t.totalMs, 21);
});

test('running and skipped steps, and timings that are not numbers, leave no row', () => {
  const t = phaseTimings([
    step('dns', 0, 2),
    step('tcp', 2, undefined, undefined, 'running'),
    step('tls', 2, 0, undefined, 'skipped'),
    step('response', 3, 1, { timings: { requestSentMs: 'soon', headersMs: Number.NaN, endMs: 9 } }),
  ], 12);
  assert.ok(t);
  assert.deepEqual(t.rows.map((r) => r.id), ['dns']);
  assert.equal(t.totalMs, 12, 'no verdict: the run duration');
});

test('no finished phase: nothing to show', () => {
  assert.equal(phaseTimings([step('dns', 0, undefined, undefined, 'running')], null), null);
  assert.equal(phaseTimings([], 5), null);
});
