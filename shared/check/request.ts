// What a server check needs, and the checks that need no cryptography: the URL, the subject
// rule and the depth. A request the check cannot use is refused with a message naming the
// field, before any certificate is minted or any packet sent (the engine adds the CA checks).
import type { CustomCase } from './cases.ts';
import { HarnessError } from '../errors.ts';

export interface TestCaPems {
  rootCertificatePem: string;
  rootPrivateKeyPem: string;
  intermediateCertificatePem: string;
  intermediatePrivateKeyPem: string;
}

/** Exactly one of the two: the rule the server enforces on the client's name. */
export type SubjectRule = { cnEquals: string } | { sanDnsEquals: string };

export interface MtlsCheckRequest {
  /** https:// URL that answers 200 to the valid certificate. */
  url: string;
  ca: TestCaPems;
  rule: SubjectRule;
  /**
   * CA certificates allowed above the client certificate, the root included (Apache
   * SSLVerifyDepth; nginx ssl_verify_depth is one less). 1–9.
   */
  verifyDepth: number;
  custom?: CustomCase[];
  /** PEM bundle of CAs to trust for the server's certificate (as in a probe). */
  caPem?: string;
  /** Whether the built-in lab's CA is trusted for the server certificate. Default true. */
  trustLab?: boolean;
}

export const MIN_VERIFY_DEPTH = 1;
export const MAX_VERIFY_DEPTH = 9;
/** X.520 upper bound for commonName. */
const MAX_CN = 64;
const DNS_NAME = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f"]/;

export class CheckInputError extends HarnessError<'check_input_invalid'> {
  /** The request field at fault, e.g. `url`, `rule`, `ca.intermediatePrivateKeyPem`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super('check_input_invalid', `${field}: ${message}`);
    this.field = field;
  }
}

export function checkTarget(raw: unknown): URL {
  if (typeof raw !== 'string' || raw === '') throw new CheckInputError('url', 'give the https:// URL of the server to check');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CheckInputError('url', `"${raw.slice(0, 200)}" is not a URL (expected https://host[:port]/path)`);
  }
  if (url.protocol !== 'https:') throw new CheckInputError('url', `the check speaks TLS: use an https:// URL, not ${url.protocol}//`);
  if (url.username || url.password) throw new CheckInputError('url', 'the URL must not contain a user name or password');
  return url;
}

/** The rule as the server-config generator takes it; refuses anything but CN equals / SAN DNS equals. */
export function checkRule(raw: unknown): { cnEquals: string } | { sanDnsEquals: string } {
  const keys = raw && typeof raw === 'object' ? Object.keys(raw) : [];
  if (keys.length !== 1 || (keys[0] !== 'cnEquals' && keys[0] !== 'sanDnsEquals')) {
    throw new CheckInputError('rule', 'the subject rule must be exactly one of {cnEquals: "…"} (CN equals) or {sanDnsEquals: "…"} (SAN DNS equals)');
  }
  const value = (raw as Record<string, unknown>)[keys[0]];
  if (typeof value !== 'string' || value === '' || value !== value.trim() || CONTROL.test(value)) {
    throw new CheckInputError(`rule.${keys[0]}`, 'must be a non-empty name without quotes, control characters or surrounding spaces');
  }
  if (keys[0] === 'cnEquals') {
    if ([...value].length > MAX_CN) throw new CheckInputError('rule.cnEquals', `must be at most ${MAX_CN} characters (the limit for a certificate's CN)`);
    return { cnEquals: value };
  }
  if (value.length > 253 || !DNS_NAME.test(value)) throw new CheckInputError('rule.sanDnsEquals', 'must be a DNS name such as client.example.com');
  return { sanDnsEquals: value.toLowerCase() };
}

export function checkDepth(raw: unknown): number {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < MIN_VERIFY_DEPTH || raw > MAX_VERIFY_DEPTH) {
    throw new CheckInputError('verifyDepth', `must be an integer from ${MIN_VERIFY_DEPTH} to ${MAX_VERIFY_DEPTH} (CA certificates above the client certificate, root included)`);
  }
  return raw;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----/;
const PEM_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

export function checkCaPems(raw: unknown): TestCaPems {
  if (!raw || typeof raw !== 'object') throw new CheckInputError('ca', 'give the test CA: root and intermediate certificates with their private keys (PEM)');
  const ca = raw as Record<string, unknown>;
  for (const [name, pattern, what] of [
    ['rootCertificatePem', PEM_CERT, 'the root certificate (PEM)'],
    ['rootPrivateKeyPem', PEM_KEY, 'the root\'s private key (PEM): the check signs the root\'s CRL with it'],
    ['intermediateCertificatePem', PEM_CERT, 'the intermediate certificate (PEM)'],
    ['intermediatePrivateKeyPem', PEM_KEY, 'the intermediate\'s private key (PEM): the check issues the case certificates with it'],
  ] as const) {
    const v = ca[name];
    if (typeof v !== 'string' || !pattern.test(v)) throw new CheckInputError(`ca.${name}`, `missing or not PEM: give ${what}`);
  }
  return ca as unknown as TestCaPems;
}

export function checkCustomCases(raw: unknown, max: number): CustomCase[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new CheckInputError('custom', 'must be a list of cases');
  if (raw.length > max) throw new CheckInputError('custom', `at most ${max} custom cases per check`);
  return raw.map((c: unknown, i) => {
    const field = `custom[${i}]`;
    if (!c || typeof c !== 'object') throw new CheckInputError(field, 'must be {title, expect, certificatePem, privateKeyPem}');
    const o = c as Record<string, unknown>;
    if (typeof o.title !== 'string' || !o.title.trim() || o.title.length > 120) throw new CheckInputError(`${field}.title`, 'must be a short non-empty text');
    if (o.expect !== 'accept' && o.expect !== 'refuse') throw new CheckInputError(`${field}.expect`, 'must be "accept" or "refuse"');
    if (typeof o.certificatePem !== 'string' || !PEM_CERT.test(o.certificatePem)) throw new CheckInputError(`${field}.certificatePem`, 'must be a PEM certificate (leaf first, then intermediates)');
    if (typeof o.privateKeyPem !== 'string' || !PEM_KEY.test(o.privateKeyPem)) throw new CheckInputError(`${field}.privateKeyPem`, 'must be a PEM private key');
    if (o.capIfNotEnforced !== undefined && !['A', 'B', 'C', 'D', 'F'].includes(o.capIfNotEnforced as string)) throw new CheckInputError(`${field}.capIfNotEnforced`, 'must be one of A, B, C, D, F');
    return o as unknown as CustomCase;
  });
}
