// The protected-resource half of the JWT check against the lab's API: the strict API refuses a
// tampered token, an unsigned one, and a certificate-bound token without or with another
// certificate (grade A); each API weakness tenant is caught by exactly its cases.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckReport } from '../../shared/check/messages.ts';
import { CheckInputError } from '../../shared/check/request.ts';
import { validateLimits } from '../defaults.ts';
import { startLab, type RunningLab } from '../lab/lab.ts';
import { boundLabToken, labToken } from '../testing/lab-token.ts';
import { runResourceCheck, type ResourceCheckRequest } from './resource-check.ts';

let lab: RunningLab;
let boundToken: string;
let plainToken: string;

before(async () => {
  lab = await startLab({ dataDir: await mkdtemp(join(tmpdir(), 'harness-resource-check-')) });
  boundToken = await boundLabToken(lab);
  plainToken = await labToken(lab, 'grant_type=client_credentials', { basic: 'lab-basic:lab-basic-secret' });
});

after(async () => {
  await lab.close();
});

const api = (tenant = '') => `${lab.tokens!.issuer}${tenant ? `/t/${tenant}` : ''}/api/resource`;
const bound = (tenant = ''): ResourceCheckRequest => ({ url: api(tenant), accessToken: boundToken, client: lab.tokens!.demo.selfSigned, caPem: lab.serverCaPem });
const plain = (tenant = ''): ResourceCheckRequest => ({ url: api(tenant), accessToken: plainToken, caPem: lab.serverCaPem });
const check = (req: ResourceCheckRequest) => runResourceCheck(req, { limits: validateLimits() });
const notEnforced = (r: CheckReport) => r.cases.filter((c) => c.verdict === 'not_enforced').map((c) => c.caseId).sort();

test('the lab\'s API refuses tampered, unsigned and mis-bound tokens: grade A', async () => {
  const b = await check(bound());
  assert.equal(b.grade, 'A', b.summary);
  assert.deepEqual(b.cases.map((c) => [c.caseId, c.observed]), [
    ['valid', 'accepted'], ['tampered', 'refused'], ['alg_none', 'refused'], ['bound_without_certificate', 'refused'], ['bound_other_certificate', 'refused'],
  ]);
  assert.match(b.summary, /^Resource check of https:\/\/localhost:\d+\/api\/resource: grade A — 5\/5 cases as required$/);
  const p = await check(plain());
  assert.equal(p.grade, 'A', p.summary);
  assert.deepEqual(p.cases.map((c) => c.caseId), ['valid', 'tampered', 'alg_none'], 'binding cases only for a bound token');
});

test('each lab API weakness is caught by exactly its cases', async () => {
  for (const [req, want, grade] of [
    [plain('api-unverified'), ['alg_none', 'tampered'], 'F'],
    [bound('api-unverified'), ['alg_none', 'tampered'], 'F'],
    [bound('api-unbound'), ['bound_other_certificate', 'bound_without_certificate'], 'D'],
    [plain('api-unbound'), [], 'A'],
  ] as const) {
    const r = await check(req);
    assert.deepEqual(notEnforced(r), want, r.summary);
    assert.equal(r.grade, grade, r.summary);
  }
});

test('bad input is refused with the field named; the token and key never reach the report', async () => {
  const other = lab.tokens!.demo.selfSigned;
  for (const [req, field] of [
    [{ ...plain(), url: 'http://localhost/api' }, 'url'],
    [{ ...plain(), accessToken: 'opaque-token-value' }, 'accessToken'],
    [{ ...bound(), client: undefined }, 'client'],
    [{ ...plain(), client: { certificatePem: 'x', privateKeyPem: other.privateKeyPem } }, 'client.certificatePem'],
  ] as const) {
    await assert.rejects(check(req as ResourceCheckRequest), (err: unknown) => err instanceof CheckInputError && err.field === field && !err.message.includes('PRIVATE KEY'));
  }
  const r = await check(bound());
  const text = JSON.stringify(r);
  const [, payload, sig] = boundToken.split('.');
  assert.ok(!text.includes(sig!) && !text.includes(payload!), 'no token (or its tampered copies) in the report');
  assert.ok(!text.includes('PRIVATE KEY'), 'no key');
});
