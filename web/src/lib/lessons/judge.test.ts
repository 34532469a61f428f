// "Check my work": a check against runs, and the sentence that names the unmet condition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LabTarget, Step } from '../../../../shared/protocol/index.ts';
import type { TranscriptRun } from '../../../../shared/transcript/transcript.ts';
import type { LessonCheck } from './format.ts';
import { judge, resolveTarget } from './judge.ts';

const LAB: LabTarget[] = [
  { id: 'mtls', title: 'Lab mTLS target', url: 'https://localhost:8443/orders', expect: '' },
  { id: 'issuer', title: 'Lab authorization server', url: 'https://localhost:9443', expect: '' },
  { id: 'no-state', title: 'drops state', url: 'https://localhost:9443/t/no-state', expect: '' },
];

function step(id: string, details: Record<string, unknown>): Step {
  return { id, phase: 'request', status: 'ok', title: id, startMs: 0, details };
}

function run(over: Partial<TranscriptRun> = {}): TranscriptRun {
  return {
    runId: 'r1',
    kind: 'probe',
    target: 'https://localhost:8443/orders',
    outcome: 'pass',
    diagnoses: [],
    durationMs: 5,
    steps: [
      step('inputs', { clientCertificate: { subject: 'CN=acme-coupa-supplier', issuer: 'CN=Harness Lab Client CA 1a2b, O=mTLS Harness Lab' }, chainToSend: ['CN=acme-coupa-supplier'] }),
      step('request', { method: 'POST', headers: { 'Content-Type': 'text/xml' }, bodyBytes: 420 }),
    ],
    ...over,
  };
}

const COUPA: LessonCheck = {
  kind: 'probe',
  target: 'lab:mtls',
  outcome: 'pass',
  evidence: [
    { step: 'request', path: 'method', equals: 'POST', says: 'the request was a POST' },
    { step: 'request', path: 'headers', contains: 'content-type: text/xml' },
    { step: 'inputs', path: 'chainToSend', atLeast: 1 },
    { step: 'inputs', path: 'clientCertificate.subject', contains: 'CN=acme-coupa-supplier' },
  ],
};

test('targets: lab ids resolve through the welcome; query, fragment and trailing slash do not matter', () => {
  assert.equal(resolveTarget('lab:mtls', LAB), 'https://localhost:8443/orders');
  assert.equal(resolveTarget('lab:gone', LAB), null);
  assert.equal(resolveTarget('https://partner.example/orders/?a=1', LAB), 'https://partner.example/orders');
});

const CASES: [string, LessonCheck, TranscriptRun[], boolean, RegExp][] = [
  ['a run that meets every condition solves it', COUPA, [run()], true, /./],
  ['no run of the target at all says so', COUPA, [run({ target: 'https://localhost:9443' })], false, /^no finished run of a probe of lab:mtls/],
  ['another kind does not count', COUPA, [run({ kind: 'flow' })], false, /^no finished run/],
  ['an unfinished run does not count', COUPA, [run({ outcome: 'unfinished' })], false, /^no finished run/],
  ['a failed run names the outcome', COUPA, [run({ outcome: 'fail' })], false, /^the run's outcome is pass$/],
  ['with several unmet, the first in order is named', COUPA, [run({ outcome: 'fail', steps: [] })], false, /^the run's outcome is pass$/],
  ['a GET names the method condition by its own words', COUPA, [run({ steps: [run().steps[0]!, step('request', { method: 'GET', headers: { 'Content-Type': 'text/xml' } })] })], false, /^the request was a POST$/],
  ['a wrong CN names the subject condition', COUPA, [run({ steps: [step('inputs', { clientCertificate: { subject: 'CN=lab-client' }, chainToSend: ['x'] }), run().steps[1]!] })], false, /^step inputs: clientCertificate.subject contains "CN=acme-coupa-supplier"$/],
  ['an empty chain names the length condition', COUPA, [run({ steps: [step('inputs', { clientCertificate: { subject: 'CN=acme-coupa-supplier' }, chainToSend: [] }), run().steps[1]!] })], false, /chainToSend is at least 1$/],
  ['a diagnosis that must be seen', { kind: 'probe', target: 'lab:mtls', diagnoses: ['api_token_rejected'] }, [run()], false, /^the run noted api_token_rejected$/],
  ['a diagnosis that must not be seen', { kind: 'probe', target: 'lab:mtls', withoutDiagnoses: ['clock_skew'] }, [run({ diagnoses: ['clock_skew'] })], false, /did not end with clock_skew$/],
  ['a tenant under the issuer is not the issuer, and the miss says where the run went', { kind: 'probe', target: 'lab:issuer' }, [run({ target: 'https://localhost:9443/t/no-state?x=1' })], false, /^no finished run of a probe of lab:issuer since the lesson was set up \(your last probe went to https:\/\/localhost:9443\/t\/no-state\)$/],
  ['no run at all says to set up and run', { kind: 'probe', target: 'lab:mtls' }, [], false, /: set it up, then press Run$/],
  ['a target the lab lacks says to start the lab', { kind: 'probe', target: 'lab:gone' }, [run()], false, /has no target lab:gone/],
  ['exists: false holds for a missing path', { kind: 'probe', target: 'lab:mtls', evidence: [{ path: 'clientCertificate.serialNumber', exists: false }] }, [run()], true, /./],
  ['a path through a prototype member is not evidence', { kind: 'probe', target: 'lab:mtls', evidence: [{ path: 'clientCertificate.constructor', exists: true }] }, [run()], false, /constructor is present$/],
];

for (const [name, check, runs, solved, unmet] of CASES) {
  test(name, () => {
    const v = judge(check, runs, LAB);
    assert.equal(v.solved, solved, JSON.stringify(v));
    if (!v.solved) assert.match(v.unmet, unmet);
  });
}

test('the closest run speaks: a newer run that met fewer conditions does not hide an older near miss', () => {
  const near = run({ runId: 'near', steps: [step('inputs', { clientCertificate: { subject: 'CN=lab-client' }, chainToSend: ['x'] }), run().steps[1]!] });
  const far = run({ runId: 'far', outcome: 'fail', steps: [] });
  const v = judge(COUPA, [far, near], LAB);
  assert.equal(v.solved, false);
  assert.equal(v.runId, 'near');
  assert.ok(!v.solved && /CN=acme-coupa-supplier/.test(v.unmet));
  assert.ok(v.met.includes('the request was a POST'));
});

test('any solving run solves it, even behind newer failing ones', () => {
  const v = judge(COUPA, [run({ runId: 'new', outcome: 'fail' }), run({ runId: 'old' })], LAB);
  assert.deepEqual([v.solved, v.runId], [true, 'old']);
});
