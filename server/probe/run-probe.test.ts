// The probe against real peers on loopback: openssl s_server (which sends real TLS alerts),
// a Node tls.Server (which closes silently) and listeners that misbehave on purpose.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { runProbe, type ProbeResult } from './run-probe.ts';
import { validateLimits } from '../defaults.ts';
import { openContexts } from '../net/tls-contexts.ts';
import { makeTestPki, type TestPki, type Pair } from '../testing/test-pki.ts';
import { opensslServer, rawServer, freePort, type Peer } from '../testing/peers.ts';
import type { ProbeRequest, Step } from '../../shared/protocol/index.ts';
import { findStep } from '../../shared/protocol/index.ts';

let pki: TestPki;
const pkiReady = makeTestPki().then((p) => { pki = p; });
const peers: Peer[] = [];

before(() => pkiReady);
after(async () => {
  await Promise.all(peers.map((p) => p.close()));
});

function creds(p: Pair): ProbeRequest['client'] {
  return { certificatePem: p.cert, privateKeyPem: p.key };
}

async function probe(req: ProbeRequest, limits = {}): Promise<ProbeResult & { events: Step[] }> {
  const events: Step[] = [];
  const result = await runProbe(req, { limits: validateLimits(limits), onStep: (s) => events.push(s) });
  return { ...result, events };
}

async function sServer(version: '-tls1_2' | '-tls1_3', extra: string[] = []): Promise<number> {
  const peer = await opensslServer([
    '-cert', pki.server.certFile, '-key', pki.server.keyFile,
    '-CAfile', pki.clientCa.certFile, '-Verify', '3', '-verify_return_error', '-www', version, ...extra,
  ]);
  peers.push(peer);
  return peer.port;
}

for (const version of ['-tls1_3', '-tls1_2'] as const) {
  const label = version === '-tls1_3' ? 'TLS 1.3' : 'TLS 1.2';
  const cases: { name: string; client?: () => Pair; want: string | 'pass' }[] = [
    { name: 'good client certificate', client: () => pki.client, want: 'pass' },
    { name: 'no client certificate', want: 'client_cert_required' },
    { name: 'client certificate from an unknown CA', client: () => pki.clientFromOtherCa, want: 'client_cert_unknown_ca' },
    { name: 'expired client certificate', client: () => pki.clientExpired, want: 'client_cert_expired' },
    { name: 'not-yet-valid client certificate', client: () => pki.clientNotYetValid, want: 'client_cert_not_yet_valid' },
  ];
  let port: number;
  before(async () => { await pkiReady; port = await sServer(version); });
  for (const c of cases) {
    test(`${label} s_server: ${c.name} → ${c.want}`, async () => {
      const req: ProbeRequest = { url: `https://localhost:${port}/`, caPem: pki.serverCa.cert };
      if (c.client) req.client = creds(c.client());
      const r = await probe(req);
      if (c.want === 'pass') {
        assert.equal(r.outcome, 'pass', JSON.stringify(r.steps.at(-1)));
        assert.deepEqual(r.diagnoses, []);
        const tlsStep = findStep(r.steps, 'tls')!;
        assert.equal(tlsStep.details?.protocol, version === '-tls1_3' ? 'TLSv1.3' : 'TLSv1.2');
        assert.equal(findStep(r.steps, 'response')?.details?.status, 200);
        // Read off the wire by the tap: the server asked, named its CA, and got our one certificate.
        assert.equal(tlsStep.details?.certificateRequested, true);
        assert.deepEqual(tlsStep.details?.acceptableCAs, ['CN=Test Client Root, O=Harness Tests']);
        assert.equal(tlsStep.details?.clientCertificateMessage, '1 certificate');
        assert.equal(tlsStep.details?.chainReachesAcceptableCA, true);
      } else {
        assert.equal(r.outcome, 'fail');
        assert.equal(r.diagnoses[0], c.want, JSON.stringify(r.steps.filter((s) => s.diagnosis).map((s) => s.diagnosis)));
        const failed = r.steps.find((s) => s.diagnosis?.code === c.want)!;
        assert.equal(failed.phase, 'tls', 'a rejected client certificate is reported on the TLS step');
        assert.ok(failed.diagnosis!.evidence.some((e) => /TLS alert \d+/.test(e)), 'the alert is part of the evidence');
      }
      // Every step sent as running is later finished.
      const last = new Map(r.events.map((s) => [s.id, s.status]));
      assert.ok(![...last.values()].includes('running'));
    });
  }
}

test('server certificate from a CA the probe does not trust → server_cert_untrusted', async () => {
  const peer = await opensslServer(['-cert', pki.server.certFile, '-key', pki.server.keyFile, '-cert_chain', pki.serverCa.certFile, '-www']);
  peers.push(peer);
  const r = await probe({ url: `https://localhost:${peer.port}/`, caPem: pki.otherCa.cert });
  assert.deepEqual(r.diagnoses, ['server_cert_untrusted']);
  const tlsStep = findStep(r.steps, 'tls')!;
  assert.equal(tlsStep.status, 'fail');
  const chain = tlsStep.details?.serverChain as { subject: string }[];
  assert.equal(chain[0]!.subject, 'CN=localhost', 'the chain is shown even when it does not verify');
});

test('self-signed server certificate → server_cert_self_signed; --insecure goes on with a warning', async () => {
  const peer = await opensslServer(['-cert', pki.serverSelfSigned.certFile, '-key', pki.serverSelfSigned.keyFile, '-www']);
  peers.push(peer);
  const strict = await probe({ url: `https://localhost:${peer.port}/` });
  assert.deepEqual(strict.diagnoses, ['server_cert_self_signed']);
  const lax = await probe({ url: `https://localhost:${peer.port}/`, verifyServer: false });
  assert.equal(lax.outcome, 'pass');
  assert.equal(findStep(lax.steps, 'tls')!.status, 'warn');
});

test('host name not in the server certificate → server_hostname_mismatch', async () => {
  const peer = await opensslServer(['-cert', pki.serverWrongName.certFile, '-key', pki.serverWrongName.keyFile, '-www']);
  peers.push(peer);
  const r = await probe({ url: `https://localhost:${peer.port}/`, caPem: pki.serverCa.cert });
  assert.deepEqual(r.diagnoses, ['server_hostname_mismatch']);
});

test('an IP target is checked against the certificate\'s IP addresses, the name against its names', async () => {
  const peer = await opensslServer(['-cert', pki.serverNameOnly.certFile, '-key', pki.serverNameOnly.keyFile, '-www']);
  peers.push(peer);
  const byIp = await probe({ url: `https://127.0.0.1:${peer.port}/`, caPem: pki.serverCa.cert });
  assert.deepEqual(byIp.diagnoses, ['server_hostname_mismatch'], 'DNS:localhost does not cover 127.0.0.1');
  const byName = await probe({ url: `https://localhost:${peer.port}/`, caPem: pki.serverCa.cert });
  assert.equal(byName.outcome, 'pass');
});

test('closed port → connect_refused on the TCP step', async () => {
  const r = await probe({ url: `https://127.0.0.1:${await freePort()}/` });
  assert.deepEqual(r.diagnoses, ['connect_refused']);
  assert.equal(findStep(r.steps, 'tcp')!.status, 'fail');
  assert.equal(findStep(r.steps, 'tls')!.status, 'skipped');
});

test('the name is looked up while the inputs are checked, and not when the inputs stop the run', async () => {
  const peer = await opensslServer(['-cert', pki.server.certFile, '-key', pki.server.keyFile, '-www']);
  peers.push(peer);
  const r = await probe({ url: `https://localhost:${peer.port}/`, caPem: pki.serverCa.cert });
  assert.equal(r.outcome, 'pass');
  const inputs = findStep(r.steps, 'inputs')!;
  const dns = findStep(r.steps, 'dns')!;
  assert.ok(dns.startMs < inputs.startMs + inputs.durationMs!, `the lookup began (${dns.startMs} ms) before the inputs step ended (${inputs.startMs} + ${inputs.durationMs} ms)`);
  const stopped = await probe({ url: `https://localhost:${peer.port}/`, client: { certificatePem: 'not a certificate', privateKeyPem: pki.client.key } });
  assert.deepEqual(stopped.diagnoses, ['input_invalid']);
  assert.equal(findStep(stopped.steps, 'dns'), undefined, 'its lookup is dropped, not reported');
});

test('peer that accepts TCP and never speaks → tls_timeout within the TLS limit', async () => {
  const peer = await rawServer(() => {});
  peers.push(peer);
  const t0 = performance.now();
  const r = await probe({ url: `https://127.0.0.1:${peer.port}/` }, { tlsTimeoutMs: 300 });
  assert.deepEqual(r.diagnoses, ['tls_timeout']);
  assert.ok(performance.now() - t0 < 2000);
});

test('plain HTTP on the port → not_tls', async () => {
  const peer = await rawServer((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')));
  peers.push(peer);
  const r = await probe({ url: `https://127.0.0.1:${peer.port}/` });
  assert.deepEqual(r.diagnoses, ['not_tls']);
});

test('server that never answers the request → response_timeout', async () => {
  const server = tls.createServer({ cert: pki.server.cert, key: pki.server.key }, () => {});
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  peers.push({ port: 0, close: () => new Promise((ok) => { server.close(() => ok()); for (const s of sockets) s.destroy(); }) });
  const sockets = new Set<tls.TLSSocket>();
  server.on('secureConnection', (s) => sockets.add(s));
  const r = await probe({ url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/`, caPem: pki.serverCa.cert }, { responseTimeoutMs: 300 });
  assert.deepEqual(r.diagnoses, ['response_timeout']);
});

test('Node tls.Server that rejects silently: no certificate → client_cert_required, stranger → client_cert_unknown_ca (inferred)', async () => {
  const server = tls.createServer({ cert: pki.server.cert, key: pki.server.key, ca: pki.clientCa.cert, requestCert: true, rejectUnauthorized: true }, (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  server.on('tlsClientError', () => {});
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  peers.push({ port: 0, close: () => new Promise((ok) => server.close(() => ok())) });
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const none = await probe({ url, caPem: pki.serverCa.cert });
  assert.deepEqual(none.diagnoses, ['client_cert_required']);
  const stranger = await probe({ url, caPem: pki.serverCa.cert, client: creds(pki.clientFromOtherCa) });
  // The silent close says nothing; the pre-flight against the acceptable CA names says why.
  assert.deepEqual(stranger.diagnoses, ['client_cert_unknown_ca', 'client_ca_not_acceptable']);
  const said = findStep(stranger.steps, 'tls')!.diagnosis!;
  assert.match(said.evidence.join('\n'), /client_ca_not_acceptable/);
  assert.equal(said.inferred, true, 'the server did not say so: the diagnosis is marked inferred');
  assert.match(said.summary, /The server did not say why: the harness inferred it \(the client chain reaches none of the CA names/);
  assert.match(said.evidence.join('\n'), /inferred by the harness.*none of the CA names/);
  const good = await probe({ url, caPem: pki.serverCa.cert, client: creds(pki.client) });
  assert.equal(good.outcome, 'pass');
});

const badInputs: { name: string; req: () => ProbeRequest; want: RegExp }[] = [
  { name: 'not a URL', req: () => ({ url: 'not a url' }), want: /is not a URL/ },
  { name: 'http URL', req: () => ({ url: 'http://localhost/' }), want: /use an https:\/\/ URL/ },
  { name: 'key where the certificate belongs', req: () => ({ url: 'https://localhost/', client: { certificatePem: pki.client.key, privateKeyPem: pki.client.key } }), want: /certificate was expected but this is a private key/ },
  { name: 'certificate where the key belongs', req: () => ({ url: 'https://localhost/', client: { certificatePem: pki.client.cert, privateKeyPem: pki.client.cert } }), want: /private key was expected but this is a certificate/ },
  { name: 'key of another certificate', req: () => ({ url: 'https://localhost/', client: { certificatePem: pki.client.cert, privateKeyPem: pki.clientExpired.key } }), want: /is not the key of .*test-client/ },
  { name: 'truncated certificate', req: () => ({ url: 'https://localhost/', client: { certificatePem: pki.client.cert.slice(0, 120) + '\n-----END CERTIFICATE-----', privateKeyPem: pki.client.key } }), want: /declares \d+ bytes of content but only \d+ follow/ },
  { name: 'encrypted key', req: () => ({ url: 'https://localhost/', client: { certificatePem: pki.client.cert, privateKeyPem: '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n' } }), want: /encrypted|passphrase|truncated|declares/i },
];
for (const c of badInputs) {
  test(`bad input: ${c.name} → input_invalid with a specific message`, async () => {
    const r = await probe(c.req());
    assert.deepEqual(r.diagnoses, ['input_invalid']);
    const inputs = findStep(r.steps, 'inputs')!;
    assert.match(inputs.summary ?? '', c.want);
    assert.ok(r.steps.filter((s) => s.id !== 'inputs' && s.id !== 'verdict').every((s) => s.status === 'skipped'));
  });
}

test('concurrent probes with the same credentials share one TLS context, each with a full handshake; none is kept after', async () => {
  const seen: { resumed: boolean; peer: string | undefined }[] = [];
  const server = tls.createServer({ cert: pki.server.cert, key: pki.server.key, ca: pki.clientCa.cert, requestCert: true, rejectUnauthorized: true }, (s) => {
    seen.push({ resumed: s.isSessionReused(), peer: String(s.getPeerCertificate().subject?.CN ?? '') });
    s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  peers.push({ port: 0, close: () => new Promise((ok) => server.close(() => ok())) });
  const url = `https://localhost:${(server.address() as AddressInfo).port}/`;
  const held: number[] = [];
  const runs = Array.from({ length: 8 }, (_, i) => runProbe({ url, caPem: pki.serverCa.cert, client: creds(i < 6 ? pki.client : pki.clientWrongCn) }, {
    limits: validateLimits(),
    onStep: (s) => { if (s.id === 'tls' && s.status !== 'running') held.push(openContexts()); },
  }));
  const results = await Promise.all(runs);
  assert.deepEqual(results.map((r) => r.outcome), Array(8).fill('pass'));
  assert.equal(seen.length, 8);
  assert.ok(seen.every((c) => !c.resumed && c.peer), 'every connection sent its certificate in a full handshake');
  assert.ok(Math.max(...held) <= 2, `two sets of credentials, at most two contexts (saw ${Math.max(...held)})`);
  await new Promise((ok) => setTimeout(ok, 50)); // sockets finish closing
  assert.equal(openContexts(), 0, 'no context (and no key) outlives its connections');
  const stalled = await rawServer(() => {});
  peers.push(stalled);
  await probe({ url: `https://127.0.0.1:${stalled.port}/`, client: creds(pki.client) }, { tlsTimeoutMs: 200 });
  await new Promise((ok) => setTimeout(ok, 50));
  assert.equal(openContexts(), 0, 'nor after a handshake that timed out');
});
