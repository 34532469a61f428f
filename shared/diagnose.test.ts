import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyFailure, classifyServerVerification, type FailureSignals } from './diagnose.ts';
import { DIAGNOSES, diagnosis } from './diagnoses.ts';
import { alertFromError } from './tls/alerts.ts';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const cases: { name: string; s: FailureSignals; want: string }[] = [
  { name: 'TLS 1.3 certificate_required after secureConnect', s: { phase: 'response', errorCode: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', handshakeComplete: true, clientCertSent: false }, want: 'client_cert_required' },
  { name: 'TLS 1.2 handshake_failure, no cert sent (Apache)', s: { phase: 'tls', errorCode: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', clientCertSent: false }, want: 'client_cert_required' },
  { name: 'TLS 1.2 handshake_failure with a cert', s: { phase: 'tls', errorCode: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', clientCertSent: true }, want: 'tls_handshake_failed' },
  { name: 'unknown_ca', s: { phase: 'tls', errorCode: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', clientCertSent: true }, want: 'client_cert_unknown_ca' },
  { name: 'EPROTO with the alert only in the message', s: { phase: 'tls', errorCode: 'EPROTO', errorMessage: 'C0A7:error:0A000418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1605:SSL alert number 48', clientCertSent: true }, want: 'client_cert_unknown_ca' },
  { name: 'certificate_expired', s: { phase: 'response', errorCode: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED', clientCertSent: true }, want: 'client_cert_expired' },
  { name: 'certificate_revoked', s: { phase: 'tls', errorCode: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED', clientCertSent: true }, want: 'client_cert_revoked' },
  { name: 'unsupported_certificate (wrong EKU)', s: { phase: 'tls', errorCode: 'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE', clientCertSent: true }, want: 'client_cert_wrong_usage' },
  { name: 'bad_certificate, cert starts in the future', s: { phase: 'tls', errorCode: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', clientCertSent: true, clientNotBefore: NOW + 1000, now: NOW }, want: 'client_cert_not_yet_valid' },
  { name: 'bad_certificate otherwise', s: { phase: 'tls', errorCode: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', clientCertSent: true, clientNotBefore: NOW - 1000, clientNotAfter: NOW + 1000, now: NOW }, want: 'client_cert_rejected' },
  { name: 'decrypt_error', s: { phase: 'tls', errorCode: 'ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR', clientCertSent: true }, want: 'client_cert_signature_invalid' },
  { name: 'internal_error with a chain', s: { phase: 'tls', errorCode: 'ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR', clientCertSent: true, clientChainLength: 3 }, want: 'client_chain_too_deep' },
  { name: 'internal_error with a lone leaf', s: { phase: 'tls', errorCode: 'ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR', clientCertSent: true, clientChainLength: 1 }, want: 'tls_handshake_failed' },
  { name: 'protocol_version', s: { phase: 'tls', errorCode: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' }, want: 'tls_version_mismatch' },
  { name: 'the alert the tap read, the error naming none', s: { phase: 'tls', errorCode: 'ERR_SSL_SOMETHING_NEW', serverAlert: 48, clientCertSent: true }, want: 'client_cert_unknown_ca' },
  { name: 'OpenSSL 3.5 spelling (Node 24)', s: { phase: 'tls', errorCode: 'ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_EXPIRED', clientCertSent: true }, want: 'client_cert_expired' },
  { name: 'unsupported protocol locally', s: { phase: 'tls', errorCode: 'ERR_SSL_UNSUPPORTED_PROTOCOL' }, want: 'tls_version_mismatch' },
  { name: 'plain HTTP on a TLS port', s: { phase: 'tls', errorCode: 'ERR_SSL_WRONG_VERSION_NUMBER' }, want: 'not_tls' },
  { name: 'nginx 400 no certificate', s: { phase: 'response', httpStatus: 400, httpBody: '<center>No required SSL certificate was sent</center>' }, want: 'client_cert_required' },
  { name: 'nginx 400 certificate error', s: { phase: 'response', httpStatus: 400, httpBody: '<center>The SSL certificate error</center>' }, want: 'client_cert_rejected' },
  { name: 'nginx 400 certificate error, certificate expired', s: { phase: 'response', httpStatus: 400, httpBody: '<center>The SSL certificate error</center>', clientCertSent: true, clientNotBefore: NOW - 2000, clientNotAfter: NOW - 1000, now: NOW }, want: 'client_cert_expired' },
  { name: 'nginx 400 certificate error, certificate not yet valid', s: { phase: 'response', httpStatus: 400, httpBody: '<center>The SSL certificate error</center>', clientCertSent: true, clientNotBefore: NOW + 1000, clientNotAfter: NOW + 2000, now: NOW }, want: 'client_cert_not_yet_valid' },
  { name: 'nginx 400 certificate error, EKU without clientAuth', s: { phase: 'response', httpStatus: 400, httpBody: '<center>The SSL certificate error</center>', clientCertSent: true, clientNotBefore: NOW - 1000, clientNotAfter: NOW + 1000, clientCertClientAuth: false, now: NOW }, want: 'client_cert_wrong_usage' },
  { name: 'nginx 400 certificate error, certificate valid now', s: { phase: 'response', httpStatus: 400, httpBody: '<center>The SSL certificate error</center>', clientCertSent: true, clientNotBefore: NOW - 1000, clientNotAfter: NOW + 1000, now: NOW }, want: 'client_cert_rejected' },
  { name: 'nginx 400 certificate error, chain reaches no acceptable CA', s: { phase: 'response', httpStatus: 400, httpBody: '<center>The SSL certificate error</center>', clientCertSent: true, clientNotBefore: NOW - 1000, clientNotAfter: NOW + 1000, clientChainReachesAcceptableCA: false, now: NOW }, want: 'client_cert_unknown_ca' },
  { name: 'nginx 400 certificate error, $ssl_client_verify passed on', s: { phase: 'response', httpStatus: 400, httpBody: '<center>The SSL certificate error</center>', clientCertSent: true, httpHeaders: { 'x-ssl-client-verify': 'FAILED:certificate revoked' } }, want: 'client_cert_revoked' },
  { name: 'bad_certificate, chain reaches no acceptable CA', s: { phase: 'tls', errorCode: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', clientCertSent: true, clientChainReachesAcceptableCA: false }, want: 'client_cert_unknown_ca' },
  { name: 'silent close, expired certificate', s: { phase: 'response', errorCode: 'ECONNRESET', handshakeComplete: true, clientCertSent: true, clientNotAfter: NOW - 1000, now: NOW }, want: 'client_cert_expired' },
  { name: 'Apache Require expr 403', s: { phase: 'response', httpStatus: 403, handshakeComplete: true }, want: 'access_denied' },
  { name: 'plain 400', s: { phase: 'response', httpStatus: 400, httpBody: 'bad' }, want: 'http_error' },
  { name: 'silent close, no cert', s: { phase: 'response', errorCode: 'ECONNRESET', handshakeComplete: true, clientCertSent: false }, want: 'client_cert_required' },
  { name: 'silent close, with cert', s: { phase: 'response', errorCode: 'ECONNRESET', handshakeComplete: true, clientCertSent: true }, want: 'client_cert_rejected' },
  { name: 'silent close, server did not ask for a cert', s: { phase: 'response', errorCode: 'ECONNRESET', handshakeComplete: true, clientCertSent: false, certificateRequested: false }, want: 'client_cert_rejected' },
  { name: 'refused', s: { phase: 'tcp', errorCode: 'ECONNREFUSED' }, want: 'connect_refused' },
  { name: 'tcp timeout', s: { phase: 'tcp', timedOut: true }, want: 'connect_timeout' },
  { name: 'dns', s: { phase: 'dns', errorCode: 'ENOTFOUND' }, want: 'dns_not_found' },
  { name: 'tls timeout', s: { phase: 'tls', timedOut: true }, want: 'tls_timeout' },
  { name: 'response timeout', s: { phase: 'response', timedOut: true, handshakeComplete: true }, want: 'response_timeout' },
];

for (const c of cases) {
  test(`classifyFailure: ${c.name} → ${c.want}`, () => {
    assert.equal(classifyFailure(c.s).code, c.want);
  });
}

test('alert evidence names the alert number and name', () => {
  const { evidence } = classifyFailure({ phase: 'tls', errorCode: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' });
  assert.match(evidence[0]!, /TLS alert 48 \(unknown_ca\)/);
});

test('alertFromError reads codes and messages', () => {
  assert.equal(alertFromError('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', undefined), 116);
  assert.equal(alertFromError('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', undefined), 40);
  assert.equal(alertFromError('EPROTO', 'blah SSL alert number 45'), 45);
  assert.equal(alertFromError('ECONNRESET', 'socket hang up'), undefined);
});

test('server verification errors map to server diagnoses', () => {
  assert.equal(classifyServerVerification('DEPTH_ZERO_SELF_SIGNED_CERT'), 'server_cert_self_signed');
  assert.equal(classifyServerVerification('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'server_chain_incomplete');
  assert.equal(classifyServerVerification('CERT_HAS_EXPIRED'), 'server_cert_expired');
  assert.equal(classifyServerVerification('ERR_TLS_CERT_ALTNAME_INVALID'), 'server_hostname_mismatch');
  assert.equal(classifyServerVerification('SELF_SIGNED_CERT_IN_CHAIN'), 'server_cert_untrusted');
});

test('every catalogue entry has a summary and a fix for both sides', () => {
  for (const [code, entry] of Object.entries(DIAGNOSES)) {
    assert.match(code, /^[a-z0-9_]+$/);
    assert.ok(entry.summary.length > 20, code);
    assert.ok(entry.fix.client.length > 10 && entry.fix.server.length > 10, code);
  }
  const d = diagnosis('access_denied', ['HTTP 403']);
  assert.equal(d.code, 'access_denied');
  assert.deepEqual(d.evidence, ['HTTP 403']);
});

test('the catalogue holds every code the mTLS probe promises', () => {
  const promised = ['client_cert_required', 'client_cert_unknown_ca', 'client_cert_expired', 'client_cert_not_yet_valid', 'client_cert_revoked', 'client_cert_wrong_usage', 'client_cert_signature_invalid', 'client_chain_too_deep', 'client_cert_rejected', 'access_denied', 'client_ca_not_acceptable', 'server_cert_untrusted', 'server_cert_self_signed', 'server_chain_incomplete', 'server_cert_expired', 'server_hostname_mismatch', 'tls_version_mismatch', 'not_tls', 'dns_not_found', 'connect_refused', 'connect_timeout', 'tls_timeout', 'response_timeout'];
  for (const code of promised) assert.ok(code in DIAGNOSES, code);
});
