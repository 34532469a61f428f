// The mTLS server check against the servers partners run, configured with the install kit's own
// snippets (shared/server-config.ts): configured as the kit says, Apache and nginx grade A with
// every case enforced; each deliberate weakness is caught by exactly the cases it should.
// Heavy: run it alone (node --import tsx --test server/check/check-real-servers.test.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { makeTestPki, type TestPki } from '../testing/test-pki.ts';
import { startApache, type ApacheServer } from '../testing/apache.ts';
import { startNginx, type NginxServer } from '../testing/nginx.ts';
import { opensslServer, type Peer } from '../testing/peers.ts';
import { clientSendsRsa1024 } from '../testing/check-ca.ts';
import { validateLimits } from '../defaults.ts';
import { MTLS_CASE_IDS } from '../../shared/check/cases.ts';
import type { MtlsCheckRequest } from '../../shared/check/request.ts';
import type { CheckReport } from '../../shared/check/messages.ts';
import { installKit, prepareCheck, type InstallKit } from './prepare.ts';
import { runCheck } from './run-check.ts';
import { makeCheckCa, writeKit } from '../testing/check-ca.ts';

const RULE = { cnEquals: 'cxml-supplier.coupahost.com' };
const DEPTH = 2;

let pki: TestPki;
let base: Omit<MtlsCheckRequest, 'url'>;
let kit: InstallKit;
/** The same CA and depth with a subjectAltName rule instead of the CN rule. */
let sanKit: InstallKit;
const SAN_RULE = { sanDnsEquals: 'cxml-supplier.coupahost.com' };
let kitDir: string;
let paths: Record<string, string>;
let apache: ApacheServer<string>;
let nginx: NginxServer<string>;
let sServer: Peer;

/** The kit's snippet with this machine's files and the port the launcher chose. */
function localised(snippet: string): string {
  return snippet
    .replace('/etc/ssl/harness-check/check-ca.pem', paths['check-ca.pem']!)
    .replace('/etc/ssl/harness-check/check-crl.pem', paths['check-crl.pem']!)
    .replace('/etc/ssl/private/server.pem', pki.server.certFile)
    .replace('/etc/ssl/private/server.key', pki.server.keyFile);
}

function edit(snippet: string, ...edits: [RegExp | string, string][]): string {
  let out = snippet;
  for (const [from, to] of edits) {
    const next = out.replace(from, to);
    assert.notEqual(next, out, `the snippet no longer contains ${String(from)}`);
    out = next;
  }
  return out;
}

const APACHE_WEAKNESSES = {
  good: [],
  noCrl: [[/ {2}SSLCARevocationFile .*\n {2}SSLCARevocationCheck chain\n/, '']],
  noRule: [[/ {2}<Location "\/">[\s\S]*?<\/Location>\n/, '']],
  tooDeep: [[`SSLVerifyDepth ${DEPTH}`, `SSLVerifyDepth ${DEPTH + 1}`]],
} as const satisfies Record<string, readonly [RegExp | string, string][]>;

const NGINX_WEAKNESSES = {
  good: [],
  optionalNoCa: [['ssl_verify_client on;', 'ssl_verify_client optional_no_ca;']],
  noCrl: [[/ {2}ssl_crl .*\n/, '']],
  noRule: [[/ {2}if \(\$ssl_client_s_dn[\s\S]*?\n {2}\}\n/, '']],
  tooDeep: [[`ssl_verify_depth ${DEPTH - 1};`, `ssl_verify_depth ${DEPTH};`]],
} as const satisfies Record<string, readonly [RegExp | string, string][]>;

before(async () => {
  pki = await makeTestPki();
  base = { ca: await makeCheckCa(), rule: RULE, verifyDepth: DEPTH, caPem: pki.serverCa.cert };
  kit = await installKit(await prepareCheck({ ...base, url: 'https://127.0.0.1/' }));
  ({ dir: kitDir, paths } = await writeKit(kit));
  sanKit = await installKit(await prepareCheck({ ...base, rule: SAN_RULE, url: 'https://127.0.0.1/' }));
  assert.deepEqual(sanKit.files.map((f) => f.name), kit.files.map((f) => f.name));
  const apacheSites: Record<string, (port: number) => string> = {};
  for (const [name, edits] of Object.entries(APACHE_WEAKNESSES)) {
    apacheSites[name] = (port) => edit(localised(kit.apache), ['<VirtualHost *:443>', `<VirtualHost *:${port}>`], ...edits);
  }
  apacheSites.sanRule = (port) => edit(localised(sanKit.apache), ['<VirtualHost *:443>', `<VirtualHost *:${port}>`]);
  const nginxSites: Record<string, (port: number) => string> = {};
  nginxSites.sanRule = (port) => edit(localised(sanKit.nginx), ['listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`]);
  for (const [name, edits] of Object.entries(NGINX_WEAKNESSES)) {
    nginxSites[name] = (port) => edit(localised(kit.nginx), ['listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`], ...edits);
  }
  [apache, nginx, sServer] = await Promise.all([
    startApache({ sites: apacheSites }),
    startNginx({ sites: nginxSites }),
    // Asks for a certificate and requires one, but without -verify_return_error it carries on
    // whatever the verification says.
    opensslServer(['-cert', pki.server.certFile, '-key', pki.server.keyFile, '-CAfile', paths['check-ca.pem']!, '-Verify', '3', '-www']),
  ]);
});

after(async () => {
  await Promise.all([apache?.stop(), nginx?.stop(), sServer?.close(), rm(kitDir, { recursive: true, force: true })]);
});

async function check(url: string, rule: MtlsCheckRequest['rule'] = RULE): Promise<CheckReport> {
  return runCheck({ ...base, rule, url }, { limits: validateLimits() });
}

function notEnforced(report: CheckReport): string[] {
  return report.cases.filter((c) => c.verdict !== 'enforced').map((c) => `${c.caseId}:${c.verdict}`).sort();
}

/** On an OpenSSL that will not send a 1024-bit RSA key (Node 24), weak_key is inconclusive wherever it runs. */
const WEAK_KEY_UNSENDABLE = (await clientSendsRsa1024()) ? [] : ['weak_key:inconclusive'];

const ALL_CERT_CHECKS = ['expired', 'not_yet_valid', 'revoked', 'server_auth_only', 'no_digital_signature', 'untrusted_ca', 'self_signed', 'chain_too_deep', 'weak_key'];

const EXPECTED: { server: 'apache' | 'nginx'; site: string; grade: string; notEnforced: string[]; rule?: MtlsCheckRequest['rule'] }[] = [
  { server: 'apache', site: 'sanRule', grade: 'A', notEnforced: [], rule: SAN_RULE },
  // nginx has no variable for the client's subjectAltName: its snippet says the rule is not enforced.
  { server: 'nginx', site: 'sanRule', grade: 'C', notEnforced: ['wrong_subject'], rule: SAN_RULE },
  { server: 'apache', site: 'good', grade: 'A', notEnforced: [] },
  { server: 'apache', site: 'noCrl', grade: 'B', notEnforced: ['revoked'] },
  { server: 'apache', site: 'noRule', grade: 'C', notEnforced: ['wrong_subject'] },
  { server: 'apache', site: 'tooDeep', grade: 'B', notEnforced: ['chain_too_deep'] },
  { server: 'nginx', site: 'good', grade: 'A', notEnforced: [] },
  // optional_no_ca lets through only "no CA" verification errors (unknown issuer): the other
  // checks still answer 400, the self-signed leaf fails the CRL lookup, no certificate meets
  // the subject rule's 403.
  { server: 'nginx', site: 'optionalNoCa', grade: 'F', notEnforced: ['untrusted_ca'] },
  { server: 'nginx', site: 'noCrl', grade: 'B', notEnforced: ['revoked'] },
  { server: 'nginx', site: 'noRule', grade: 'C', notEnforced: ['wrong_subject'] },
  { server: 'nginx', site: 'tooDeep', grade: 'B', notEnforced: ['chain_too_deep'] },
];

for (const e of EXPECTED) {
  test(`${e.server} ${e.site}: grade ${e.grade}, not enforced: ${e.notEnforced.join(', ') || 'none'}`, async () => {
    const report = await check((e.server === 'apache' ? apache : nginx).url(e.site), e.rule);
    assert.deepEqual(report.cases.map((c) => c.caseId), MTLS_CASE_IDS, 'every case ran');
    assert.deepEqual(notEnforced(report), [...e.notEnforced.map((id) => `${id}:not_enforced`), ...WEAK_KEY_UNSENDABLE].sort(), report.summary);
    assert.equal(report.grade, e.grade, report.summary);
    for (const c of report.cases) {
      // A case the harness cannot send runs no probe: it has no timeline, only its reason.
      if (c.verdict !== 'inconclusive') assert.ok(c.steps.some((s) => s.phase === 'verdict'), `${c.caseId} has its full timeline`);
      if (c.observed === 'refused') assert.ok(c.evidence.some((x) => /^TLS alert|^HTTP 4/.test(x)), `${c.caseId} evidence: ${c.evidence.join(' | ')}`);
    }
    if (e.notEnforced.length) assert.match(report.summary, new RegExp(`NOT enforced: ${e.notEnforced[0]}`));
  });
}

test('openssl s_server -Verify 3 without -verify_return_error: every certificate check and the subject rule are missing', async () => {
  const report = await check(`https://127.0.0.1:${sServer.port}/`);
  const notEnforcedHere = [...ALL_CERT_CHECKS, 'wrong_subject'].filter((id) => !(id === 'weak_key' && WEAK_KEY_UNSENDABLE.length));
  assert.deepEqual(notEnforced(report), [...notEnforcedHere.map((id) => `${id}:not_enforced`), ...WEAK_KEY_UNSENDABLE].sort(), report.summary);
  assert.equal(report.grade, 'F');
  const untrusted = report.cases.find((c) => c.caseId === 'untrusted_ca')!;
  // The probe itself says the server should not have trusted it, without the contradicting warning.
  assert.ok(untrusted.diagnoses?.includes('server_accepts_untrusted_client_cert'), untrusted.diagnoses?.join(', '));
  assert.ok(!untrusted.diagnoses?.includes('client_ca_not_acceptable'));
});
