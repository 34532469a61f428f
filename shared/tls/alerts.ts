// TLS alert descriptions (IANA's TLS Alert registry: RFC 8446 §6, RFC 5246 §7.2) and how to tell
// which one a Node/OpenSSL error reports. OpenSSL's spelling is not stable: 3.0 reports a received
// certificate_expired as ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED ("sslv3 alert certificate
// expired"), 3.5 (Node 24) as ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_EXPIRED; others keep TLSV1_ or
// TLSV13_ and a few drop ALERT_ (TLSV1_UNRECOGNIZED_NAME). So the number comes first, from the
// message's "SSL alert number N", and the name in the code is read whatever precedes it.

export const TLS_ALERTS: Readonly<Record<number, string>> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  21: 'decryption_failed',
  22: 'record_overflow',
  30: 'decompression_failure',
  40: 'handshake_failure',
  41: 'no_certificate',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  60: 'export_restriction',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  100: 'no_renegotiation',
  109: 'missing_extension',
  110: 'unsupported_extension',
  111: 'certificate_unobtainable',
  112: 'unrecognized_name',
  113: 'bad_certificate_status_response',
  114: 'bad_certificate_hash_value',
  115: 'unknown_psk_identity',
  116: 'certificate_required',
  120: 'no_application_protocol',
};

export function alertName(description: number): string {
  return TLS_ALERTS[description] ?? `alert_${description}`;
}

/** Names as OpenSSL spells them in error codes: the RFC names upper-cased, plus its own spellings. */
const BY_NAME: ReadonlyMap<string, number> = new Map([
  ...Object.entries(TLS_ALERTS).map(([num, name]) => [name.toUpperCase(), Number(num)] as const),
  ['USER_CANCELLED', 90],
]);

/**
 * The alert a Node/OpenSSL error reports as received from the peer: the number OpenSSL writes in
 * the message ("SSL alert number N"), else the alert the code names — ERR_SSL_<tag>_ALERT_<NAME>
 * whatever the tag, or one of the few ERR_SSL_TLSV1_<NAME> without ALERT_. A code that names no
 * alert (ERR_SSL_WRONG_VERSION_NUMBER: a failure on this side) gives undefined.
 */
export function alertFromError(code: string | undefined, message: string | undefined): number | undefined {
  const number = message?.match(/SSL alert number (\d+)/);
  if (number) return Number(number[1]);
  if (!code?.startsWith('ERR_SSL_')) return undefined;
  const named = code.match(/_ALERT_([A-Z_]+)$/) ?? code.match(/^ERR_SSL_TLSV1\d*_([A-Z_]+)$/);
  return named ? BY_NAME.get(named[1]!) : undefined;
}
