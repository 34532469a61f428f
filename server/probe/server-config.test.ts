// The generated server configuration, pasted unchanged into real Apache httpd and nginx (the
// launchers only wrap it in a minimal main config) and probed: the right client gets in, and
// every client the policy refuses is refused with the diagnosis the probe promises — the
// same policy enforced by both servers, including the verify depth they count differently.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runProbe } from './run-probe.ts';
import { validateLimits } from '../defaults.ts';
import { makeTestPki, type TestPki, type Pair } from '../testing/test-pki.ts';
import { startApache, type ApacheServer } from '../testing/apache.ts';
import { startNginx, type NginxServer } from '../testing/nginx.ts';
import { apacheSnippet, nginxSnippet, type ServerConfigInput } from '../../shared/server-config.ts';
import type { DiagnosisCode } from '../../shared/diagnoses.ts';
import { findStep } from '../../shared/protocol/index.ts';

const ODD_CN = 'Zoë, Ltd+1 %{HTTP_HOST}';

type Policy = 'strict' | 'shallow' | 'oddCn' | 'san';

function policies(pki: TestPki): Record<Policy, Omit<ServerConfigInput, 'port'>> {
  const base = { caBundleFile: pki.clientCa.certFile, serverName: 'localhost', certFile: pki.server.certFile, keyFile: pki.server.keyFile, listenAddress: '127.0.0.1' };
  return {
    // One intermediate allowed, CRLs for every client CA, only CN=test-client.
    strict: { ...base, verifyDepth: 2, crlFile: pki.clientCrls.file, rule: { cnEquals: 'test-client' } },
    // Issued directly by the root only.
    shallow: { ...base, verifyDepth: 1 },
    oddCn: { ...base, verifyDepth: 1, rule: { cnEquals: ODD_CN } },
    san: { ...base, verifyDepth: 1, rule: { sanDnsEquals: 'partner.example' } },
  };
}

let pki: TestPki;
let apache: ApacheServer<Policy>;
let nginx: NginxServer<Policy>;
const extra: Record<'oddCn' | 'spoofedCn' | 'sanMatch' | 'sanOther', Pair> = {} as never;

const ready = (async () => {
  pki = await makeTestPki();
  const p = policies(pki);
  const names = Object.keys(p) as Policy[];
  const sites = (make: (input: ServerConfigInput) => string) =>
    Object.fromEntries(names.map((name) => [name, (port: number) => make({ ...p[name], port })])) as Record<Policy, (port: number) => string>;
  [apache, nginx] = await Promise.all([startApache({ sites: sites(apacheSnippet) }), startNginx({ sites: sites(nginxSnippet) })]);
  extra.oddCn = await pki.issueClient('client-odd-cn', { subject: 'CN=Zoë\\, Ltd\\+1 %{HTTP_HOST}, O=Harness Tests' });
  // "CN=<the allowed CN>" inside another attribute's value must not pass for the CN.
  extra.spoofedCn = await pki.issueClient('client-spoofed-cn', { subject: 'CN=someone-else, O=x\\,CN=Zoë\\, Ltd\\+1 %{HTTP_HOST}' });
  extra.sanMatch = await pki.issueClient('client-san', { subject: 'CN=san-client', dnsNames: ['a.example', 'partner.example'] });
  extra.sanOther = await pki.issueClient('client-san-other', { subject: 'CN=san-other', dnsNames: ['a.example'] });
})();

before(() => ready);
after(async () => {
  await ready.catch(() => {});
  await Promise.all([apache?.stop(), nginx?.stop()]);
});

interface Case {
  policy: Policy;
  name: string;
  client: () => Pair;
  apache: DiagnosisCode | 'pass';
  nginx: DiagnosisCode | 'pass';
  /** The servers' own reasons, from their error logs. */
  apacheLog?: RegExp;
  nginxLog?: RegExp;
}

const cases: Case[] = [
  { policy: 'strict', name: 'the expected client', client: () => pki.client, apache: 'pass', nginx: 'pass' },
  { policy: 'strict', name: 'a certificate from an unknown CA', client: () => pki.clientFromOtherCa, apache: 'client_cert_unknown_ca', nginx: 'client_cert_unknown_ca', apacheLog: /unable to get local issuer certificate/, nginxLog: /unable to verify the first certificate/ },
  { policy: 'strict', name: 'a valid certificate with another CN', client: () => pki.clientWrongCn, apache: 'access_denied', nginx: 'access_denied', apacheLog: /AH01630/ },
  // Depth 2 lets one intermediate through on both servers (nginx with ssl_verify_depth 1): the
  // chain verifies and only the CN rule refuses it.
  { policy: 'strict', name: 'a chain with one intermediate (within the depth, wrong CN)', client: () => pki.clientViaIntermediate, apache: 'access_denied', nginx: 'access_denied' },
  // nginx's chain stops at the depth limit, and with ssl_crl the cut chain fails the CRL check
  // first: its log blames a CRL, not the depth.
  { policy: 'strict', name: 'a chain with two intermediates (too deep)', client: () => pki.clientViaTwoIntermediates, apache: 'client_chain_too_deep', nginx: 'client_cert_rejected', apacheLog: /Certificate Chain too long/, nginxLog: /\(3:unable to get certificate CRL\)/ },
  { policy: 'strict', name: 'a revoked certificate', client: () => pki.clientRevoked, apache: 'client_cert_revoked', nginx: 'client_cert_rejected', apacheLog: /certificate revoked/, nginxLog: /certificate revoked/ },
  { policy: 'shallow', name: 'a certificate issued by the root', client: () => pki.client, apache: 'pass', nginx: 'pass' },
  { policy: 'shallow', name: 'a chain with one intermediate (too deep at depth 1)', client: () => pki.clientViaIntermediate, apache: 'client_chain_too_deep', nginx: 'client_cert_rejected', apacheLog: /Certificate Chain too long/, nginxLog: /unable to get local issuer certificate/ },
  { policy: 'oddCn', name: 'the CN with a comma, a plus, non-ASCII and %{…}', client: () => extra.oddCn, apache: 'pass', nginx: 'pass' },
  { policy: 'oddCn', name: 'that CN smuggled into the O attribute', client: () => extra.spoofedCn, apache: 'access_denied', nginx: 'access_denied' },
  { policy: 'san', name: 'the DNS name second in the subjectAltName', client: () => extra.sanMatch, apache: 'pass', nginx: 'pass' },
  // The nginx snippet says it cannot check the SAN; this keeps that statement true.
  { policy: 'san', name: 'another DNS name (nginx cannot check)', client: () => extra.sanOther, apache: 'access_denied', nginx: 'pass' },
];

for (const c of cases) {
  for (const server of ['apache', 'nginx'] as const) {
    test(`${server} with the generated ${c.policy} config: ${c.name} → ${c[server]}`, async () => {
      const s = server === 'apache' ? apache : nginx;
      const mark = await s.logMark();
      const client = c.client();
      const r = await runProbe({ url: s.url(c.policy), caPem: pki.serverCa.cert, client: { certificatePem: client.cert, privateKeyPem: client.key } }, { limits: validateLimits(), onStep: () => {} });
      const wantLog = server === 'apache' ? c.apacheLog : c.nginxLog;
      const log = wantLog ? await s.waitForLog(mark, wantLog) : await s.errorLogSince(mark);
      const context = `\ndiagnoses: ${JSON.stringify(r.diagnoses)}\nsteps: ${JSON.stringify(r.steps.map((st) => [st.id, st.status, st.summary]))}\nserver log:\n${log}`;
      const want = c[server];
      if (want === 'pass') {
        assert.equal(r.outcome, 'pass', context);
        assert.equal(findStep(r.steps, 'response')?.details?.status, 200);
      } else {
        assert.equal(r.outcome, 'fail', context);
        assert.equal(r.diagnoses[0], want, context);
      }
      if (wantLog) assert.match(log, wantLog, context);
    });
  }
}
