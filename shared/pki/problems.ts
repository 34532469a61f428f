// The catalogue of problems the certificate workshop reports. Codes are stable: support staff
// search for them, the UI keys help text on them and tests assert them. Each instance names what
// and where in `message` and `where`; the catalogue holds the explanation that does not change.

type Severity = 'error' | 'warning' | 'info';

interface ProblemInfo {
  severity: Severity;
  /** A few words, for a list or a heading. */
  title: string;
  /** Plain language: what it means and what to do about it. */
  explanation: string;
}

export const PROBLEMS = {
  pem_malformed: {
    severity: 'error',
    title: 'Unreadable PEM',
    explanation:
      'The text looks like PEM but a block cannot be decoded: the base64 between the BEGIN and END lines is damaged, cut short or has foreign characters in it. Copy the whole block again, from the -----BEGIN line to the -----END line.',
  },
  pem_mismatched_markers: {
    severity: 'error',
    title: 'BEGIN and END do not match',
    explanation:
      'A PEM block starts with one label and ends with another (for example BEGIN CERTIFICATE … END PRIVATE KEY), or a BEGIN line has no END line. Usually two files were pasted into each other or the end of a block was lost.',
  },
  der_truncated: {
    severity: 'error',
    title: 'Binary data cut short',
    explanation:
      'The binary (DER) data says it is longer than the bytes that were given: the file was truncated, or a text transfer damaged a binary file. Transfer it again in binary mode.',
  },
  der_malformed: {
    severity: 'error',
    title: 'Unreadable binary data',
    explanation: 'The bytes are not valid DER/BER, or they are an ASN.1 structure this tool does not recognise.',
  },
  input_unrecognized: {
    severity: 'error',
    title: 'Nothing recognisable',
    explanation:
      'The input contains no PEM block, no DER certificate or key, no PKCS#12 file and no JSON string holding PEM. Check that the right file was chosen.',
  },
  json_malformed: {
    severity: 'warning',
    title: 'JSON could not be parsed',
    explanation:
      'The input looks like JSON but does not parse. PEM blocks were still searched for in the raw text, with \\r\\n and \\n escapes undone, so their locations are given as line numbers instead of JSON paths.',
  },
  p12_bad_password: {
    severity: 'error',
    title: 'Wrong PKCS#12 password',
    explanation:
      'The PKCS#12 (.p12/.pfx) file did not open with the password given: its integrity check (MAC) or its decryption failed. Ask for the export password; an empty password is different from no password.',
  },
  p12_password_required: {
    severity: 'error',
    title: 'PKCS#12 password needed',
    explanation: 'The PKCS#12 file is protected and no password was given.',
  },
  p12_unsupported: {
    severity: 'error',
    title: 'Unsupported PKCS#12 protection',
    explanation:
      'The PKCS#12 file uses an encryption or integrity scheme this tool cannot open. Re-export it, e.g. `openssl pkcs12 -export` (OpenSSL 3 defaults: AES-256-CBC, PBKDF2, HMAC-SHA256).',
  },
  p12_malformed: {
    severity: 'error',
    title: 'Damaged PKCS#12 file',
    explanation: 'The file starts like PKCS#12 but its inner structure cannot be read.',
  },
  key_encrypted: {
    severity: 'error',
    title: 'Private key is encrypted',
    explanation:
      'The private key is protected by a passphrase (ENCRYPTED PRIVATE KEY, or a legacy Proc-Type: 4,ENCRYPTED header) and no passphrase was given, or the key uses an encryption this tool cannot undo. Give the passphrase, or decrypt it first: `openssl pkey -in key.pem -out key-plain.pem`.',
  },
  key_bad_passphrase: {
    severity: 'error',
    title: 'Wrong key passphrase',
    explanation: 'The encrypted private key did not decrypt with the passphrase given.',
  },
  key_unsupported: {
    severity: 'error',
    title: 'Unsupported key type',
    explanation:
      'The private key uses an algorithm or curve that cannot be used here (supported: RSA, EC P-256/P-384/P-521, Ed25519).',
  },
  key_malformed: {
    severity: 'error',
    title: 'Damaged private key',
    explanation: 'The private key block decodes but its contents are not a valid key of the type the label says.',
  },
  not_a_key: {
    severity: 'error',
    title: 'This is not a private key',
    explanation:
      'A private key was expected but the input holds something else, most often the certificate (BEGIN CERTIFICATE) pasted into the key field. The key is the file that starts with BEGIN PRIVATE KEY, BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY.',
  },
  not_a_certificate: {
    severity: 'error',
    title: 'This is not a certificate',
    explanation:
      'A certificate was expected but the input holds something else, most often the private key or a certificate signing request (BEGIN CERTIFICATE REQUEST) pasted into the certificate field. A certificate starts with BEGIN CERTIFICATE.',
  },
  cert_malformed: {
    severity: 'error',
    title: 'Damaged certificate',
    explanation: 'The block is labelled as a certificate but its contents are not a valid X.509 certificate.',
  },
  cert_expired: {
    severity: 'error',
    title: 'Certificate expired',
    explanation:
      'The certificate is past its notAfter date. Servers reject it (TLS alert 45, certificate_expired). A new certificate must be issued; renewing does not change an existing one.',
  },
  cert_not_yet_valid: {
    severity: 'error',
    title: 'Certificate not yet valid',
    explanation:
      'The certificate’s notBefore date is in the future (or this machine’s clock is behind). Servers reject it (TLS alert 42, bad_certificate) until then.',
  },
  expires_soon: {
    severity: 'warning',
    title: 'Expires soon',
    explanation:
      'The certificate expires within 90 days. Order the replacement now and, where the partner pins or allowlists it, send them the upcoming certificate in time for the switch.',
  },
  eku_missing_client_auth: {
    severity: 'error',
    title: 'Not allowed for client authentication',
    explanation:
      'The certificate has an Extended Key Usage extension that does not include clientAuth (1.3.6.1.5.5.7.3.2), e.g. a serverAuth-only web-server certificate. Servers that check purpose (Apache, nginx, OpenSSL) reject it as a client certificate (TLS alert 43, unsupported_certificate). Request a certificate with the clientAuth EKU.',
  },
  eku_not_for_client: {
    severity: 'warning',
    title: 'Not usable as a client certificate',
    explanation:
      'The certificate’s Extended Key Usage does not include clientAuth (1.3.6.1.5.5.7.3.2), e.g. a serverAuth-only web-server certificate. Fine for a server; offered as a client certificate, servers that check purpose (Apache, nginx, OpenSSL) reject it (TLS alert 43). For mTLS, request a certificate with the clientAuth EKU.',
  },
  eku_absent: {
    severity: 'info',
    title: 'No Extended Key Usage',
    explanation:
      'The certificate has no Extended Key Usage extension, so it is not restricted to a purpose; OpenSSL-based servers accept it for client authentication.',
  },
  key_usage_no_signature: {
    severity: 'error',
    title: 'Key usage forbids signing',
    explanation:
      'The certificate has a Key Usage extension without digitalSignature. A TLS client proves possession of its key by signing the handshake, so strict servers reject it.',
  },
  key_cert_mismatch: {
    severity: 'error',
    title: 'Key does not belong to the certificate',
    explanation:
      'The public key inside the certificate is not the public half of this private key. The handshake would fail (the server cannot verify the signature; TLS alert 51, decrypt_error) or the TLS library refuses the pair. Find the key that was used for the CSR of this certificate.',
  },
  key_missing: {
    severity: 'error',
    title: 'No private key',
    explanation: 'A client certificate needs its private key; none was given.',
  },
  cert_missing: {
    severity: 'error',
    title: 'No certificate',
    explanation: 'No certificate was given where one is needed.',
  },
  chain_missing_intermediate: {
    severity: 'error',
    title: 'Intermediate certificate missing',
    explanation:
      'The certificate that issued the top certificate of the chain is not in the set, so the chain cannot be completed. Add the named intermediate CA certificate (the vendor’s CA bundle or the AIA caIssuers URL has it).',
  },
  chain_leaf_only: {
    severity: 'warning',
    title: 'Only the leaf certificate',
    explanation:
      'The bundle holds the end-entity certificate alone. Unless the server already holds the issuing intermediate CA, it cannot build the chain (unknown_ca). Send the leaf followed by its intermediates; the root is not needed.',
  },
  chain_wrong_order: {
    severity: 'warning',
    title: 'Chain in the wrong order',
    explanation:
      'The certificates are not in the order leaf, then each issuer. TLS requires the sender’s certificate first and many servers and clients reject or mis-handle other orders. Reorder: leaf, intermediate(s), optionally the root last.',
  },
  chain_duplicate: {
    severity: 'warning',
    title: 'Duplicate certificate',
    explanation: 'The same certificate appears more than once. Remove the copies; some servers count them against the verify depth.',
  },
  chain_unrelated: {
    severity: 'warning',
    title: 'Certificate not part of the chain',
    explanation: 'This certificate neither issued nor was issued by any other certificate in the chain. It is probably from a different bundle.',
  },
  chain_signature_invalid: {
    severity: 'error',
    title: 'Signature does not verify',
    explanation:
      'A certificate names an issuer that is in the set, but the issuer’s key did not sign it: the issuer was re-keyed, or a different CA has the same name. Use the issuer certificate that actually signed it (compare the Authority Key Identifier with the issuer’s Subject Key Identifier).',
  },
  chain_root_not_included: {
    severity: 'info',
    title: 'Chain ends below the root',
    explanation:
      'The chain stops at an intermediate CA; its issuer (a root CA) is expected in the verifying side’s trust store, which is the normal way to send a chain.',
  },
  chain_untrusted: {
    severity: 'error',
    title: 'Chain does not reach a trusted CA',
    explanation:
      'Following the issuers does not lead to any CA certificate the server trusts. The server answers unknown_ca (TLS alert 48). Either the server adds the named CA to its trust store, or the client uses a certificate from a CA the server trusts.',
  },
  trust_anchor_missing_root: {
    severity: 'error',
    title: 'Trust store holds an intermediate without its root',
    explanation:
      'The chain reaches a CA certificate in the trust store that is not self-signed, and its root is not there. OpenSSL-based servers (Apache, nginx) need the self-signed root unless partial chains are enabled; add the named root to the CA file.',
  },
  rotation_no_upcoming: {
    severity: 'warning',
    title: 'No trusted successor certificate',
    explanation:
      'The current client certificate expires within 90 days and none of the upcoming certificates would be accepted by the server’s CA bundle. Ask the partner to add the upcoming certificate’s CA before the switch, or check that the right bundle was given.',
  },
} as const satisfies Record<string, ProblemInfo>;

export type ProblemCode = keyof typeof PROBLEMS;

export interface Problem {
  code: ProblemCode;
  severity: Severity;
  /** This instance: what is wrong, naming the certificate or block. */
  message: string;
  /** Where: input name and position, e.g. `client.pem block 2 (line 14)` or `entities[0].certificate`. */
  where?: string;
}

export function problem(code: ProblemCode, message: string, where?: string): Problem {
  const p: Problem = { code, severity: PROBLEMS[code].severity, message };
  if (where !== undefined) p.where = where;
  return p;
}
