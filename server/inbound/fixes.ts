// Diagnoses seen from the listener. The catalogue's fixes for reused codes are written for the
// harness as the client; here the client is the partner's and the "server" is the listener the
// user configured (CA bundle, access rule, verify depth). Codes stay the catalogue's, so support
// staff find the same entry; only the advice changes side.
import type { Diagnosis, Fix } from '../../shared/protocol/index.ts';
import { diagnosis, type DiagnosisCode } from '../../shared/diagnoses.ts';

const SAME_AS_APACHE = 'the file you would give Apache SSLCACertificateFile or nginx ssl_client_certificate';

export const INBOUND_FIXES: Partial<Record<DiagnosisCode, Fix>> = {
  client_cert_required: {
    client: 'Configure the client to send its certificate and key: curl --cert client.pem --key client.key; Java: a keystore with the key entry (javax.net.ssl.keyStore); check that it is issued by a CA in the listener\'s bundle, or many clients send nothing.',
    server: 'Nothing to change: the listener requires a certificate, as Apache SSLVerifyClient require and nginx ssl_verify_client on do.',
  },
  client_cert_unknown_ca: {
    client: 'Use a certificate issued by a CA in the listener\'s bundle, and send the intermediates after it (curl: append them to client.pem; Java: the whole chain in the keystore entry).',
    server: `If this CA should be accepted, add its root (and any intermediate clients do not send) to the listener's CA bundle — ${SAME_AS_APACHE}.`,
  },
  client_cert_expired: {
    client: 'Renew the client certificate (or the expired CA in its chain) and connect again with the new one.',
    server: 'Nothing to change; an expired certificate must be refused. Put the upcoming CA in the bundle before a rotation.',
  },
  client_cert_not_yet_valid: {
    client: 'Wait until the certificate\'s notBefore, or reissue it with a validity that starts now; check the issuing machine\'s clock.',
    server: 'Check the relay machine\'s clock (NTP): a clock running behind refuses fresh certificates.',
  },
  client_cert_wrong_usage: {
    client: 'Use a certificate whose Extended Key Usage includes TLS Web Client Authentication (clientAuth); a serverAuth-only certificate cannot be a client certificate.',
    server: 'Nothing to change; Apache and nginx refuse it the same way.',
  },
  client_cert_signature_invalid: {
    client: 'Send an intact chain: a certificate in it does not verify with its issuer\'s key (a re-issued CA with the same name, or a corrupt file).',
    server: 'If the CA was re-issued, put the current CA certificate in the listener\'s bundle.',
  },
  client_chain_too_deep: {
    client: 'Send a shorter chain if the CA offers one, or ask the partner to allow a deeper chain.',
    server: 'Raise the listener\'s verify depth to the number of CA certificates above the client certificate, root included (Apache SSLVerifyDepth counts the same way; nginx ssl_verify_depth one less).',
  },
  client_cert_rejected: {
    client: 'Read the verification error in the evidence; check the certificate\'s issuer, dates and Extended Key Usage.',
    server: `Check the listener's CA bundle (${SAME_AS_APACHE}) against the chain the client sent.`,
  },
  access_denied: {
    client: 'Use the certificate whose subject CN (or DNS SAN) the partner expects; the evidence shows the value sent and the one expected.',
    server: 'If this client should be let in, change the listener\'s access rule; in Apache the same rule is Require expr %{SSL_CLIENT_S_DN_CN} == "…", in nginx a map or if on $ssl_client_s_dn.',
  },
  not_tls: {
    client: 'Use https:// for this port (curl https://localhost:PORT/), or enable TLS in the client\'s connector.',
    server: 'Nothing to change: the listener speaks only TLS.',
  },
  tls_timeout: {
    client: 'Start the TLS handshake right after connecting; check for a proxy or firewall between the client and the listener that holds the connection.',
    server: 'Nothing to change unless the client is very slow: the listener allows 10 s for the handshake.',
  },
  tls_version_mismatch: {
    client: 'Allow TLS 1.2 or 1.3 in the client.',
    server: 'Nothing to change: the listener offers TLS 1.2 and 1.3, what current Apache and nginx configurations offer.',
  },
  tls_handshake_failed: {
    client: 'Look at the alert and error in the evidence; run the client with handshake logging (curl -v, Java -Djavax.net.debug=ssl:handshake).',
    server: 'Nothing to change in the listener unless the evidence names a cipher or version it does not offer.',
  },
};

/** A diagnosis with the listener's perspective on the fix. */
export function inboundDiagnosis(code: DiagnosisCode, evidence: string[], summary?: string): Diagnosis {
  const d = diagnosis(code, evidence, summary);
  const fix = INBOUND_FIXES[code];
  return fix ? { ...d, fix: { ...fix } } : d;
}
