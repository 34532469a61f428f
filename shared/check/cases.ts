// The mTLS server check's cases as data: what each certificate proves, what the server must do
// with it, the server-side fix, and the grade a server gets at best when it gets the case wrong.
// Codes are stable (reports and tickets quote them): add cases rather than renaming them.
// The JWT/token-endpoint matrix joins with its own table of the same CaseEntry shape.

export type Expectation = 'accept' | 'refuse';
export type Grade = 'A' | 'B' | 'C' | 'D' | 'F';
export const GRADES: readonly Grade[] = ['A', 'B', 'C', 'D', 'F'];

interface ServerFix {
  /** What to change, in words. */
  text: string;
  /** Directives whose lines (from the generated snippet, shared/server-config.ts) fix it. */
  apache: readonly string[];
  nginx: readonly string[];
}

export interface CaseEntry {
  title: string;
  /** What a refusal (or, for `accept` cases, an acceptance) proves about the server. */
  proves: string;
  expect: Expectation;
  /** What the server does wrong when the case is not enforced, for the summary line. */
  weakness: string;
  /** Best grade the check can get when this case is not enforced. */
  capIfNotEnforced: Grade;
  /** Best grade when the case could not be judged (proof missing). */
  capIfInconclusive: Grade;
  fix: ServerFix;
}

const VERIFY = { apache: ['SSLVerifyClient', 'SSLCACertificateFile'], nginx: ['ssl_verify_client', 'ssl_client_certificate'] } as const;

export const MTLS_CASES = {
  valid: {
    title: 'Valid certificate',
    proves: 'The server accepts a correct client certificate from the test CA with the required subject: every refusal below is about the one property that differs.',
    expect: 'accept',
    weakness: 'refuses the valid client certificate',
    capIfNotEnforced: 'F',
    capIfInconclusive: 'F',
    fix: { text: 'Install the CA file (root and intermediate) and the CRL file shown, require client certificates and allow the depth and subject of the check.', ...VERIFY },
  },
  leaf_without_intermediate: {
    title: 'Leaf sent without its intermediate',
    proves: 'The server completes the chain from its own CA file, so clients that send only their certificate work too.',
    expect: 'accept',
    weakness: 'refuses a valid certificate sent without its intermediate (the intermediate is missing from the CA file)',
    capIfNotEnforced: 'B',
    capIfInconclusive: 'B',
    fix: { text: 'Put the intermediate in the trusted client CA file next to the root.', apache: ['SSLCACertificateFile'], nginx: ['ssl_client_certificate'] },
  },
  no_certificate: {
    title: 'No certificate',
    proves: 'A client without a certificate is refused.',
    expect: 'refuse',
    weakness: 'lets clients in without a certificate',
    capIfNotEnforced: 'F',
    capIfInconclusive: 'B',
    fix: { text: 'Require a client certificate: Apache SSLVerifyClient require, nginx ssl_verify_client on (not optional or optional_no_ca).', apache: ['SSLVerifyClient'], nginx: ['ssl_verify_client'] },
  },
  expired: {
    title: 'Expired',
    proves: 'The server checks the certificate\'s notAfter date.',
    expect: 'refuse',
    weakness: 'accepts expired certificates',
    capIfNotEnforced: 'F',
    capIfInconclusive: 'B',
    fix: { text: 'Verify client certificates (a server that verifies them refuses expired ones): SSLVerifyClient require, ssl_verify_client on.', ...VERIFY },
  },
  not_yet_valid: {
    title: 'Not yet valid',
    proves: 'The server checks the certificate\'s notBefore date.',
    expect: 'refuse',
    weakness: 'accepts certificates that are not valid yet',
    capIfNotEnforced: 'C',
    capIfInconclusive: 'B',
    fix: { text: 'Verify client certificates: SSLVerifyClient require, ssl_verify_client on; check the server clock.', ...VERIFY },
  },
  revoked: {
    title: 'Revoked (in the CRL)',
    proves: 'The server checks revocation: a certificate on the installed CRL is refused.',
    expect: 'refuse',
    weakness: 'accepts revoked certificates (no revocation checking)',
    capIfNotEnforced: 'B',
    capIfInconclusive: 'B',
    fix: { text: 'Install the CRL file and check revocation for the whole chain; renew the CRL before its nextUpdate.', apache: ['SSLCARevocationFile', 'SSLCARevocationCheck'], nginx: ['ssl_crl'] },
  },
  wrong_subject: {
    title: 'Wrong subject',
    proves: 'The server lets in only the agreed client: a valid certificate from the same CA with another subject is refused.',
    expect: 'refuse',
    weakness: 'lets in any certificate from the CA (no subject rule)',
    capIfNotEnforced: 'C',
    capIfInconclusive: 'B',
    fix: { text: 'Add the subject rule: Apache Require expr on %{SSL_CLIENT_S_DN_CN}, nginx a match on $ssl_client_s_dn that returns 403.', apache: ['Require'], nginx: ['if', 'return'] },
  },
  server_auth_only: {
    title: 'serverAuth-only EKU',
    proves: 'The server checks the Extended Key Usage: a certificate meant for servers is refused as a client certificate.',
    expect: 'refuse',
    weakness: 'accepts certificates whose Extended Key Usage excludes client authentication',
    capIfNotEnforced: 'C',
    capIfInconclusive: 'B',
    fix: { text: 'Verify client certificates with the TLS stack\'s own checks (SSLVerifyClient require, ssl_verify_client on); do not accept on the application\'s word.', ...VERIFY },
  },
  no_digital_signature: {
    title: 'No digitalSignature key usage',
    proves: 'The server checks the Key Usage: a key not allowed to sign cannot authenticate a TLS client.',
    expect: 'refuse',
    weakness: 'accepts certificates whose Key Usage forbids signing',
    capIfNotEnforced: 'C',
    capIfInconclusive: 'B',
    fix: { text: 'Verify client certificates with the TLS stack\'s own checks (SSLVerifyClient require, ssl_verify_client on).', ...VERIFY },
  },
  untrusted_ca: {
    title: 'From a CA the server must not trust',
    proves: 'The server trusts only the test CA: a certificate from another CA is refused.',
    expect: 'refuse',
    weakness: 'accepts certificates from any CA',
    capIfNotEnforced: 'F',
    capIfInconclusive: 'B',
    fix: { text: 'Trust only the test CA file and fail the handshake on verification errors: SSLVerifyClient require, nginx ssl_verify_client on (not optional_no_ca), openssl s_server -verify_return_error.', ...VERIFY },
  },
  self_signed: {
    title: 'Self-signed',
    proves: 'A self-signed certificate with the right subject is refused.',
    expect: 'refuse',
    weakness: 'accepts self-signed certificates',
    capIfNotEnforced: 'F',
    capIfInconclusive: 'B',
    fix: { text: 'Fail the handshake on verification errors: SSLVerifyClient require, ssl_verify_client on (not optional_no_ca).', ...VERIFY },
  },
  chain_too_deep: {
    title: 'Chain one deeper than allowed',
    proves: 'The server limits the chain to the agreed depth: one more CA between the client and the root is refused.',
    expect: 'refuse',
    weakness: 'accepts chains deeper than agreed',
    capIfNotEnforced: 'B',
    capIfInconclusive: 'B',
    fix: { text: 'Set the verify depth of the check: Apache SSLVerifyDepth (CAs above the client, root included), nginx ssl_verify_depth (one less).', apache: ['SSLVerifyDepth'], nginx: ['ssl_verify_depth'] },
  },
  weak_key: {
    title: 'Weak key (RSA-1024)',
    proves: 'The server refuses client keys below 2048 bits (OpenSSL security level 2 or higher).',
    expect: 'refuse',
    weakness: 'accepts 1024-bit RSA client keys',
    capIfNotEnforced: 'B',
    // Whether the harness itself can send such a key depends on its TLS stack: not the server's fault.
    capIfInconclusive: 'A',
    fix: { text: 'Raise the security level: Apache SSLCipherSuite …:@SECLEVEL=2, nginx ssl_ciphers …:@SECLEVEL=2 (the Debian default).', apache: ['SSLCipherSuite'], nginx: ['ssl_ciphers'] },
  },
} as const satisfies Record<string, CaseEntry>;

export type MtlsCaseId = keyof typeof MTLS_CASES;
export const MTLS_CASE_IDS = Object.keys(MTLS_CASES) as MtlsCaseId[];

/** A case the user adds: their own certificate and what the server must do with it. */
export interface CustomCase {
  title: string;
  expect: Expectation;
  certificatePem: string;
  privateKeyPem: string;
  /** Best grade when the server gets it wrong; default C. */
  capIfNotEnforced?: Grade;
}

const CUSTOM_CASE_DEFAULT_CAP: Grade = 'C';
/** Custom cases are ids `custom-1`, `custom-2`, … in the order given. */
export const CUSTOM_CASE_PREFIX = 'custom-';

export function caseEntry(id: string, custom: readonly CustomCase[] = []): CaseEntry | undefined {
  if (Object.hasOwn(MTLS_CASES, id)) return MTLS_CASES[id as MtlsCaseId];
  if (!id.startsWith(CUSTOM_CASE_PREFIX)) return undefined;
  const c = custom[Number(id.slice(CUSTOM_CASE_PREFIX.length)) - 1];
  if (!c) return undefined;
  return {
    title: c.title,
    proves: c.expect === 'accept' ? 'The server accepts this certificate, as the user expects.' : 'The server refuses this certificate, as the user expects.',
    expect: c.expect,
    weakness: c.expect === 'accept' ? `refuses "${c.title}"` : `accepts "${c.title}"`,
    capIfNotEnforced: c.capIfNotEnforced ?? CUSTOM_CASE_DEFAULT_CAP,
    capIfInconclusive: 'B',
    fix: { text: 'A case the user defined: compare the certificate with the server\'s policy.', apache: [], nginx: [] },
  };
}
