// The probe against the servers partners run: Apache httpd 2.4 (mod_ssl) and nginx, over
// TLS 1.2 and 1.3, each refusing client certificates its own way — Apache with TLS alerts
// (after the client's handshake on TLS 1.3), nginx with HTTP 400 pages after a completed
// handshake. Each case asserts the diagnosis, the signal it came from (alert number or
// status) and the server's own reason from its error log. One Apache and one nginx serve
// every case, each site on its own port.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runProbe, type ProbeResult } from './run-probe.ts';
import { validateLimits } from '../defaults.ts';
import { makeTestPki, type TestPki, type Pair } from '../testing/test-pki.ts';
import { freePort } from '../testing/peers.ts';
import { startApache, type ApacheServer } from '../testing/apache.ts';
import { startNginx, type NginxServer } from '../testing/nginx.ts';
import type { DiagnosisCode } from '../../shared/diagnoses.ts';
import type { ProbeRequest } from '../../shared/protocol/index.ts';
import { findStep } from '../../shared/protocol/index.ts';

type Version = '1.2' | '1.3';
const VERSIONS: Version[] = ['1.2', '1.3'];

let pki: TestPki;
let apache: ApacheServer<string>;
let nginx: NginxServer<string>;

function apacheSite(pki: TestPki, v: Version | 'any', lines: string[], server: Pair = pki.server): (port: number) => string {
  return (port) => [
    `<VirtualHost *:${port}>`,
    'SSLEngine on',
    v === 'any' ? 'SSLProtocol -all +TLSv1.2 +TLSv1.3' : `SSLProtocol -all +TLSv${v}`,
    `SSLCertificateFile "${server.certFile}"`,
    `SSLCertificateKeyFile "${server.keyFile}"`,
    ...lines,
    '</VirtualHost>',
  ].join('\n');
}

function nginxSite(pki: TestPki, v: Version | 'any', lines: string[], server: Pair = pki.server): (port: number) => string {
  return (port) => [
    'server {',
    `  listen 127.0.0.1:${port} ssl;`,
    v === 'any' ? '  ssl_protocols TLSv1.2 TLSv1.3;' : `  ssl_protocols TLSv${v};`,
    `  ssl_certificate ${server.certFile};`,
    `  ssl_certificate_key ${server.keyFile};`,
    ...lines.map((l) => `  ${l}`),
    '  location / { return 200 "ok from nginx\\n"; }',
    '}',
  ].join('\n');
}

async function startServers(pki: TestPki): Promise<[ApacheServer<string>, NginxServer<string>]> {
  const apacheSites: Record<string, (port: number) => string> = {};
  const nginxSites: Record<string, (port: number) => string> = {};
  for (const v of VERSIONS) {
    apacheSites[`main${v}`] = apacheSite(pki, v, [
      'SSLVerifyClient require',
      // Only a leaf issued directly by the root passes: a chain through an intermediate is too long.
      'SSLVerifyDepth 1',
      `SSLCACertificateFile "${pki.clientCa.certFile}"`,
      '<Location "/">',
      '  Require expr %{SSL_CLIENT_S_DN_CN} == "test-client"',
      '</Location>',
    ]);
    apacheSites[`crlChain${v}`] = apacheSite(pki, v, [
      'SSLVerifyClient require',
      'SSLVerifyDepth 3',
      `SSLCACertificateFile "${pki.clientCa.certFile}"`,
      `SSLCARevocationFile "${pki.clientCrls.file}"`,
      'SSLCARevocationCheck chain',
    ]);
    apacheSites[`crlLeaf${v}`] = apacheSite(pki, v, [
      'SSLVerifyClient require',
      'SSLVerifyDepth 3',
      `SSLCACertificateFile "${pki.clientCa.certFile}"`,
      `SSLCARevocationFile "${pki.clientRootCrl.file}"`,
      'SSLCARevocationCheck leaf',
    ]);
    nginxSites[`main${v}`] = nginxSite(pki, v, [
      'ssl_verify_client on;',
      `ssl_client_certificate ${pki.clientCa.certFile};`,
      // nginx counts intermediates: 0 allows what Apache's SSLVerifyDepth 1 allows.
      'ssl_verify_depth 0;',
      'if ($ssl_client_s_dn !~ "(^|,)CN=test-client(,|$)") { return 403; }',
    ]);
    nginxSites[`crl${v}`] = nginxSite(pki, v, [
      'ssl_verify_client on;',
      `ssl_client_certificate ${pki.clientCa.certFile};`,
      'ssl_verify_depth 2;',
      `ssl_crl ${pki.clientCrls.file};`,
    ]);
  }
  // Chain checking with the root's CRL only: the intermediate has none.
  apacheSites.crlMissing = apacheSite(pki, 'any', [
    'SSLVerifyClient require',
    'SSLVerifyDepth 3',
    `SSLCACertificateFile "${pki.clientCa.certFile}"`,
    `SSLCARevocationFile "${pki.clientRootCrl.file}"`,
    'SSLCARevocationCheck chain',
  ]);
  nginxSites.crlMissing = nginxSite(pki, 'any', [
    'ssl_verify_client on;',
    `ssl_client_certificate ${pki.clientCa.certFile};`,
    'ssl_verify_depth 2;',
    `ssl_crl ${pki.clientRootCrl.file};`,
  ]);
  // "optional": no certificate is fine, an invalid one is still refused.
  nginxSites.optional = nginxSite(pki, 'any', [
    'ssl_verify_client optional;',
    `ssl_client_certificate ${pki.clientCa.certFile};`,
  ]);
  // Server-side faults: no client certificate involved.
  apacheSites.noIntermediate = apacheSite(pki, 'any', [], pki.serverViaIntermediate);
  apacheSites.wrongName = apacheSite(pki, 'any', [], pki.serverWrongName);
  nginxSites.noIntermediate = nginxSite(pki, 'any', [], pki.serverViaIntermediate);
  nginxSites.wrongName = nginxSite(pki, 'any', [], pki.serverWrongName);
  // TLS 1.1 only: OpenSSL 3 allows it at security level 0; the probe insists on TLS 1.2+.
  apacheSites.tls11 = (port) => apacheSite(pki, 'any', [], pki.server)(port)
    .replace('SSLProtocol -all +TLSv1.2 +TLSv1.3', 'SSLProtocol -all +TLSv1.1\nSSLCipherSuite DEFAULT:@SECLEVEL=0');
  nginxSites.tls11 = (port) => nginxSite(pki, 'any', ['ssl_ciphers DEFAULT:@SECLEVEL=0;'], pki.server)(port)
    .replace('ssl_protocols TLSv1.2 TLSv1.3;', 'ssl_protocols TLSv1.1;');
  // Plain HTTP on the port.
  apacheSites.plain = (port) => `<VirtualHost *:${port}>\n</VirtualHost>`;
  nginxSites.plain = (port) => `server { listen 127.0.0.1:${port}; location / { return 200 "plain\\n"; } }`;
  return Promise.all([startApache({ sites: apacheSites }), startNginx({ sites: nginxSites })]);
}

const ready = (async () => {
  pki = await makeTestPki();
  [apache, nginx] = await startServers(pki);
})();

before(() => ready);
after(async () => {
  await ready.catch(() => {});
  await Promise.all([apache?.stop(), nginx?.stop()]);
});

async function probe(req: ProbeRequest): Promise<ProbeResult> {
  return runProbe(req, { limits: validateLimits({ tlsTimeoutMs: 5_000, responseTimeoutMs: 5_000 }), onStep: () => {} });
}

function creds(p: Pair): ProbeRequest['client'] {
  return { certificatePem: p.cert, privateKeyPem: p.key };
}

interface Case {
  name: string;
  site: string;
  client?: (pki: TestPki) => Pair;
  want: DiagnosisCode | 'pass';
  /** The TLS alert the server sent, by protocol version. */
  alert?: Partial<Record<Version, number>>;
  /** HTTP status, for refusals that complete the handshake. */
  status?: number;
  /** The server's own reason, from its error log. */
  log?: RegExp;
  /** Further diagnoses after the first, by version (the pre-flight against acceptable CAs). */
  also?: Partial<Record<Version, DiagnosisCode[]>>;
  /** The server did not say the cause; the harness worked it out (marked so in the diagnosis). */
  inferred?: boolean;
}

const apacheCases: Case[] = [
  { name: 'good certificate', site: 'main', client: (p) => p.client, want: 'pass', status: 200 },
  { name: 'no certificate', site: 'main', want: 'client_cert_required', alert: { '1.2': 40, '1.3': 116 }, log: /peer did not return a certificate/ },
  { name: 'certificate from an unknown CA', site: 'main', client: (p) => p.clientFromOtherCa, want: 'client_cert_unknown_ca', alert: { '1.2': 48, '1.3': 48 }, log: /Error \(20\): unable to get local issuer certificate/,
    // The pre-flight against the acceptable CA names: on TLS 1.2 Apache's alert comes before
    // secureConnect, but the CertificateRequest was already read off the wire.
    also: { '1.2': ['client_ca_not_acceptable'], '1.3': ['client_ca_not_acceptable'] } },
  { name: 'expired certificate', site: 'main', client: (p) => p.clientExpired, want: 'client_cert_expired', alert: { '1.2': 45, '1.3': 45 }, log: /Error \(10\): certificate has expired/ },
  { name: 'not-yet-valid certificate', site: 'main', client: (p) => p.clientNotYetValid, inferred: true, want: 'client_cert_not_yet_valid', alert: { '1.2': 42, '1.3': 42 }, log: /Error \(9\): certificate is not yet valid/ },
  { name: 'serverAuth-only EKU', site: 'main', client: (p) => p.clientServerAuthOnly, want: 'client_cert_wrong_usage', alert: { '1.2': 43, '1.3': 43 }, log: /Error \(26\): unsuitable certificate purpose/ },
  { name: 'chain deeper than SSLVerifyDepth 1', site: 'main', client: (p) => p.clientViaIntermediate, want: 'client_chain_too_deep', alert: { '1.2': 80, '1.3': 80 }, log: /Certificate Chain too long \(chain has 2 certificates, but maximum allowed are only 1\)/ },
  { name: 'CN refused by Require expr', site: 'main', client: (p) => p.clientWrongCn, want: 'access_denied', status: 403, log: /AH01630: client denied by server configuration/ },
  { name: 'revoked certificate (SSLCARevocationCheck chain)', site: 'crlChain', client: (p) => p.clientRevoked, want: 'client_cert_revoked', alert: { '1.2': 44, '1.3': 44 }, log: /Error \(23\): certificate revoked/ },
  { name: 'good certificate with CRLs for the whole chain', site: 'crlChain', client: (p) => p.clientViaTwoIntermediates, want: 'pass', status: 200 },
  { name: 'revoked certificate (SSLCARevocationCheck leaf)', site: 'crlLeaf', client: (p) => p.clientRevoked, want: 'client_cert_revoked', alert: { '1.2': 44, '1.3': 44 }, log: /Error \(23\): certificate revoked/ },
];

const nginxCases: Case[] = [
  { name: 'good certificate', site: 'main', client: (p) => p.client, want: 'pass', status: 200 },
  { name: 'no certificate', site: 'main', want: 'client_cert_required', status: 400, log: /client sent no required SSL certificate/ },
  // nginx's page does not say which check failed; the CA names it listed do (inferred).
  { name: 'certificate from an unknown CA', site: 'main', client: (p) => p.clientFromOtherCa, want: 'client_cert_unknown_ca', inferred: true, status: 400, log: /client SSL certificate verify error: \(21:unable to verify the first certificate\)/, also: { '1.2': ['client_ca_not_acceptable'], '1.3': ['client_ca_not_acceptable'] } },
  { name: 'expired certificate', site: 'main', client: (p) => p.clientExpired, inferred: true, want: 'client_cert_expired', status: 400, log: /\(10:certificate has expired\)/ },
  { name: 'not-yet-valid certificate', site: 'main', client: (p) => p.clientNotYetValid, inferred: true, want: 'client_cert_not_yet_valid', status: 400, log: /\(9:certificate is not yet valid\)/ },
  // The 400 page does not say which check failed. Once the probe passes the clientCertClientAuth
  // signal to classifyFailure, this becomes client_cert_wrong_usage, as on Apache.
  { name: 'serverAuth-only EKU', site: 'main', client: (p) => p.clientServerAuthOnly, inferred: true, want: 'client_cert_wrong_usage', status: 400, log: /\(26:unsuitable certificate purpose\)/ },
  // nginx reports the depth limit as a missing issuer: the intermediate's issuer is beyond it.
  { name: 'chain deeper than ssl_verify_depth 0', site: 'main', client: (p) => p.clientViaIntermediate, want: 'client_cert_rejected', status: 400, log: /\(20:unable to get local issuer certificate\)/ },
  { name: 'CN refused by the if rule', site: 'main', client: (p) => p.clientWrongCn, want: 'access_denied', status: 403 },
  { name: 'revoked certificate (ssl_crl)', site: 'crl', client: (p) => p.clientRevoked, want: 'client_cert_rejected', status: 400, log: /\(23:certificate revoked\)/ },
  { name: 'good certificate with CRLs for the whole chain', site: 'crl', client: (p) => p.clientViaTwoIntermediates, want: 'pass', status: 200 },
];

function alertOf(r: ProbeResult): number | undefined {
  const evidence = r.steps.flatMap((s) => s.diagnosis?.evidence ?? []).join('\n');
  const m = /TLS alert (\d+)/.exec(evidence);
  return m ? Number(m[1]) : undefined;
}

function statusOf(r: ProbeResult): number | undefined {
  return findStep(r.steps, 'response')?.details?.status as number | undefined;
}

async function check(server: ApacheServer<string> | NginxServer<string>, site: string, c: Case, v: Version | undefined): Promise<void> {
  const mark = await server.logMark();
  const req: ProbeRequest = { url: server.url(site), caPem: pki.serverCa.cert };
  if (c.client) req.client = creds(c.client(pki));
  const r = await probe(req);
  const log = c.log ? await server.waitForLog(mark, c.log) : await server.errorLogSince(mark);
  const context = `\ndiagnoses: ${JSON.stringify(r.diagnoses)}\nsteps: ${JSON.stringify(r.steps.map((s) => [s.id, s.status, s.summary]))}\nserver log:\n${log}`;
  if (c.want === 'pass') {
    assert.equal(r.outcome, 'pass', context);
    assert.deepEqual(r.diagnoses, []);
    if (v) assert.equal(findStep(r.steps, 'tls')?.details?.protocol, `TLSv${v}`);
  } else {
    assert.equal(r.outcome, 'fail', context);
    assert.deepEqual(r.diagnoses, [c.want, ...((v && c.also?.[v]) ?? [])], context);
  }
  const alert = v ? c.alert?.[v] : undefined;
  assert.equal(alertOf(r), alert, `alert${context}`);
  if (alert !== undefined) {
    // TLS 1.3 clients finish the handshake before the server judges their certificate.
    const late = r.steps.some((s) => s.diagnosis?.evidence.some((e) => /after the handshake completed/.test(e)));
    assert.equal(late, v === '1.3', `alert after secureConnect${context}`);
  }
  assert.equal(statusOf(r), c.status, `HTTP status${context}`);
  if (c.log) assert.match(log, c.log, `server log${context}`);
  if (c.want.startsWith('client_')) {
    // A refused certificate belongs on the TLS step, whether the server alerted or answered 400.
    assert.equal(findStep(r.steps, 'tls')?.diagnosis?.code, c.want, context);
    assert.equal(findStep(r.steps, 'tls')?.diagnosis?.inferred ?? false, c.inferred ?? false, `inferred${context}`);
  }
}

for (const v of VERSIONS) {
  for (const c of apacheCases) {
    test(`Apache TLS ${v}: ${c.name} → ${c.want}`, () => check(apache, `${c.site}${v}`, c, v));
  }
  for (const c of nginxCases) {
    test(`nginx TLS ${v}: ${c.name} → ${c.want}`, () => check(nginx, `${c.site}${v}`, c, v));
  }
}

const bothServers = [['Apache', () => apache], ['nginx', () => nginx]] as const;

for (const [name, server] of bothServers) {
  test(`${name}: chain checking with a CA that has no CRL refuses clients under that CA (sent as unknown_ca / HTTP 400), not others`, async () => {
    // The root's CRL covers a leaf the root issued (and the root itself): that client passes.
    const direct = await probe({ url: server().url('crlMissing'), caPem: pki.serverCa.cert, client: creds(pki.client) });
    assert.equal(direct.outcome, 'pass', JSON.stringify(direct.diagnoses));
    const mark = await server().logMark();
    const r = await probe({ url: server().url('crlMissing'), caPem: pki.serverCa.cert, client: creds(pki.clientViaIntermediate) });
    const log = await server().waitForLog(mark, /unable to get certificate CRL/);
    assert.match(log, /unable to get certificate CRL/, log);
    if (name === 'Apache') {
      assert.equal(alertOf(r), 48);
      assert.deepEqual(r.diagnoses, ['client_cert_unknown_ca']);
    } else {
      assert.equal(statusOf(r), 400);
      assert.deepEqual(r.diagnoses, ['client_cert_rejected']);
    }
  });

  test(`${name}: server certificate sent without its intermediate → server_chain_incomplete`, async () => {
    const r = await probe({ url: server().url('noIntermediate'), caPem: pki.serverCa.cert });
    assert.deepEqual(r.diagnoses, ['server_chain_incomplete']);
    const tls = findStep(r.steps, 'tls')!;
    assert.equal(tls.details?.serverVerifyError, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    assert.deepEqual((tls.details?.serverChain as { subject: string }[]).map((c) => c.subject), ['CN=localhost']);
  });

  test(`${name}: host name not in the server certificate → server_hostname_mismatch`, async () => {
    const r = await probe({ url: server().url('wrongName'), caPem: pki.serverCa.cert });
    assert.deepEqual(r.diagnoses, ['server_hostname_mismatch']);
  });

  test(`${name}: TLS 1.1-only server → tls_version_mismatch (alert 70)`, async () => {
    const mark = await server().logMark();
    const r = await probe({ url: server().url('tls11'), caPem: pki.serverCa.cert });
    assert.deepEqual(r.diagnoses, ['tls_version_mismatch']);
    assert.equal(alertOf(r), 70);
    assert.match(await server().waitForLog(mark, /unsupported protocol/), /unsupported protocol/);
  });

  test(`${name}: plain HTTP on the port → not_tls`, async () => {
    const r = await probe({ url: server().url('plain'), caPem: pki.serverCa.cert });
    assert.deepEqual(r.diagnoses, ['not_tls']);
    assert.equal(findStep(r.steps, 'tls')?.details?.errorCode, 'ERR_SSL_WRONG_VERSION_NUMBER');
  });
}

test('nginx ssl_verify_client optional: no certificate passes, an invalid one still gets 400', async () => {
  const none = await probe({ url: nginx.url('optional'), caPem: pki.serverCa.cert });
  assert.equal(none.outcome, 'pass');
  const expired = await probe({ url: nginx.url('optional'), caPem: pki.serverCa.cert, client: creds(pki.clientExpired) });
  assert.equal(statusOf(expired), 400);
  assert.deepEqual(expired.diagnoses, ['client_cert_expired']);
});

test('closed port → connect_refused', async () => {
  const r = await probe({ url: `https://127.0.0.1:${await freePort()}/` });
  assert.deepEqual(r.diagnoses, ['connect_refused']);
});
