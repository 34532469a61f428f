// The diagnosis catalogue: every way a probe can fail, as data. Codes are stable — support
// staff search for them — so add new codes rather than renaming old ones.
import type { Diagnosis, Fix, ProbePhase } from './protocol.ts';

export interface DiagnosisEntry {
  /** Phase the failure belongs to. */
  phase: ProbePhase;
  /** Short heading, e.g. for the timeline. */
  title: string;
  /** One plain-language line: what happened and why. */
  summary: string;
  fix: Fix;
}

export const DIAGNOSES = {
  client_cert_required: {
    phase: 'tls',
    title: 'Client certificate required',
    summary: 'The server requires a client certificate and none was sent.',
    fix: {
      client: 'Choose a client certificate and its private key for this probe (Keys & certs), issued by a CA the server trusts.',
      server: 'Nothing to change if a certificate is mandatory (Apache: SSLVerifyClient require; nginx: ssl_verify_client on). Use "optional" only if some clients may connect without one.',
    },
  },
  client_cert_unknown_ca: {
    phase: 'tls',
    title: 'Client certificate from an untrusted CA',
    summary: 'The server does not trust the CA that issued the client certificate (TLS alert unknown_ca).',
    fix: {
      client: 'Use a certificate issued by one of the CAs the server accepts (see its acceptable CA names), and send the intermediate certificates with it.',
      server: 'Add the issuing CA (root and intermediates) to the trusted client CA file: Apache SSLCACertificateFile, nginx ssl_client_certificate (or ssl_trusted_certificate).',
    },
  },
  client_cert_expired: {
    phase: 'tls',
    title: 'Client certificate expired',
    summary: 'The server rejected the client certificate because it (or a certificate in its chain) has expired.',
    fix: {
      client: 'Renew the client certificate and probe again with the new one.',
      server: 'Nothing to change; an expired certificate must be refused. Trust the upcoming CA/certificate before the rotation date.',
    },
  },
  client_cert_not_yet_valid: {
    phase: 'tls',
    title: 'Client certificate not yet valid',
    summary: 'The client certificate\'s validity starts in the future, so the server refused it (TLS alert bad_certificate).',
    fix: {
      client: 'Wait until the certificate\'s notBefore date, or reissue it with a validity that starts now; check the clock of the machine that issued it.',
      server: 'Check the server clock (NTP); a server clock running behind refuses fresh certificates.',
    },
  },
  client_cert_revoked: {
    phase: 'tls',
    title: 'Client certificate revoked',
    summary: 'The server found the client certificate on its certificate revocation list (TLS alert certificate_revoked).',
    fix: {
      client: 'Get a new certificate issued; a revoked one cannot be used again.',
      server: 'If the revocation is a mistake, reissue the CRL without this serial (Apache SSLCARevocationFile, nginx ssl_crl) and reload.',
    },
  },
  client_cert_wrong_usage: {
    phase: 'tls',
    title: 'Client certificate not meant for client authentication',
    summary: 'The server refused the certificate because its extended key usage does not allow TLS client authentication (TLS alert unsupported_certificate).',
    fix: {
      client: 'Request a certificate with Extended Key Usage "TLS Web Client Authentication" (clientAuth); a serverAuth-only certificate cannot be used as a client certificate.',
      server: 'Nothing to change; the server is right to refuse it.',
    },
  },
  client_cert_signature_invalid: {
    phase: 'tls',
    title: 'Client signature did not verify',
    summary: 'The server could not verify the client\'s signature (TLS alert decrypt_error): the private key does not belong to the certificate, or a certificate in the chain is corrupt.',
    fix: {
      client: 'Use the private key that matches the certificate (the Inputs step checks this) and send an intact chain.',
      server: 'Nothing to change unless the server forces a signature algorithm the client key cannot make.',
    },
  },
  client_chain_too_deep: {
    phase: 'tls',
    title: 'Client chain longer than the server allows',
    summary: 'The server stopped the handshake (TLS alert internal_error) because the client certificate chain is longer than its verify depth.',
    fix: {
      client: 'Send a shorter chain if the CA offers one, or ask the partner to raise the verify depth.',
      server: 'Raise the verify depth to cover the whole chain: Apache SSLVerifyDepth (counts CAs above the leaf), nginx ssl_verify_depth.',
    },
  },
  client_cert_rejected: {
    phase: 'tls',
    title: 'Client certificate rejected',
    summary: 'The server refused the connection after the handshake without saying exactly why (it closed the connection or answered with an error page).',
    fix: {
      client: 'Check that the certificate is issued by a CA the server accepts, is valid now, has clientAuth in its EKU, and that the chain is sent; compare with the acceptable CA names.',
      server: 'Look in the server\'s error log for the verification error of this connection (Apache: "Certificate Verification", nginx: "client SSL certificate verify error").',
    },
  },
  access_denied: {
    phase: 'response',
    title: 'Access rule refused the client',
    summary: 'The TLS handshake succeeded and the certificate was accepted, but the server\'s access rule refused this client (HTTP 403).',
    fix: {
      client: 'Check that the certificate subject (CN) or SAN is the one the partner expects.',
      server: 'Check the access rule against the certificate subject: Apache Require expr %{SSL_CLIENT_S_DN_CN} == "…", nginx if ($ssl_client_s_dn !~ "CN=…") { return 403; }.',
    },
  },
  client_ca_not_acceptable: {
    phase: 'tls',
    title: 'Client certificate issuer not among the acceptable CAs',
    summary: 'The server listed the CAs it accepts, and the client certificate\'s chain reaches none of them; the server will most likely refuse it.',
    fix: {
      client: 'Use a certificate issued under one of the acceptable CA names shown, or include the intermediate that links it to one of them.',
      server: 'If this CA should be accepted, add it to the trusted client CA file (Apache SSLCACertificateFile / SSLCADNRequestFile, nginx ssl_client_certificate).',
    },
  },
  server_cert_untrusted: {
    phase: 'tls',
    title: 'Server certificate not trusted',
    summary: 'The server\'s certificate chain does not lead to a CA this probe trusts.',
    fix: {
      client: 'Add the server\'s CA to the probe\'s CA bundle, or turn off server verification for this diagnostic run.',
      server: 'Serve a certificate from a CA your partners trust, with the full chain (Apache SSLCertificateFile with intermediates appended, nginx ssl_certificate with the chain).',
    },
  },
  server_cert_self_signed: {
    phase: 'tls',
    title: 'Server certificate is self-signed',
    summary: 'The server presented a self-signed certificate that this probe does not trust.',
    fix: {
      client: 'If this server is meant to be trusted, add its certificate to the probe\'s CA bundle.',
      server: 'Use a certificate issued by a CA your partners trust.',
    },
  },
  server_chain_incomplete: {
    phase: 'tls',
    title: 'Server chain incomplete',
    summary: 'The server did not send the intermediate certificate(s) needed to link its certificate to a trusted root.',
    fix: {
      client: 'As a workaround, add the missing intermediate to the probe\'s CA bundle.',
      server: 'Send the intermediates: append them to the certificate file (Apache 2.4.8+: SSLCertificateFile with the chain; nginx: ssl_certificate fullchain.pem).',
    },
  },
  server_cert_expired: {
    phase: 'tls',
    title: 'Server certificate expired',
    summary: 'The server\'s certificate (or one in its chain) has expired.',
    fix: {
      client: 'Nothing to change on your side; tell the server operator.',
      server: 'Renew the server certificate and reload the server.',
    },
  },
  server_hostname_mismatch: {
    phase: 'tls',
    title: 'Host name does not match the server certificate',
    summary: 'The server\'s certificate is not valid for the host name in the URL.',
    fix: {
      client: 'Use a host name that the certificate covers (see its SANs).',
      server: 'Add the host name to the certificate\'s Subject Alternative Names, or serve the right certificate for this name (SNI).',
    },
  },
  tls_version_mismatch: {
    phase: 'tls',
    title: 'No common TLS version',
    summary: 'The client and server could not agree on a TLS protocol version.',
    fix: {
      client: 'Allow the TLS version the server supports if policy permits.',
      server: 'Enable TLS 1.2 and 1.3 (Apache SSLProtocol -all +TLSv1.2 +TLSv1.3, nginx ssl_protocols TLSv1.2 TLSv1.3).',
    },
  },
  tls_handshake_failed: {
    phase: 'tls',
    title: 'TLS handshake failed',
    summary: 'The TLS handshake failed for a reason not covered by a more specific diagnosis.',
    fix: {
      client: 'Look at the alert and error in the evidence; check the URL, port and certificate.',
      server: 'Check the server\'s error log for this connection.',
    },
  },
  not_tls: {
    phase: 'tls',
    title: 'The port does not speak TLS',
    summary: 'Something answered on this port, but not with TLS (often plain HTTP on a port expected to be HTTPS).',
    fix: {
      client: 'Check the scheme and port: use http:// for a plain port or the server\'s HTTPS port.',
      server: 'Enable TLS on this listener (Apache SSLEngine on, nginx listen … ssl).',
    },
  },
  dns_not_found: {
    phase: 'dns',
    title: 'Host name not found',
    summary: 'The host name did not resolve to any address.',
    fix: {
      client: 'Check the spelling of the host name and your DNS or hosts file.',
      server: 'Publish a DNS record for the host.',
    },
  },
  connect_refused: {
    phase: 'tcp',
    title: 'Connection refused',
    summary: 'Nothing is listening on that address and port (the connection was refused).',
    fix: {
      client: 'Check the port in the URL and that the server is running.',
      server: 'Start the server, or make it listen on this address and port (Apache Listen, nginx listen).',
    },
  },
  connect_timeout: {
    phase: 'tcp',
    title: 'Connection timed out',
    summary: 'No answer to the TCP connection attempt within the time limit (a firewall may be dropping it).',
    fix: {
      client: 'Check the address, port and any firewall or VPN between you and the server.',
      server: 'Allow inbound connections from the partner on this port.',
    },
  },
  tls_timeout: {
    phase: 'tls',
    title: 'TLS handshake timed out',
    summary: 'The TCP connection opened but the TLS handshake did not finish within the time limit.',
    fix: {
      client: 'Check that the port speaks TLS and that nothing in between holds the connection.',
      server: 'Check that the listener has TLS enabled and is not overloaded.',
    },
  },
  response_timeout: {
    phase: 'response',
    title: 'No response in time',
    summary: 'The request was sent but the server did not answer within the time limit.',
    fix: {
      client: 'Check the path and method; the application behind the TLS endpoint may be slow or stuck.',
      server: 'Check the application behind the TLS endpoint and its logs.',
    },
  },
  body_timeout: {
    phase: 'response',
    title: 'Response body stalled',
    summary: 'The server sent the response headers but the body did not finish within the time limit.',
    fix: {
      client: 'Check whether the endpoint streams or long-polls; the probe expects a complete response.',
      server: 'Check the application behind the endpoint: it stalled after sending headers.',
    },
  },
  response_incomplete: {
    phase: 'response',
    title: 'Response cut off',
    summary: 'The server closed the connection in the middle of the response body.',
    fix: {
      client: 'Retry; if it persists, compare with curl (see "Copy as curl").',
      server: 'Check the server and any proxy in front of it for errors or connection limits during this response.',
    },
  },
  response_too_large: {
    phase: 'response',
    title: 'Response body too large',
    summary: 'The response body grew past the relay\'s limit, so reading stopped.',
    fix: {
      client: 'Probe an endpoint with a bounded answer.',
      server: 'Check that the endpoint ends its response (Content-Length or a final chunk).',
    },
  },
  response_headers_too_large: {
    phase: 'response',
    title: 'Response headers too large',
    summary: 'The server sent a response header block larger than the relay accepts.',
    fix: {
      client: 'Nothing to change on your side.',
      server: 'Check the response headers (large cookies or a loop adding headers).',
    },
  },
  response_malformed: {
    phase: 'response',
    title: 'Malformed HTTP response',
    summary: 'The server\'s answer is not valid HTTP/1.1.',
    fix: {
      client: 'Check that the port serves HTTP over TLS (not another protocol).',
      server: 'Check the application or proxy answering on this port.',
    },
  },
  connection_closed: {
    phase: 'response',
    title: 'Connection closed without an answer',
    summary: 'The server closed the connection before sending an HTTP response.',
    fix: {
      client: 'Retry; if it persists, compare with curl (see "Copy as curl").',
      server: 'Check the server error log for this connection.',
    },
  },
  http_error: {
    phase: 'response',
    title: 'HTTP error status',
    summary: 'The server answered with an error status.',
    fix: {
      client: 'Check the path, method, headers and body of the request.',
      server: 'Check the application log for this request.',
    },
  },
  target_address_refused: {
    phase: 'dns',
    title: 'Target address not allowed',
    summary: 'This relay runs in hosted mode and does not connect to loopback, private, link-local or other non-public addresses.',
    fix: {
      client: 'Probe a public address, or run the harness locally (npm start) to reach servers on your own network.',
      server: 'An operator can admit a named private host with harness serve --allow-target HOST.',
    },
  },
  target_port_refused: {
    phase: 'inputs',
    title: 'Target port not allowed',
    summary: 'This relay runs in hosted mode and only connects to the ports its operator allowed.',
    fix: {
      client: 'Use one of the allowed ports, or run the harness locally.',
      server: 'An operator can allow more ports with harness serve --allow-port N.',
    },
  },
  target_scheme_refused: {
    phase: 'inputs',
    title: 'URL scheme not allowed',
    summary: 'Only https:// targets are allowed here.',
    fix: {
      client: 'Use an https:// URL.',
      server: 'Nothing to change.',
    },
  },
  target_userinfo_refused: {
    phase: 'inputs',
    title: 'Credentials in the URL',
    summary: 'URLs with a user name or password in them are refused; credentials belong in headers or the form body, where they are masked.',
    fix: {
      client: 'Remove user:password@ from the URL and send credentials as a header.',
      server: 'Nothing to change.',
    },
  },
  input_invalid: {
    phase: 'inputs',
    title: 'Inputs cannot be used',
    summary: 'The URL, certificate or key given to the probe cannot be used.',
    fix: {
      client: 'Correct the input named in the evidence.',
      server: 'Nothing to change.',
    },
  },
} as const satisfies Record<string, DiagnosisEntry>;

export type DiagnosisCode = keyof typeof DIAGNOSES;

export function isDiagnosisCode(code: string): code is DiagnosisCode {
  return Object.hasOwn(DIAGNOSES, code);
}

/** A diagnosis for the wire: the catalogue entry, an optional more specific summary, and the evidence. */
export function diagnosis(code: DiagnosisCode, evidence: string[], summary?: string): Diagnosis {
  const entry: DiagnosisEntry = DIAGNOSES[code];
  return { code, summary: summary ?? entry.summary, evidence, fix: { ...entry.fix } };
}
