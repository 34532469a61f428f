// The listener's judgements as tables: Node's verification codes, handshake failures from
// Node's error plus what the tap saw, the access rule, and CA bundles that predict failures.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { inspectCertificate, type InspectedCertificate } from '../../shared/pki/inspect.ts';
import type { TlsObservation } from '../tls/observation.ts';
import { makeTestPki, type TestPki } from '../testing/test-pki.ts';
import { classifyClientVerification, classifyHandshakeFailure, evaluateRule, type HandshakeSignals } from './checks.ts';
import { inboundDiagnosis, INBOUND_FIXES } from './fixes.ts';
import { CaBundleError, readTrustBundle } from './trust-bundle.ts';

let pki: TestPki;
let withSans: InspectedCertificate;

function der(pem: string): Uint8Array {
  return new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'));
}

before(async () => {
  pki = await makeTestPki();
  const pair = await pki.issueClient('with-sans', { subject: 'CN=cxml-supplier.example.com, O=Acme', dnsNames: ['cxml-supplier.example.com', 'Orders.Example.com'] });
  withSans = await inspectCertificate(der(pair.cert));
});

const verification: [string, string][] = [
  ['CERT_HAS_EXPIRED', 'client_cert_expired'],
  ['CERT_NOT_YET_VALID', 'client_cert_not_yet_valid'],
  ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'client_cert_unknown_ca'],
  ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'client_cert_unknown_ca'],
  ['SELF_SIGNED_CERT_IN_CHAIN', 'client_cert_unknown_ca'],
  ['DEPTH_ZERO_SELF_SIGNED_CERT', 'client_cert_unknown_ca'],
  ['INVALID_PURPOSE', 'client_cert_wrong_usage'],
  ['CERT_SIGNATURE_FAILURE', 'client_cert_signature_invalid'],
  ['CERT_REVOKED', 'client_cert_revoked'],
  ['CERT_CHAIN_TOO_LONG', 'client_chain_too_deep'],
  ['INVALID_CA', 'client_cert_rejected'],
];
for (const [error, want] of verification) {
  test(`authorizationError ${error} → ${want}`, () => {
    assert.equal(classifyClientVerification(error), want);
  });
}

function observation(over: Partial<TlsObservation> = {}): TlsObservation {
  return {
    helloRetryRequest: false, certificateRequested: false, acceptableCAs: [], acceptableCANames: [], signatureAlgorithms: [], certificateTypes: [],
    serverChainDer: [], clientChainDer: null, ocspStapled: false, alerts: [], messages: [], ...over,
  };
}

const handshakes: { name: string; s: Omit<HandshakeSignals, 'handshakeTimeoutMs'>; want: string; summary?: RegExp }[] = [
  { name: 'silent client, handshake timer', s: { errorCode: 'ERR_TLS_HANDSHAKE_TIMEOUT', observation: observation(), clientBytes: 0 }, want: 'tls_timeout', summary: /sent nothing for 10 s/ },
  { name: 'slow client, handshake timer', s: { errorCode: 'ERR_TLS_HANDSHAKE_TIMEOUT', observation: observation(), clientBytes: 517 }, want: 'tls_timeout', summary: /did not finish/ },
  { name: 'plain HTTP (OpenSSL)', s: { errorCode: 'ERR_SSL_HTTP_REQUEST', observation: observation(), clientBytes: 78 }, want: 'not_tls', summary: /plain HTTP request/ },
  {
    name: 'other bytes (tap)',
    s: { errorCode: 'ERR_SSL_WRONG_VERSION_NUMBER', observation: observation({ parseProblem: { from: 'client', code: 'not_tls', message: 'not a TLS record: header 53 53 48 2d 32 ("SSH-2")' } }), clientBytes: 21 },
    want: 'not_tls',
    summary: /did not speak TLS/,
  },
  {
    name: 'unknown_ca alert read by the tap',
    s: { errorCode: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', observation: observation({ alerts: [{ from: 'client', level: 2, description: 48, name: 'unknown_ca', encrypted: false }] }), clientBytes: 600 },
    want: 'listener_cert_untrusted',
  },
  { name: 'bad_certificate alert only in the error code', s: { errorCode: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', observation: observation(), clientBytes: 600 }, want: 'listener_cert_untrusted' },
  { name: 'protocol_version alert', s: { errorCode: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', observation: observation(), clientBytes: 200 }, want: 'tls_version_mismatch' },
  { name: 'client offers TLS 1.0 only', s: { errorCode: 'ERR_SSL_UNSUPPORTED_PROTOCOL', observation: observation(), clientBytes: 200 }, want: 'tls_version_mismatch' },
  { name: 'no shared cipher', s: { errorCode: 'ERR_SSL_NO_SHARED_CIPHER', observation: observation(), clientBytes: 200 }, want: 'tls_handshake_failed', summary: /cipher suite/ },
  { name: 'port check: connect and close', s: { errorCode: 'ECONNRESET', errorMessage: 'socket hang up', observation: observation(), clientBytes: 0 }, want: 'client_aborted_handshake', summary: /without sending anything/ },
  { name: 'close after the client hello', s: { errorCode: 'ECONNRESET', errorMessage: 'socket hang up', observation: observation(), clientBytes: 517 }, want: 'client_aborted_handshake', summary: /during the TLS handshake/ },
  { name: 'close right after the listener\'s certificate, before the client\'s Finished', s: { errorCode: 'ECONNRESET', errorMessage: 'socket hang up', observation: observation({ serverChainDer: [new Uint8Array(3)], messages: [{ from: 'client', type: 'client_hello', encrypted: false }, { from: 'server', type: 'certificate', encrypted: true }] }), clientBytes: 517 }, want: 'listener_cert_untrusted', summary: /right after receiving the listener's certificate/ },
  { name: 'close after the client\'s Finished', s: { errorCode: 'ECONNRESET', errorMessage: 'socket hang up', observation: observation({ serverChainDer: [new Uint8Array(3)], messages: [{ from: 'server', type: 'certificate', encrypted: true }, { from: 'client', type: 'finished', encrypted: true }] }), clientBytes: 900 }, want: 'client_aborted_handshake' },
  { name: 'anything else', s: { errorCode: 'ERR_SOMETHING', errorMessage: 'odd', observation: observation(), clientBytes: 5 }, want: 'tls_handshake_failed' },
];
for (const h of handshakes) {
  test(`handshake failure: ${h.name} → ${h.want}`, () => {
    const found = classifyHandshakeFailure({ ...h.s, handshakeTimeoutMs: 10_000 });
    assert.equal(found.code, h.want);
    if (h.summary) assert.match(found.summary, h.summary);
    assert.ok(found.evidence.length > 0);
  });
}

test('access rule: no conditions lets every verified certificate in', () => {
  assert.deepEqual(evaluateRule(undefined, withSans), { matched: true, checks: [] });
  assert.deepEqual(evaluateRule({}, withSans), { matched: true, checks: [] });
});

const rules: { name: string; rule: { cnEquals?: string; sanDnsEquals?: string }; matched: boolean; evidence?: RegExp }[] = [
  { name: 'CN equal', rule: { cnEquals: 'cxml-supplier.example.com' }, matched: true },
  { name: 'CN differs in case (exact, as Apache compares)', rule: { cnEquals: 'CXML-supplier.example.com' }, matched: false, evidence: /expected "CXML-supplier\.example\.com", the certificate has CN "cxml-supplier\.example\.com"/ },
  { name: 'CN is the O, not the CN', rule: { cnEquals: 'Acme' }, matched: false },
  { name: 'SAN DNS equal, any case', rule: { sanDnsEquals: 'orders.example.com' }, matched: true },
  { name: 'SAN DNS absent', rule: { sanDnsEquals: 'other.example.com' }, matched: false, evidence: /DNS names cxml-supplier\.example\.com, Orders\.Example\.com/ },
  { name: 'both given, one fails', rule: { cnEquals: 'cxml-supplier.example.com', sanDnsEquals: 'nope.example.com' }, matched: false },
];
for (const r of rules) {
  test(`access rule: ${r.name}`, () => {
    const result = evaluateRule(r.rule, withSans);
    assert.equal(result.matched, r.matched);
    assert.equal(result.checks.length, Object.keys(r.rule).length);
    if (!r.matched) {
      assert.equal(result.finding?.code, 'access_denied');
      if (r.evidence) assert.match(result.finding!.evidence.join('\n'), r.evidence);
    }
  });
}

test('CA bundle: warnings for an intermediate without its root and for a leaf', async () => {
  const intermediateOnly = await readTrustBundle(pki.clientIntermediate.cert);
  assert.match(intermediateOnly.warnings.join('\n'), /intermediate whose issuer CN=Test Client Root, O=Harness Tests is not in the bundle/);
  const complete = await readTrustBundle(pki.clientIntermediate.cert + pki.clientCa.cert);
  assert.deepEqual(complete.warnings, []);
  assert.deepEqual(complete.subjects, ['CN=Test Client Intermediate, O=Harness Tests', 'CN=Test Client Root, O=Harness Tests']);
  const leaf = await readTrustBundle(pki.client.cert);
  assert.match(leaf.warnings.join('\n'), /not a CA certificate/);
});

test('CA bundle: a key or nothing readable is refused without echoing it', async () => {
  await assert.rejects(readTrustBundle(pki.clientCa.cert + pki.clientCa.key), (e: unknown) => e instanceof CaBundleError && /private key/.test(e.message) && !e.message.includes('BEGIN'));
  await assert.rejects(readTrustBundle('nothing here'), CaBundleError);
});

test('inbound fixes speak to the partner\'s client and the listener, for the codes the listener produces', () => {
  for (const [code, fix] of Object.entries(INBOUND_FIXES)) {
    assert.ok(fix.client.length > 20 && fix.server.length > 20, code);
  }
  const d = inboundDiagnosis('client_cert_unknown_ca', ['e'], 'why');
  assert.match(d.fix.server, /listener's CA bundle/);
  assert.equal(d.summary, 'why');
  // Codes without an inbound wording keep the catalogue's.
  assert.match(inboundDiagnosis('listener_cert_untrusted', []).fix.client, /server-ca\.pem/);
});
