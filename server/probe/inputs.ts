// The probe's first step: is what the user gave us usable, before any packet is sent?
// URL, certificate chain, key, key ↔ certificate match, validity and clientAuth EKU.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import type { ClientCredentials } from '../../shared/protocol.ts';
import { oneLineDn, summarize } from '../net/dial.ts';

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

export function parseCertificates(pem: string): X509Certificate[] {
  return (pem.match(PEM_CERT) ?? []).map((block) => new X509Certificate(block));
}

export interface InputProblem {
  code: 'url_invalid' | 'cert_unreadable' | 'key_unreadable' | 'key_cert_mismatch' | 'cert_expired' | 'cert_not_yet_valid' | 'expires_soon' | 'eku_missing_client_auth' | 'ca_unreadable';
  /** True when the run cannot go on (the TLS stack would refuse the input). */
  fatal: boolean;
  message: string;
}

export interface CheckedInputs {
  url: URL | null;
  chain: X509Certificate[];
  key: KeyObject | null;
  problems: InputProblem[];
  details: Record<string, unknown>;
}

export function checkUrl(raw: string): { url: URL } | { problem: InputProblem } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: { code: 'url_invalid', fatal: true, message: `"${raw.slice(0, 200)}" is not a URL (expected https://host[:port]/path)` } };
  }
  if (url.protocol !== 'https:') {
    return { problem: { code: 'url_invalid', fatal: true, message: `the probe speaks TLS: use an https:// URL, not ${url.protocol}//` } };
  }
  if (url.username || url.password) {
    return { problem: { code: 'url_invalid', fatal: true, message: 'the URL must not contain a user name or password' } };
  }
  return { url };
}

const DAY = 86_400_000;
const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

export function describeKey(key: KeyObject): string {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') return `RSA-${d?.modulusLength}`;
  if (key.asymmetricKeyType === 'ec') return CURVES[d?.namedCurve ?? ''] ?? d?.namedCurve ?? 'EC';
  return key.asymmetricKeyType === 'ed25519' ? 'Ed25519' : String(key.asymmetricKeyType);
}

export function checkClient(client: ClientCredentials | undefined, now = Date.now()): Pick<CheckedInputs, 'chain' | 'key' | 'problems' | 'details'> {
  const problems: InputProblem[] = [];
  if (!client) return { chain: [], key: null, problems, details: { clientCertificate: null } };

  let chain: X509Certificate[] = [];
  try {
    chain = parseCertificates(client.certificatePem);
    if (chain.length === 0) {
      const looksLikeKey = /PRIVATE KEY-----/.test(client.certificatePem);
      problems.push({ code: 'cert_unreadable', fatal: true, message: looksLikeKey ? 'a private key was given where the certificate belongs' : 'no -----BEGIN CERTIFICATE----- block found in the client certificate' });
    }
  } catch {
    problems.push({ code: 'cert_unreadable', fatal: true, message: 'the client certificate PEM is malformed (the base64 between the markers does not decode to a certificate)' });
  }

  let key: KeyObject | null = null;
  try {
    key = createPrivateKey(client.privateKeyPem);
  } catch (err) {
    const encrypted = /ENCRYPTED/.test(client.privateKeyPem);
    const isCert = /BEGIN CERTIFICATE/.test(client.privateKeyPem);
    problems.push({
      code: 'key_unreadable',
      fatal: true,
      message: encrypted ? 'the private key is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem)'
        : isCert ? 'a certificate was given where the private key belongs'
        : 'the private key PEM cannot be read (expected PKCS#8, PKCS#1 or SEC1)',
    });
    void err;
  }

  const leaf = chain[0];
  const details: Record<string, unknown> = {};
  if (leaf) {
    details.clientCertificate = summarize(leaf);
    details.chainToSend = chain.map((c) => oneLineDn(c.subject));
    if (key && !leaf.checkPrivateKey(key)) {
      problems.push({ code: 'key_cert_mismatch', fatal: true, message: 'the private key does not belong to the certificate (their public keys differ)' });
    }
    const from = Date.parse(leaf.validFrom);
    const to = Date.parse(leaf.validTo);
    details.daysLeft = Math.floor((to - now) / DAY);
    if (to < now) problems.push({ code: 'cert_expired', fatal: false, message: `the client certificate expired on ${new Date(to).toISOString()}` });
    else if (from > now) problems.push({ code: 'cert_not_yet_valid', fatal: false, message: `the client certificate is valid only from ${new Date(from).toISOString()}` });
    else if (to - now < 30 * DAY) problems.push({ code: 'expires_soon', fatal: false, message: `the client certificate expires in ${Math.floor((to - now) / DAY)} days` });
    const eku = leaf.keyUsage;
    details.extendedKeyUsage = eku ?? 'any (no EKU extension)';
    if (eku && !eku.includes(CLIENT_AUTH_OID)) {
      problems.push({ code: 'eku_missing_client_auth', fatal: false, message: 'the certificate\'s Extended Key Usage does not include clientAuth; servers will refuse it as a client certificate' });
    }
  }
  if (key) details.keyType = describeKey(key);
  return { chain, key, problems, details };
}

export function checkCaBundle(pem: string | undefined): { cas: string[]; problem?: InputProblem } {
  if (pem === undefined || pem.trim() === '') return { cas: [] };
  try {
    const certs = parseCertificates(pem);
    if (certs.length === 0) return { cas: [], problem: { code: 'ca_unreadable', fatal: true, message: 'the CA bundle contains no -----BEGIN CERTIFICATE----- block' } };
    return { cas: certs.map((c) => c.toString()) };
  } catch {
    return { cas: [], problem: { code: 'ca_unreadable', fatal: true, message: 'the CA bundle PEM is malformed' } };
  }
}

/** Attribute set of a DN, order- and case-insensitive: "CN=A, O=B" and "O=B\nCN=A" compare equal. */
function dnKey(dn: string): string {
  return dn.split(/\n|,\s*(?=[A-Za-z][\w.]*\s*=)/).map((part) => {
    const i = part.indexOf('=');
    return `${part.slice(0, i).trim().toLowerCase()}=${part.slice(i + 1).trim().toLowerCase()}`;
  }).sort().join('|');
}

/** Does the client chain reach one of the CA names the server said it accepts? */
export function describeAcceptance(chain: X509Certificate[], acceptableCAs: string[]): { reaches: boolean; chainNames: string[] } {
  const acceptable = new Set(acceptableCAs.map(dnKey));
  const names = chain.flatMap((c) => [c.subject, c.issuer]);
  return { reaches: names.some((n) => acceptable.has(dnKey(n))), chainNames: [...new Set(names.map(oneLineDn))] };
}
