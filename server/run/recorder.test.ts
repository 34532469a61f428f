import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StepRecorder } from './recorder.ts';
import type { Step } from '../../shared/protocol/index.ts';

test('with a running notice, quick steps arrive once, finished; slow ones and the first step as they start', async () => {
  const sent: Step[] = [];
  const rec = new StepRecorder((s) => sent.push(s), performance.now(), { runningNoticeMs: 20 });
  rec.start('inputs', 'inputs', 'Inputs').finish('ok');
  const quick = rec.start('dns', 'dns', 'DNS');
  await new Promise((ok) => setTimeout(ok, 2));
  quick.finish('ok');
  const slow = rec.start('tcp', 'tcp', 'TCP');
  await new Promise((ok) => setTimeout(ok, 60));
  slow.finish('fail');
  const hanging = rec.start('tls', 'tls', 'TLS handshake');
  rec.amend('tls', 'skipped', { summary: 'cancelled' });
  await new Promise((ok) => setTimeout(ok, 40));
  assert.deepEqual(sent.map((s) => `${s.id}:${s.status}`), ['inputs:running', 'inputs:ok', 'dns:ok', 'tcp:running', 'tcp:fail', 'tls:skipped']);
  assert.equal(rec.get('tls')?.status, 'skipped');
  assert.ok(hanging);
});

test('without one, every step is sent as it starts', () => {
  const sent: string[] = [];
  const rec = new StepRecorder((s) => sent.push(`${s.id}:${s.status}`));
  rec.start('a', 'inputs', 'A').finish('ok');
  rec.start('b', 'dns', 'B').finish('ok');
  assert.deepEqual(sent, ['a:running', 'a:ok', 'b:running', 'b:ok']);
});

test('planned steps never reached are skipped in plan order; running ones end as skipped', () => {
  const sent: string[] = [];
  const rec = new StepRecorder((s) => sent.push(`${s.id}:${s.status}${s.summary ? `:${s.summary}` : ''}`));
  rec.plan([['dns', 'dns', 'DNS'], ['tcp', 'tcp', 'TCP'], ['tls', 'tls', 'TLS'], ['request', 'request', 'Request']]);
  rec.start('dns', 'dns', 'DNS').finish('ok');
  rec.start('tcp', 'tcp', 'TCP');
  rec.skipRunning('cancelled');
  rec.skipUnreached('not reached');
  assert.deepEqual(sent, ['dns:running', 'dns:ok', 'tcp:running', 'tcp:skipped:cancelled', 'tls:skipped:not reached', 'request:skipped:not reached']);
  assert.deepEqual(rec.steps().map((s) => s.id), ['dns', 'tcp', 'tls', 'request']);
});
