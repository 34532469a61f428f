// Which alert a Node error reports, across OpenSSL's spellings: 3.0 (Node 20) and 3.5 (Node 24)
// name the same received alert differently, and the diagnosis must not depend on which one runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertFromError, alertName } from './alerts.ts';

const NODE24_HANDSHAKE_FAILURE =
  '407D8BFADC7F0000:error:0A000410:SSL routines:ssl3_read_bytes:ssl/tls alert handshake failure:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:918:SSL alert number 40';

const cases: { name: string; code?: string; message?: string; want: string | undefined }[] = [
  { name: 'OpenSSL 3.0: SSLV3 tag', code: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED', want: 'certificate_expired' },
  { name: 'OpenSSL 3.5: SSL/TLS tag', code: 'ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_EXPIRED', want: 'certificate_expired' },
  { name: 'OpenSSL 3.5: bad_certificate', code: 'ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE', want: 'bad_certificate' },
  { name: 'OpenSSL 3.5: unsupported_certificate', code: 'ERR_SSL_SSL/TLS_ALERT_UNSUPPORTED_CERTIFICATE', want: 'unsupported_certificate' },
  { name: 'TLSV1 tag', code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', want: 'unknown_ca' },
  { name: 'TLSV13 tag', code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', want: 'certificate_required' },
  { name: 'a tag no OpenSSL uses yet', code: 'ERR_SSL_TLS1_3_ALERT_CERTIFICATE_REQUIRED', want: 'certificate_required' },
  { name: "OpenSSL's own spelling of user_canceled", code: 'ERR_SSL_TLSV1_ALERT_USER_CANCELLED', want: 'user_canceled' },
  { name: 'a code without ALERT_', code: 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME', want: 'unrecognized_name' },
  { name: 'the number in the message, with a code', code: 'ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE', message: NODE24_HANDSHAKE_FAILURE, want: 'handshake_failure' },
  { name: 'the number in the message, no alert in the code (https: EPROTO)', code: 'EPROTO', message: NODE24_HANDSHAKE_FAILURE, want: 'handshake_failure' },
  { name: 'the number wins over a name it does not know', code: 'ERR_SSL_SSL/TLS_ALERT_SOMETHING_NEW', message: 'x:SSL alert number 121', want: 'alert_121' },
  { name: 'a failure on this side that shares an alert name', code: 'ERR_SSL_UNEXPECTED_MESSAGE', want: undefined },
  { name: 'a failure on this side', code: 'ERR_SSL_WRONG_VERSION_NUMBER', want: undefined },
  { name: 'ALERT in a local reason', code: 'ERR_SSL_UNKNOWN_ALERT_TYPE', want: undefined },
  { name: 'not TLS at all', code: 'ECONNRESET', message: 'socket hang up', want: undefined },
];

for (const c of cases) {
  test(`alertFromError: ${c.name} → ${c.want ?? 'none'}`, () => {
    const alert = alertFromError(c.code, c.message);
    assert.equal(alert === undefined ? undefined : alertName(alert), c.want);
  });
}
