// The JWT check's pure parts: the catalogue, judging a token flow's answer, the grade and summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Step } from '../protocol/index.ts';
import { GRADES } from './cases.ts';
import { JWT_CASE_IDS, JWT_CASES, JWT_CHECK_KINDS, jwtCasesFor } from './jwt-cases.ts';
import { judgeTokenCase } from './jwt-judge.ts';
import type { FinishedProbe } from './judge.ts';
import { gradeCheck, JWT_CATALOGUE } from './grade.ts';

function flow(outcome: FinishedProbe['outcome'], exchange: Partial<Step> | null, opts: { inputsFail?: boolean; diagnoses?: string[] } = {}): FinishedProbe {
  const steps: Step[] = [{ id: 'inputs', phase: 'inputs', title: 'Inputs', status: opts.inputsFail ? 'fail' : 'ok', summary: opts.inputsFail ? 'jwt_token: not a JWT' : 'ready' } as Step];
  if (exchange) steps.push({ id: 'exchange', phase: 'exchange', title: 'Token request', status: 'ok', ...exchange } as Step);
  return { outcome, diagnoses: opts.diagnoses ?? [], steps };
}
const answer = (status: number, body: unknown, stepStatus: Step['status']) => ({ status: stepStatus, details: { response: { status, body: JSON.stringify(body) } } }) as Partial<Step>;

const JUDGED: [name: string, expect: 'accept' | 'refuse', probe: FinishedProbe, verdict: string, evidence: RegExp][] = [
  ['valid assertion, token issued', 'accept', flow('pass', answer(200, { access_token: '[redacted]' }, 'ok')), 'enforced', /HTTP 200/],
  ['valid assertion accepted, later API step failed: still accepted', 'accept', flow('fail', answer(200, {}, 'warn'), { diagnoses: ['api_token_rejected'] }), 'enforced', /HTTP 200/],
  ['valid assertion refused', 'accept', flow('fail', answer(401, { error: 'invalid_client', error_description: 'client authentication failed' }, 'fail')), 'not_enforced', /error: invalid_client — client authentication failed/],
  ['alg none refused with invalid_grant', 'refuse', flow('fail', answer(400, { error: 'invalid_grant' }, 'fail')), 'enforced', /HTTP 400.*error: invalid_grant/],
  ['alg none refused with 403', 'refuse', flow('fail', answer(403, 'forbidden', 'fail')), 'enforced', /HTTP 403/],
  ['alg none accepted', 'refuse', flow('pass', answer(200, {}, 'ok')), 'not_enforced', /HTTP 200/],
  ['a 404 (wrong URL) is neither', 'refuse', flow('fail', answer(404, { error: 'not_found' }, 'fail')), 'inconclusive', /HTTP 404/],
  ['a 500 is neither', 'refuse', flow('fail', answer(500, { error: 'server_error' }, 'fail')), 'inconclusive', /HTTP 500/],
  ['no answer (TLS failed) is neither', 'refuse', flow('fail', { status: 'fail', summary: 'server certificate untrusted' }), 'inconclusive', /^$/],
  ['inputs the harness could not use', 'refuse', flow('fail', null, { inputsFail: true }), 'inconclusive', /^$/],
  ['cancelled', 'refuse', flow('error', null), 'inconclusive', /^$/],
];

for (const [name, expect, probe, verdict, evidence] of JUDGED) {
  test(`judge token case: ${name} → ${verdict}`, () => {
    const j = judgeTokenCase(expect, probe);
    assert.equal(j.verdict, verdict, j.reason);
    assert.match(j.evidence.join(' '), evidence);
  });
}

const all = (over: Record<string, 'enforced' | 'not_enforced' | 'inconclusive'> = {}) =>
  jwtCasesFor('private_key_jwt').map((id) => ({ id, verdict: over[id] ?? 'enforced', reason: 'r' }));

const GRADED: [name: string, cases: ReturnType<typeof all>, grade: string | null, summary: RegExp][] = [
  ['everything enforced', all(), 'A', /^JWT check of T: grade A — 16\/16 cases as required$/],
  ['alg none accepted', all({ alg_none: 'not_enforced' }), 'F', /grade F — 15\/16 .*NOT enforced: alg_none \(accepts unsigned assertions \(alg none\)\)/],
  ['algorithm confusion', all({ hs256_public_key: 'not_enforced' }), 'F', /NOT enforced: hs256_public_key/],
  ['wrong aud accepted', all({ wrong_aud: 'not_enforced' }), 'D', /grade D/],
  ['no replay cache', all({ replayed_jti: 'not_enforced' }), 'B', /grade B/],
  ['no lifetime limit and iat unchecked (oidc-provider\'s default)', all({ long_lifetime: 'not_enforced', iat_future: 'not_enforced' }), 'B', /NOT enforced: iat_future .*; long_lifetime/],
  ['a case inconclusive caps at B', all({ unknown_crit: 'inconclusive' }), 'B', /inconclusive: unknown_crit/],
  ['valid inconclusive: no grade', all({ valid: 'inconclusive' }), null, /no grade — the valid assertion did not get through \(r\)/],
];

for (const [name, cases, grade, summary] of GRADED) {
  test(`JWT grade: ${name} → ${grade ?? 'none'}`, () => {
    const g = gradeCheck('T', cases, [], JWT_CATALOGUE);
    assert.equal(g.grade, grade);
    assert.match(g.summary, summary);
  });
}

test('the JWT catalogue: valid first and the replay right after; every kind has its cases; sub only for client authentication', () => {
  for (const kind of JWT_CHECK_KINDS) {
    const ids = jwtCasesFor(kind);
    assert.deepEqual(ids.slice(0, 2), ['valid', 'replayed_jti'], kind);
    assert.equal(ids.includes('wrong_sub'), kind === 'private_key_jwt', kind);
  }
  for (const id of JWT_CASE_IDS) {
    const c = JWT_CASES[id];
    assert.ok(c.title && c.proves && c.weakness && c.fix.text, id);
    assert.ok(GRADES.includes(c.capIfNotEnforced) && GRADES.includes(c.capIfInconclusive), id);
    assert.equal(c.expect, id === 'valid' ? 'accept' : 'refuse', id);
  }
});

test('docs/server-check.md lists every JWT case with its caps', () => {
  const doc = readFileSync(new URL('../../docs/server-check.md', import.meta.url), 'utf8');
  const jwtPart = doc.slice(doc.indexOf('# JWT / token endpoint check'));
  for (const [id, c] of Object.entries(JWT_CASES)) {
    const row = jwtPart.split('\n').find((l) => l.startsWith(`| \`${id}\` |`));
    assert.ok(row, `${id} has a row`);
    const cells = row.split('|').map((x) => x.trim());
    assert.equal(cells[4], c.capIfNotEnforced, id);
    if (id !== 'valid') assert.equal(cells[5], c.capIfInconclusive, id);
  }
});
