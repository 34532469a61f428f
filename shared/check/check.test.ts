// The server check's pure parts, table-driven: judging a finished probe, grading, the request
// checks and the fix lines quoted from the generated snippets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Step } from '../protocol/index.ts';
import { MTLS_CASES, MTLS_CASE_IDS, caseEntry, GRADES, type CustomCase } from './cases.ts';
import { judgeCase, type FinishedProbe } from './judge.ts';
import { gradeCheck, type JudgedCase } from './grade.ts';
import { CheckInputError, checkCustomCases, checkDepth, checkRule, checkTarget, checkCaPems } from './request.ts';
import { caseFix, installSnippets } from './install.ts';

// ---- finished probes as the relay emits them ------------------------------------------

function step(id: string, status: Step['status'], extra: Partial<Step> = {}): Step {
  return { id, phase: id as Step['phase'], status, title: id, startMs: 0, durationMs: 1, ...extra } as Step;
}
const fix = { client: 'c', server: 's' };
const PASS: FinishedProbe = {
  outcome: 'pass', diagnoses: [],
  steps: [step('inputs', 'ok'), step('tls', 'ok'), step('response', 'ok', { details: { status: 200 } }), step('verdict', 'ok', { summary: 'HTTP 200' })],
};
const ALERT: FinishedProbe = {
  outcome: 'fail', diagnoses: ['client_cert_unknown_ca'],
  steps: [step('inputs', 'ok'), step('tls', 'fail', { diagnosis: { code: 'client_cert_unknown_ca', summary: 'x', evidence: ['TLS alert 48 (unknown_ca) received from the server'], fix } }), step('verdict', 'fail')],
};
const NGINX_400: FinishedProbe = {
  outcome: 'fail', diagnoses: ['client_cert_expired'],
  steps: [step('inputs', 'ok'), step('tls', 'fail'), step('response', 'fail', { details: { status: 400, body: '<html><head><title>400 The SSL certificate error</title></head><body>…</body></html>' } }), step('verdict', 'fail')],
};
const RULE_403: FinishedProbe = {
  outcome: 'fail', diagnoses: ['access_denied'],
  steps: [step('inputs', 'ok'), step('tls', 'ok'), step('response', 'fail', { details: { status: 403, body: 'Forbidden' } }), step('verdict', 'fail')],
};
const NOT_FOUND: FinishedProbe = {
  outcome: 'fail', diagnoses: ['http_error'],
  steps: [step('inputs', 'ok'), step('tls', 'ok'), step('response', 'fail', { details: { status: 404, body: 'no such page' } }), step('verdict', 'fail', { summary: 'HTTP 404' })],
};
const SERVER_UNTRUSTED: FinishedProbe = {
  outcome: 'fail', diagnoses: ['server_cert_untrusted'],
  steps: [step('inputs', 'ok'), step('tls', 'fail'), step('verdict', 'fail', { summary: 'the server certificate is not trusted' })],
};
const BAD_INPUT: FinishedProbe = {
  outcome: 'fail', diagnoses: ['input_invalid'],
  steps: [step('inputs', 'fail', { summary: 'the key does not match the certificate' }), step('verdict', 'fail')],
};
const CANCELLED: FinishedProbe = { outcome: 'error', diagnoses: [], steps: [step('inputs', 'ok')] };

const judgements: { name: string; expect: 'accept' | 'refuse'; probe: FinishedProbe; verdict: string; evidence?: RegExp }[] = [
  { name: 'valid accepted', expect: 'accept', probe: PASS, verdict: 'enforced', evidence: /^HTTP 200$/ },
  { name: 'valid refused with an alert', expect: 'accept', probe: ALERT, verdict: 'not_enforced', evidence: /TLS alert 48/ },
  { name: 'bad certificate refused with an alert (Apache)', expect: 'refuse', probe: ALERT, verdict: 'enforced', evidence: /TLS alert 48/ },
  { name: 'bad certificate refused with nginx\'s 400 page', expect: 'refuse', probe: NGINX_400, verdict: 'enforced', evidence: /error page: 400 The SSL certificate error/ },
  { name: 'wrong subject refused by the rule\'s 403', expect: 'refuse', probe: RULE_403, verdict: 'enforced', evidence: /^HTTP 403$/ },
  { name: 'bad certificate accepted', expect: 'refuse', probe: PASS, verdict: 'not_enforced', evidence: /^HTTP 200$/ },
  { name: 'a 404 is neither', expect: 'refuse', probe: NOT_FOUND, verdict: 'inconclusive', evidence: /HTTP 404/ },
  { name: 'the server\'s own certificate failing is neither', expect: 'accept', probe: SERVER_UNTRUSTED, verdict: 'inconclusive' },
  { name: 'inputs the harness cannot use', expect: 'refuse', probe: BAD_INPUT, verdict: 'inconclusive' },
  { name: 'cancelled', expect: 'refuse', probe: CANCELLED, verdict: 'inconclusive' },
];

for (const j of judgements) {
  test(`judge: ${j.name} → ${j.verdict}`, () => {
    const r = judgeCase(j.expect, j.probe);
    assert.equal(r.verdict, j.verdict, r.reason);
    if (j.evidence) assert.ok(r.evidence.some((e) => j.evidence!.test(e)), r.evidence.join(' | '));
  });
}

test('the last event of a step wins (an amended TLS step)', () => {
  const amended: FinishedProbe = { ...PASS, steps: [...PASS.steps, step('response', 'fail', { details: { status: 403 } })], outcome: 'fail', diagnoses: [] };
  assert.equal(judgeCase('refuse', amended).verdict, 'enforced');
});

// ---- grading ----------------------------------------------------------------------------

function allEnforced(): JudgedCase[] {
  return MTLS_CASE_IDS.map((id) => ({ id, verdict: 'enforced', reason: 'as required' }));
}
function withVerdicts(changes: Record<string, 'not_enforced' | 'inconclusive'>): JudgedCase[] {
  return allEnforced().map((c) => (changes[c.id] ? { ...c, verdict: changes[c.id]!, reason: `${changes[c.id]} reason` } : c));
}

const grades: { name: string; cases: JudgedCase[]; grade: string | null; summary: RegExp }[] = [
  { name: 'everything enforced', cases: allEnforced(), grade: 'A', summary: /grade A — 13\/13 cases as required$/ },
  { name: 'valid refused', cases: withVerdicts({ valid: 'not_enforced' }), grade: 'F', summary: /NOT enforced: valid/ },
  { name: 'untrusted CA accepted', cases: withVerdicts({ untrusted_ca: 'not_enforced' }), grade: 'F', summary: /untrusted_ca \(accepts certificates from any CA\)/ },
  { name: 'self-signed accepted', cases: withVerdicts({ self_signed: 'not_enforced' }), grade: 'F', summary: /self_signed/ },
  { name: 'expired accepted', cases: withVerdicts({ expired: 'not_enforced' }), grade: 'F', summary: /expired/ },
  { name: 'no certificate accepted', cases: withVerdicts({ no_certificate: 'not_enforced' }), grade: 'F', summary: /no_certificate/ },
  { name: 'no revocation checking', cases: withVerdicts({ revoked: 'not_enforced' }), grade: 'B', summary: /grade B .*revoked \(accepts revoked/ },
  { name: 'no subject rule', cases: withVerdicts({ wrong_subject: 'not_enforced' }), grade: 'C', summary: /grade C/ },
  { name: 'leaf without intermediate refused', cases: withVerdicts({ leaf_without_intermediate: 'not_enforced' }), grade: 'B', summary: /leaf_without_intermediate \(refuses a valid certificate sent without its intermediate/ },
  { name: 'depth too large', cases: withVerdicts({ chain_too_deep: 'not_enforced' }), grade: 'B', summary: /chain_too_deep/ },
  { name: 'the lowest cap wins', cases: withVerdicts({ revoked: 'not_enforced', wrong_subject: 'not_enforced', chain_too_deep: 'not_enforced' }), grade: 'C', summary: /revoked .*wrong_subject .*chain_too_deep/ },
  { name: 'weak key not sendable: no cap', cases: withVerdicts({ weak_key: 'inconclusive' }), grade: 'A', summary: /grade A .*inconclusive: weak_key/ },
  { name: 'another case inconclusive: B', cases: withVerdicts({ expired: 'inconclusive' }), grade: 'B', summary: /inconclusive: expired/ },
  { name: 'valid inconclusive: no grade', cases: withVerdicts({ valid: 'inconclusive' }), grade: null, summary: /no grade — the valid certificate did not get through \(inconclusive reason\)/ },
];

for (const g of grades) {
  test(`grade: ${g.name} → ${g.grade ?? 'none'}`, () => {
    const r = gradeCheck('https://partner.example/', g.cases);
    assert.equal(r.grade, g.grade, r.summary);
    assert.match(r.summary, g.summary);
    assert.doesNotMatch(r.summary, /\n/);
  });
}

test('a custom case caps at its own grade (default C)', () => {
  const custom: CustomCase[] = [{ title: 'old partner cert', expect: 'refuse', certificatePem: '', privateKeyPem: '' }, { title: 'new', expect: 'accept', certificatePem: '', privateKeyPem: '', capIfNotEnforced: 'D' }];
  const cases: JudgedCase[] = [...allEnforced(), { id: 'custom-1', verdict: 'not_enforced', reason: 'accepted' }, { id: 'custom-2', verdict: 'not_enforced', reason: 'refused' }];
  const r = gradeCheck('https://x/', cases, custom);
  assert.equal(r.grade, 'D');
  assert.match(r.summary, /custom-1 \(accepts "old partner cert"\); custom-2 \(refuses "new"\)/);
});

test('the catalogue: every case has what the screen and the grade need', () => {
  for (const [id, c] of Object.entries(MTLS_CASES)) {
    assert.match(id, /^[a-z_]+$/);
    assert.ok(GRADES.includes(c.capIfNotEnforced) && GRADES.includes(c.capIfInconclusive), id);
    assert.ok(c.proves.length > 20 && c.weakness.length > 10 && c.fix.text.length > 10, id);
    assert.ok(c.fix.apache.length && c.fix.nginx.length, id);
  }
  assert.equal(caseEntry('custom-1'), undefined);
  assert.equal(caseEntry('nope'), undefined);
});

// ---- request checks ---------------------------------------------------------------------

const refusals: { name: string; run: () => unknown; field: string; message: RegExp }[] = [
  { name: 'http URL', run: () => checkTarget('http://partner.example/'), field: 'url', message: /https:\/\/ URL, not http:/ },
  { name: 'not a URL', run: () => checkTarget('partner'), field: 'url', message: /is not a URL/ },
  { name: 'URL with a password', run: () => checkTarget('https://u:p@partner.example/'), field: 'url', message: /user name or password/ },
  { name: 'rule with both names', run: () => checkRule({ cnEquals: 'a', sanDnsEquals: 'b.example' }), field: 'rule', message: /exactly one of/ },
  { name: 'rule of another kind', run: () => checkRule({ cnMatches: 'a.*' }), field: 'rule', message: /CN equals/ },
  { name: 'empty CN', run: () => checkRule({ cnEquals: '' }), field: 'rule.cnEquals', message: /non-empty/ },
  { name: 'CN with a quote', run: () => checkRule({ cnEquals: 'a"b' }), field: 'rule.cnEquals', message: /without quotes/ },
  { name: 'CN too long', run: () => checkRule({ cnEquals: 'x'.repeat(65) }), field: 'rule.cnEquals', message: /at most 64/ },
  { name: 'SAN not a DNS name', run: () => checkRule({ sanDnsEquals: 'not a name' }), field: 'rule.sanDnsEquals', message: /DNS name/ },
  { name: 'depth 0', run: () => checkDepth(0), field: 'verifyDepth', message: /from 1 to 9/ },
  { name: 'depth 10', run: () => checkDepth(10), field: 'verifyDepth', message: /from 1 to 9/ },
  { name: 'depth 2.5', run: () => checkDepth(2.5), field: 'verifyDepth', message: /integer/ },
  { name: 'CA without the intermediate key', run: () => checkCaPems({ rootCertificatePem: '-----BEGIN CERTIFICATE-----', rootPrivateKeyPem: '-----BEGIN PRIVATE KEY-----', intermediateCertificatePem: '-----BEGIN CERTIFICATE-----' }), field: 'ca.intermediatePrivateKeyPem', message: /private key/ },
  { name: 'custom case without expectation', run: () => checkCustomCases([{ title: 't', certificatePem: '-----BEGIN CERTIFICATE-----', privateKeyPem: '-----BEGIN PRIVATE KEY-----' }], 8), field: 'custom[0].expect', message: /accept" or "refuse/ },
  { name: 'too many custom cases', run: () => checkCustomCases(Array.from({ length: 9 }, () => ({})), 8), field: 'custom', message: /at most 8/ },
];

for (const r of refusals) {
  test(`refused: ${r.name} (names ${r.field})`, () => {
    assert.throws(r.run, (err: unknown) => err instanceof CheckInputError && err.field === r.field && r.message.test(err.message) && err.message.startsWith(`${r.field}: `));
  });
}

test('accepted rules and depths come back as the generator takes them', () => {
  assert.deepEqual(checkRule({ cnEquals: 'cxml-supplier.coupahost.com' }), { cnEquals: 'cxml-supplier.coupahost.com' });
  assert.deepEqual(checkRule({ sanDnsEquals: 'Client.Example.com' }), { sanDnsEquals: 'client.example.com' });
  assert.equal(checkDepth(1), 1);
  assert.equal(checkDepth(9), 9);
});

// ---- fixes quote the generated snippets -------------------------------------------------

const fixes: { id: string; apache: RegExp; nginx: RegExp }[] = [
  { id: 'revoked', apache: /^SSLCARevocationFile "\/etc\/ssl\/harness-check\/check-crl.pem"\nSSLCARevocationCheck chain$/, nginx: /^ssl_crl "\/etc\/ssl\/harness-check\/check-crl.pem";$/ },
  { id: 'chain_too_deep', apache: /^SSLVerifyDepth 3$/, nginx: /^ssl_verify_depth 2;$/ },
  { id: 'wrong_subject', apache: /^Require expr %\{SSL_CLIENT_S_DN_CN\} == "cxml-supplier.coupahost.com"$/, nginx: /^if \(\$ssl_client_s_dn !~ .*\) \{\nreturn 403;$/ },
  { id: 'untrusted_ca', apache: /^SSLVerifyClient require\nSSLCACertificateFile .*check-ca.pem"$/, nginx: /^ssl_verify_client on;\nssl_client_certificate .*check-ca.pem";$/ },
  { id: 'weak_key', apache: /^SSLCipherSuite$/, nginx: /^ssl_ciphers$/ },
];

for (const f of fixes) {
  test(`fix for ${f.id} quotes the check's snippet`, () => {
    const fx = caseFix(f.id, installSnippets({ cnEquals: 'cxml-supplier.coupahost.com' }, 3))!;
    assert.match(fx.apache.join('\n'), f.apache);
    assert.match(fx.nginx.join('\n'), f.nginx);
  });
}

test('docs/server-check.md lists every case with its caps', async () => {
  const { readFileSync } = await import('node:fs');
  const doc = readFileSync(new URL('../../docs/server-check.md', import.meta.url), 'utf8');
  for (const [id, c] of Object.entries(MTLS_CASES)) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${id}\` |`));
    assert.ok(row, `${id} has a row`);
    const cells = row.split('|').map((x) => x.trim());
    assert.equal(cells[3], c.expect, id);
    assert.equal(cells[5], c.capIfNotEnforced, id);
    if (id !== 'valid') assert.equal(cells[6], c.capIfInconclusive, id);
  }
});
