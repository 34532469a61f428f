// TLS alert descriptions (RFC 8446 §6, RFC 5246 §7.2) and how OpenSSL names them in Node
// error codes, e.g. ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED or ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED.

export const TLS_ALERTS: Readonly<Record<number, string>> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  22: 'record_overflow',
  40: 'handshake_failure',
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
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  109: 'missing_extension',
  110: 'unsupported_extension',
  112: 'unrecognized_name',
  113: 'bad_certificate_status_response',
  115: 'unknown_psk_identity',
  116: 'certificate_required',
  120: 'no_application_protocol',
};

export function alertName(description: number): string {
  return TLS_ALERTS[description] ?? `alert_${description}`;
}

const BY_NAME: ReadonlyMap<string, number> = new Map(
  Object.entries(TLS_ALERTS).map(([num, name]) => [name.toUpperCase(), Number(num)]),
);

/**
 * The alert a Node/OpenSSL error reports as received from the peer, from its `code`
 * (ERR_SSL_…_ALERT_NAME) or, for errors that only carry text (EPROTO through https),
 * from "SSL alert number N" in the message.
 */
export function alertFromError(code: string | undefined, message: string | undefined): number | undefined {
  const m = code?.match(/^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_([A-Z_]+)$/);
  if (m) {
    const n = BY_NAME.get(m[1]!);
    if (n !== undefined) return n;
  }
  const n = message?.match(/SSL alert number (\d+)/);
  return n ? Number(n[1]) : undefined;
}
