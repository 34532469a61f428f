// The diagnosis catalogue: every way a probe can fail, as data. Codes are stable — support
// staff search for them — so add new codes rather than renaming old ones.
import type { Diagnosis, Fix, ProbePhase } from './protocol/index.ts';

interface DiagnosisEntry {
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
      server: 'Add the issuing CA (root and intermediates) to the trusted client CA file: Apache SSLCACertificateFile, nginx ssl_client_certificate (or ssl_trusted_certificate). If the chain does reach a trusted CA, look for "unable to get certificate CRL" in the error log: with SSLCARevocationCheck chain (or nginx ssl_crl) every CA in the chain needs a CRL, and a missing one is sent as unknown_ca.',
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
    summary: 'The client certificate\'s validity starts in the future, so the server refused it (Apache: TLS alert bad_certificate; nginx: HTTP 400).',
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
      server: 'Raise the verify depth to cover the whole chain: Apache SSLVerifyDepth counts the CAs above the client certificate, root included; nginx ssl_verify_depth counts intermediates only, so the same chain needs one less there.',
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
      server: 'Check the access rule against the certificate subject: Apache Require expr %{SSL_CLIENT_S_DN_CN} == "…", nginx if ($ssl_client_s_dn !~ "(^|,)CN=…(,|$)") { return 403; }.',
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
  server_accepts_untrusted_client_cert: {
    phase: 'tls',
    title: 'Server accepted a client certificate it should have refused',
    summary: 'Security finding: the server let the request through with a client certificate it should not trust (its chain reaches none of the CAs the server names, or it is self-signed, expired or not yet valid): the server does not enforce client-certificate verification.',
    fix: {
      client: 'Nothing to change on your side to get through; tell the server operator, and use a certificate from the CA the server should trust.',
      server: 'Fail the handshake on verification errors: Apache SSLVerifyClient require; nginx ssl_verify_client on (not optional_no_ca); openssl s_server -verify_return_error. Trust only the intended CA file. Run the server check to see every case.',
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
  // ---- inbound check (server/inbound/): a partner's client connects to a listener the harness
  // opened. Here "client" is the partner's client and "server" is the listener's configuration.
  listener_cert_untrusted: {
    phase: 'tls',
    title: 'Client does not trust the listener',
    summary: 'The client stopped the handshake with a TLS alert (unknown_ca, bad_certificate or certificate_unknown) because it does not trust the listener\'s certificate, or it connected under a name the certificate does not cover.',
    fix: {
      client: 'Trust the listener\'s CA (shown when the listener started; save it as server-ca.pem): curl --cacert server-ca.pem, Java keytool -importcert into the truststore, .NET/OS trust store; and connect to localhost, the name in the certificate.',
      server: 'Nothing to change in the listener: it serves the lab\'s localhost certificate or one made for it. Hand its CA to whoever runs the client.',
    },
  },
  client_aborted_handshake: {
    phase: 'tls',
    title: 'Client gave up during the handshake',
    summary: 'The client closed the connection before the TLS handshake finished, without a TLS alert: it stopped on its own (a timeout, a protocol version or cipher it refuses, or a certificate check it does not report), or it only tested that the port was open.',
    fix: {
      client: 'Run the client with handshake logging to see why it stopped (curl -v, Java -Djavax.net.debug=ssl:handshake, openssl s_client -connect host:port -cert … -key …), and check that it trusts the listener\'s CA.',
      server: 'Nothing to change in the listener unless the client\'s log names a protocol version or cipher suite: it offers TLS 1.2 and 1.3 with Node\'s default cipher suites.',
    },
  },
  // ---- token flows (server/flows/): client authentication, JWTs, grants, tokens, API calls.
  // Authorization servers refuse with one opaque error (invalid_client / invalid_grant), so
  // these codes come from what the harness checked itself; the evidence names those checks.
  client_secret_rejected: {
    phase: 'exchange',
    title: 'Client secret refused',
    summary: 'The authorization server refused the client credentials (invalid_client): the secret is wrong, the client id is unknown there, or the client is registered for another authentication method.',
    fix: {
      client: 'Check client_id and client_secret for stray spaces and the right environment (test vs production), and send the secret the way the client is registered (Basic header for client_secret_basic, form fields for client_secret_post).',
      server: 'Look the client up: is this client_id registered, is the secret current (not rotated or expired), and is its token_endpoint_auth_method the one the partner uses?',
    },
  },
  auth_method_not_supported: {
    phase: 'exchange',
    title: 'Client authentication method not offered',
    summary: 'The client authenticated with a method the server does not list in token_endpoint_auth_methods_supported, so it cannot succeed.',
    fix: {
      client: 'Use one of the methods the discovery document lists, the one the client is registered with.',
      server: 'If this method should work, enable it (oidc-provider: clientAuthMethods and features.mTLS; Keycloak: the client authenticator) and publish it in discovery.',
    },
  },
  auth_method_mismatch: {
    phase: 'exchange',
    title: 'Client registered for another authentication method',
    summary: 'The client is registered with a different token_endpoint_auth_method than the one used, so the server refuses it (invalid_client).',
    fix: {
      client: 'Authenticate the way the client is registered (the evidence names the registered method).',
      server: 'Change the client\'s registered token_endpoint_auth_method if the partner should use this one.',
    },
  },
  client_auth_missing: {
    phase: 'exchange',
    title: 'No client authentication sent',
    summary: 'The token request carried no client credentials, and the server requires them for this client (invalid_client).',
    fix: {
      client: 'Send client credentials as registered: a secret (Basic header or form), a private_key_jwt client assertion, or a TLS client certificate.',
      server: 'If this is a public client (a browser or mobile app using PKCE), register it with token_endpoint_auth_method "none".',
    },
  },
  client_assertion_rejected: {
    phase: 'exchange',
    title: 'Client assertion refused',
    summary: 'The server refused the private_key_jwt client assertion although every claim the harness can check is right: most likely the signing key is not the one registered for the client, or the jti was used before.',
    fix: {
      client: 'Check that the public key registered for the client (JWKS or jwks_uri) pairs with the signing key and that its kid is the one in the header; make a fresh assertion (new jti) for every request.',
      server: 'Check the client\'s registered JWKS or jwks_uri (reachable, current key present, kid as sent) and the server log for the exact reason.',
    },
  },
  client_secret_jwt_rejected: {
    phase: 'exchange',
    title: 'Client secret JWT refused',
    summary: 'The server refused the client_secret_jwt assertion (HS256, signed with the client secret) although every claim the harness signed is right: most likely the signature does not match because the secret differs from the one the server holds.',
    fix: {
      client: 'Check the client secret (stray spaces, the right environment, not rotated) and the client_id; the assertion is signed with the secret\'s exact bytes.',
      server: 'Check that the client is registered with token_endpoint_auth_method client_secret_jwt, which HMAC alg it is pinned to, and that the secret on record is the one the partner has.',
    },
  },
  token_inactive: {
    phase: 'token',
    title: 'Token not active',
    summary: 'The introspection endpoint answered active: false. RFC 7662 gives no reason: the token expired, was revoked, was never issued by this server, or was issued to another client.',
    fix: {
      client: 'Introspect a fresh token, as the client it was issued to (most servers answer inactive to any other client), at the server that issued it.',
      server: 'Check the token in the server\'s store or log: its expiry, whether it was revoked, and which client it was issued to.',
    },
  },
  endpoint_not_found: {
    phase: 'token',
    title: 'No introspection or revocation endpoint at this URL',
    summary: 'The URL does not answer introspection or revocation requests (HTTP 404 or 405): wrong path, wrong host, or the server does not offer the feature.',
    fix: {
      client: 'Take the endpoint from the discovery document (introspection_endpoint, revocation_endpoint) and POST to it.',
      server: 'Enable introspection (RFC 7662) or revocation (RFC 7009), publish the endpoint in discovery and route POST requests to it.',
    },
  },
  token_still_active: {
    phase: 'token',
    title: 'Revoked token still works',
    summary: 'The server accepted the revocation request, yet the token is still active: introspection says so, or the API still accepts it.',
    fix: {
      client: 'Check that the token revoked is the one tested, and its token_type_hint; a server may ignore a revocation for a token issued to another client and still answer 200 (RFC 7009 §2.2).',
      server: 'Revoke the token in the store the introspection endpoint and the API read; an API that verifies JWT access tokens locally keeps accepting them until they expire (use short lifetimes or introspection there).',
    },
  },
  introspection_response_invalid: {
    phase: 'token',
    title: 'Introspection answer not RFC 7662',
    summary: 'The introspection endpoint answered 2xx, but not with a JSON object whose "active" is true or false (RFC 7662 §2.2).',
    fix: {
      client: 'Check the URL: it must be the introspection endpoint (discovery\'s introspection_endpoint), not a user-info or token endpoint.',
      server: 'Answer introspection with application/json and a boolean "active" member.',
    },
  },
  tls_client_auth_no_certificate: {
    phase: 'exchange',
    title: 'No client certificate for certificate authentication',
    summary: 'The client authenticates with its TLS certificate (tls_client_auth / self_signed_tls_client_auth), but no client certificate reached the server on this connection.',
    fix: {
      client: 'Select the client certificate and key for the flow. If the server did not ask for one, the mTLS token endpoint may be another URL (mtls_endpoint_aliases in discovery).',
      server: 'Ask for client certificates on the token endpoint (nginx ssl_verify_client optional_no_ca, Apache SSLVerifyClient optional_no_ca) and pass the certificate to the authorization server; publish mtls_endpoint_aliases if mTLS uses another host.',
    },
  },
  tls_client_auth_rejected: {
    phase: 'exchange',
    title: 'Client certificate refused for client authentication',
    summary: 'The TLS handshake carried the client certificate, but the authorization server did not accept it for this client: the subject does not match the registration, the CA is not trusted for client authentication, or the self-signed certificate is not registered.',
    fix: {
      client: 'Compare the certificate subject (shown in the step) with the value registered for the client (tls_client_auth_subject_dn or SAN), exactly; for self_signed_tls_client_auth register the certificate in the client JWKS (x5c).',
      server: 'Check the client\'s tls_client_auth_subject_dn (or SAN) against the certificate subject and that the TLS terminator passes the certificate on (nginx $ssl_client_escaped_cert, Apache SSL_CLIENT_CERT).',
    },
  },
  jwt_expired: {
    phase: 'exchange',
    title: 'JWT expired',
    summary: 'The JWT had already expired when it was sent (exp is in the past), so the server refused it.',
    fix: {
      client: 'Make a fresh JWT right before each request, with exp one or two minutes ahead, and check the clock of the machine that signs it.',
      server: 'Nothing to change: expired assertions must be refused. A small clock leeway (30–60 s) helps clients whose clocks drift.',
    },
  },
  jwt_not_yet_valid: {
    phase: 'exchange',
    title: 'JWT not yet valid',
    summary: 'The JWT\'s nbf lies in the future, so the server does not accept it yet.',
    fix: {
      client: 'Set nbf to the signing time (or leave it out) and check the signing machine\'s clock.',
      server: 'Allow a small clock leeway for nbf and iat.',
    },
  },
  jwt_audience_mismatch: {
    phase: 'exchange',
    title: 'JWT audience is not this server',
    summary: 'The JWT\'s aud claim does not name this token endpoint (or the issuer), so the server refuses it.',
    fix: {
      client: 'Set aud to the token endpoint URL exactly as the server publishes it (token_endpoint in discovery): scheme, host, port and path, no trailing slash.',
      server: 'If another audience should be accepted (the issuer, an alias host), configure it; oidc-provider accepts the issuer, the token endpoint and the endpoint URL.',
    },
  },
  jwt_key_unknown: {
    phase: 'exchange',
    title: 'Signing key not registered',
    summary: 'The JWT was signed with a key the server does not have for this client or issuer: its kid is not among the registered keys.',
    fix: {
      client: 'Register the public key (JWK with the same kid) for the client, or sign with the registered key and put its kid in the header.',
      server: 'Add the partner\'s public key to the client\'s JWKS (or check that its jwks_uri serves it); keys are looked up by kid.',
    },
  },
  jwt_signature_mismatch: {
    phase: 'exchange',
    title: 'Signature does not verify with the registered key',
    summary: 'The JWT names a key the server has registered, but its signature does not verify with that key: it was signed with another private key (a rotated or test key), or altered after signing.',
    fix: {
      client: 'Sign with the private key whose public half is registered under this kid, or register the public key of the key you sign with (under the kid you send).',
      server: 'Check which public key is registered under this kid for the client or issuer; after a key rotation, add the new key before the partner switches.',
    },
  },
  jwt_alg_key_mismatch: {
    phase: 'exchange',
    title: 'Algorithm does not fit the key',
    summary: 'The JWT header\'s alg does not fit the key, or is not one the server accepts, so the signature cannot be verified.',
    fix: {
      client: 'Use the key\'s algorithm (RS256 or PS256 for RSA, ES256 for P-256) and one of token_endpoint_auth_signing_alg_values_supported.',
      server: 'Accept the algorithm in the client registration (token_endpoint_auth_signing_alg) if it should be allowed.',
    },
  },
  jwt_lifetime_too_long: {
    phase: 'exchange',
    title: 'JWT lives too long',
    summary: 'The JWT lives longer than servers commonly allow for assertions (5 minutes); many refuse it for that alone.',
    fix: {
      client: 'Set exp at most a few minutes after iat.',
      server: 'If longer-lived assertions are acceptable, raise the maximum assertion lifetime and say so in the integration guide.',
    },
  },
  jwt_claims_invalid: {
    phase: 'exchange',
    title: 'JWT claims incomplete or wrong',
    summary: 'A claim the server requires is missing or has the wrong value (the evidence names it: exp, iss, sub, jti, iat).',
    fix: {
      client: 'Fix the named claim. Client assertions need iss = sub = client_id, aud = the token endpoint, exp and a unique jti.',
      server: 'Nothing to change if your profile requires the claim; name it in the integration guide.',
    },
  },
  jwt_malformed: {
    phase: 'inputs',
    title: 'Not a readable JWT',
    summary: 'The value given as a JWT is not a signed JWT the server can read (three base64url parts: header, claims, signature).',
    fix: {
      client: 'Send the compact signed JWT itself, without quotes, "Bearer " or line breaks.',
      server: 'Nothing to change.',
    },
  },
  clock_skew: {
    phase: 'exchange',
    title: 'Clocks differ',
    summary: 'The clock that signed the JWT, the relay\'s or the server\'s clock is off by more than a minute, so time claims look expired or not yet valid to the server.',
    fix: {
      client: 'Synchronise the signing machine\'s clock (NTP) and take iat and exp from it.',
      server: 'Synchronise the server clock (NTP) and allow a small leeway for time claims.',
    },
  },
  grant_assertion_rejected: {
    phase: 'exchange',
    title: 'JWT grant refused',
    summary: 'The server refused the JWT (invalid_grant) although the claims the harness can check are right: the signing key is not registered for this issuer, the subject is unknown to the server, or the jti was used before.',
    fix: {
      client: 'Check that the server has your public key for this iss (same kid), that sub is a user it knows, and use a fresh jti every time.',
      server: 'Check the trusted-issuer registration (key, iss) and the user mapping for sub; the server log has the exact reason.',
    },
  },
  grant_not_allowed_for_client: {
    phase: 'exchange',
    title: 'Grant type not allowed for this client',
    summary: 'The server knows the client but it is not allowed to use this grant type (unauthorized_client).',
    fix: {
      client: 'Use a grant the client is registered for, or ask the provider to enable this one.',
      server: 'Add the grant type to the client\'s registered grant_types.',
    },
  },
  grant_type_not_supported: {
    phase: 'exchange',
    title: 'Grant type not supported',
    summary: 'The server does not support this grant type at all (unsupported_grant_type).',
    fix: {
      client: 'Use one of the grant types in discovery\'s grant_types_supported.',
      server: 'Enable the grant type (oidc-provider: features.clientCredentials, a registered JWT-bearer grant handler) if partners need it.',
    },
  },
  scope_rejected: {
    phase: 'exchange',
    title: 'Scope refused',
    summary: 'The server refused the requested scope (invalid_scope): it is unknown or not allowed for this client.',
    fix: {
      client: 'Request only scopes the server lists (scopes_supported) and the client is allowed.',
      server: 'Allow the scope for the client, or tell the partner which scopes to request.',
    },
  },
  token_request_invalid: {
    phase: 'exchange',
    title: 'Token request malformed',
    summary: 'The server says the token request itself is malformed (invalid_request): a parameter is missing, repeated, or not allowed.',
    fix: {
      client: 'Read the error_description in the evidence and correct that parameter; send each parameter once, form-encoded.',
      server: 'Return a precise error_description so partners can fix the request.',
    },
  },
  resource_target_rejected: {
    phase: 'exchange',
    title: 'Resource or audience refused',
    summary: 'The server refused the requested resource or audience (invalid_target, RFC 8707 / RFC 8693): it is unknown to the server, not allowed for this client, or not a valid URI.',
    fix: {
      client: 'Send the resource (an absolute URI, no fragment) or audience exactly as the provider names the API, and only ones the client may use.',
      server: 'Register the resource indicator or audience for the client, or tell the partner the exact value to send.',
    },
  },
  authorization_server_unavailable: {
    phase: 'exchange',
    title: 'Authorization server failed or unavailable',
    summary: 'The authorization server said it failed (server_error) or is temporarily unable to answer (temporarily_unavailable); the request itself may be fine.',
    fix: {
      client: 'Retry later with the same request; if it persists, send the provider the time of the request and the error_description.',
      server: 'Check the authorization server log and its dependencies (database, key store) at the time of the request.',
    },
  },
  oauth_error: {
    phase: 'exchange',
    title: 'Authorization server error',
    summary: 'The authorization server answered with an OAuth error the harness has no more specific explanation for.',
    fix: {
      client: 'Read the error and error_description in the evidence; retry later if the server says it is unavailable.',
      server: 'Check the authorization server log for this request.',
    },
  },
  token_endpoint_not_found: {
    phase: 'exchange',
    title: 'No token endpoint at this URL',
    summary: 'The URL does not answer token requests (HTTP 404 or 405): wrong path, wrong host, or a GET-only page.',
    fix: {
      client: 'Take the token endpoint from the discovery document (token_endpoint) and POST to it.',
      server: 'Publish the token endpoint in discovery and route POST requests to it.',
    },
  },
  token_response_invalid: {
    phase: 'token',
    title: 'Token response unusable',
    summary: 'The server answered with success, but the body is not a token response (JSON with access_token and token_type).',
    fix: {
      client: 'Check that the URL is the token endpoint and not a login page or proxy.',
      server: 'Answer token requests with application/json: access_token, token_type, expires_in (RFC 6749 §5.1).',
    },
  },
  refresh_token_missing: {
    phase: 'token',
    title: 'No refresh token issued',
    summary: 'The provider issued no refresh token, so the partner cannot keep access without sending the user through the login again.',
    fix: {
      client: 'Request the scope the provider needs for refresh tokens (often offline_access) and check that the client may use the refresh_token grant.',
      server: 'Allow the refresh_token grant for the client and issue refresh tokens for this scope (oidc-provider: issueRefreshToken).',
    },
  },
  refresh_token_rejected: {
    phase: 'exchange',
    title: 'Refresh token refused',
    summary: 'The server refused the refresh token (invalid_grant): it expired, was already used and rotated out (replaying one revokes the whole grant), or belongs to another client.',
    fix: {
      client: 'Always store and use the newest refresh token from the last response; never reuse one that was rotated.',
      server: 'If the server rejects a refresh token it just issued, check its rotation and lifetime settings and the server log.',
    },
  },
  authorization_code_rejected: {
    phase: 'exchange',
    title: 'Authorization code refused',
    summary: 'The server refused the authorization code (invalid_grant): the redirect_uri or the PKCE code_verifier does not match the authorization request, the code was already used or expired, or it was issued to another client.',
    fix: {
      client: 'Exchange each code once, at once, with the same redirect_uri and the code_verifier of the same authorization request.',
      server: 'Check the server log for which of the code\'s bindings failed.',
    },
  },
  access_token_unverified: {
    phase: 'token',
    title: 'Access token does not verify',
    summary: 'The access token is a JWT that does not verify with the server\'s published keys (JWKS); resource servers that validate it locally will refuse it.',
    fix: {
      client: 'Nothing to change in the request; tell the provider.',
      server: 'Publish the key that signs access tokens in jwks_uri, with the kid used in the token header.',
    },
  },
  access_token_expired: {
    phase: 'token',
    title: 'Access token expired',
    summary: 'The access token had expired when it was used.',
    fix: {
      client: 'Refresh the token before expires_in runs out (the harness refreshes on 401 and retries once).',
      server: 'Check the access token lifetime and the server clock.',
    },
  },
  access_token_short_lived: {
    phase: 'token',
    title: 'Access token lives only seconds',
    summary: 'The provider issues access tokens that expire within seconds; clients must refresh before almost every call.',
    fix: {
      client: 'Refresh when the token is about to expire, not only after a 401.',
      server: 'Use an access token lifetime of minutes (5–60) unless seconds are intended.',
    },
  },
  access_token_binding_mismatch: {
    phase: 'token',
    title: 'Certificate binding does not match',
    summary: 'The access token is bound to a certificate (cnf x5t#S256, RFC 8705) other than the client certificate used, or is used without it; resource servers will refuse it.',
    fix: {
      client: 'Call the API over mTLS with the same certificate that was used at the token endpoint.',
      server: 'Bind tokens to the certificate presented at the token endpoint and compare cnf x5t#S256 with the certificate at the API.',
    },
  },
  id_token_invalid: {
    phase: 'token',
    title: 'ID token does not verify',
    summary: 'The ID token does not verify against the provider\'s keys, or its iss/aud do not match the provider and the client.',
    fix: {
      client: 'Check the client_id and the issuer; do not trust the ID token until it verifies.',
      server: 'Sign ID tokens with a key published in jwks_uri; set iss to the issuer and aud to the client_id.',
    },
  },
  api_token_rejected: {
    phase: 'call',
    title: 'API refused the access token',
    summary: 'The API answered 401 to the Bearer token: it is expired, revoked, meant for another audience, or signed with a key the API does not trust.',
    fix: {
      client: 'Check the token\'s aud and scope in the token step and refresh it; the WWW-Authenticate header in the evidence often says why.',
      server: 'Check that the API trusts the provider\'s keys and accepts this audience; return WWW-Authenticate with error and error_description.',
    },
  },
  api_forbidden: {
    phase: 'call',
    title: 'API refused the call',
    summary: 'The API accepted who is calling but refused the call (HTTP 403): a scope, role or access rule is missing.',
    fix: {
      client: 'Request the scope the API needs (the evidence shows the WWW-Authenticate scope if it said so).',
      server: 'Grant the client or user the scope or role for this resource.',
    },
  },
  api_key_rejected: {
    phase: 'call',
    title: 'API key refused',
    summary: 'The API refused the API key and user name (HTTP 401 or 403): the key is wrong or revoked, the user name does not belong to it, or the header names differ from what the API expects.',
    fix: {
      client: 'Check the key and user name for the right environment, and the exact header names the API documents (they may be case-sensitive behind some gateways).',
      server: 'Check that the key is active for this user and which header names the gateway reads.',
    },
  },
  discovery_not_found: {
    phase: 'discovery',
    title: 'No discovery document',
    summary: 'Neither /.well-known/openid-configuration nor /.well-known/oauth-authorization-server answered with a metadata document at this issuer.',
    fix: {
      client: 'Check the issuer URL (scheme, host, path, no trailing slash), or give the token and authorization endpoints directly.',
      server: 'Publish OpenID Connect Discovery or RFC 8414 metadata at the issuer\'s well-known path.',
    },
  },
  discovery_invalid: {
    phase: 'discovery',
    title: 'Discovery document unusable',
    summary: 'The discovery document is not JSON, or lacks endpoints a client needs (token_endpoint, jwks_uri, authorization_endpoint).',
    fix: {
      client: 'Give the endpoints directly for now and tell the provider.',
      server: 'Serve application/json metadata with issuer, token_endpoint, jwks_uri and the *_supported lists (RFC 8414 §2).',
    },
  },
  discovery_endpoint_invalid: {
    phase: 'discovery',
    title: 'Endpoint in the document is not a URL',
    summary: 'The discovery document names an endpoint (token_endpoint, jwks_uri, authorization_endpoint or an mTLS alias) that is not an absolute https URL, so no client can call it.',
    fix: {
      client: 'Give the endpoint directly (tokenUrl, jwksUrl, authorizationUrl) for now, and send the provider the value the evidence shows.',
      server: 'Publish every endpoint as an absolute https:// URL (RFC 8414 §2), built from the external host name behind proxies, not a relative path or a template placeholder.',
    },
  },
  discovery_issuer_mismatch: {
    phase: 'discovery',
    title: 'Issuer in the document differs',
    summary: 'The discovery document\'s issuer is not the issuer URL it was fetched for; clients that check it (as they must) refuse the provider.',
    fix: {
      client: 'Use exactly the issuer the document names (trailing slash, case and path included).',
      server: 'Make the issuer value equal the URL the document is published under (behind proxies: the external URL).',
    },
  },
  jwks_unavailable: {
    phase: 'discovery',
    title: 'Provider keys unavailable',
    summary: 'The jwks_uri did not answer with a JSON Web Key Set, so no one can verify the provider\'s tokens.',
    fix: {
      client: 'Tell the provider; tokens cannot be verified until the JWKS is reachable.',
      server: 'Serve {"keys":[…]} with the public signing keys at jwks_uri.',
    },
  },
  state_missing: {
    phase: 'callback',
    title: 'Redirect without state',
    summary: 'The authorization response came back without the state the client sent, so the client cannot tell it from a forged redirect (CSRF) and must refuse it.',
    fix: {
      client: 'Always send state and refuse redirects that lack it.',
      server: 'Return the state parameter unchanged in every authorization response, success or error (RFC 6749 §4.1.2).',
    },
  },
  state_mismatch: {
    phase: 'callback',
    title: 'Redirect with another state',
    summary: 'The authorization response carried a state other than the one sent: it belongs to another request, was altered, or is forged.',
    fix: {
      client: 'Refuse the response; keep state per request and compare it exactly.',
      server: 'Return state byte for byte as received, without decoding or re-encoding it.',
    },
  },
  authorization_error: {
    phase: 'callback',
    title: 'Authorization refused',
    summary: 'The provider redirected back with an error instead of a code (the evidence has error and error_description).',
    fix: {
      client: 'Check client_id, redirect_uri (registered exactly), response_type=code, scope and PKCE; access_denied means the user or a policy refused.',
      server: 'Register the redirect URI exactly and allow the requested scopes for the client.',
    },
  },
  callback_timeout: {
    phase: 'callback',
    title: 'No redirect came back',
    summary: 'No authorization response reached the harness\'s redirect URI in time: the login was not finished, or the provider redirected elsewhere.',
    fix: {
      client: 'Finish the login in the window that opened; check that the redirect URI registered at the provider is the one shown in the authorize step.',
      server: 'Register the harness\'s redirect URI for the client (exact match).',
    },
  },
  relay_shutdown: {
    phase: 'verdict',
    title: 'Relay shut down during the run',
    summary: 'The relay was stopped or restarted while this run was in progress, and the run did not finish within the shutdown grace period, so it was cancelled.',
    fix: {
      client: 'Run it again once the page has reconnected to the relay (it reconnects by itself).',
      server: 'Operators: restart the relay between exercises, or give runs more time to finish with --limit shutdownGraceMs=N (below the container stop timeout).',
    },
  },
} as const satisfies Record<string, DiagnosisEntry>;

export type DiagnosisCode = keyof typeof DIAGNOSES;

export function isDiagnosisCode(code: string): code is DiagnosisCode {
  return Object.hasOwn(DIAGNOSES, code);
}

/** The evidence line that marks a cause the harness worked out itself, the server having not said it. */
export const INFERRED_PREFIX = 'inferred by the harness, not said by the server: ';

/** A diagnosis for the wire: the catalogue entry, an optional more specific summary, and the evidence. */
export function diagnosis(code: DiagnosisCode, evidence: string[], summary?: string): Diagnosis {
  const entry: DiagnosisEntry = DIAGNOSES[code];
  const inferred = evidence.find((e) => e.startsWith(INFERRED_PREFIX));
  // The catalogue's summary states the cause as fact; say where it came from.
  const said = summary ?? (inferred ? `${entry.summary} The server did not say why: the harness inferred it (${inferred.slice(INFERRED_PREFIX.length)}).` : entry.summary);
  return { code, summary: said, evidence, fix: { ...entry.fix }, ...(inferred !== undefined ? { inferred: true } : {}) };
}
