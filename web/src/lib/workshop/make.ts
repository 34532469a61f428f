// Making keys, CSRs and certificates in this browser from what the Make form asks for. Every key
// is generated here with WebCrypto; what leaves is only what the user exports.
import { escapeDnValue } from '../keys/keyring.svelte.ts';
import { summarizeCertificate } from '../keys/inspect.ts';
import type { ItemKind, KeyPurpose, StoredItem } from '../keys/vault.ts';
import type { KeyAlgorithmName } from '../../../../shared/pki/issue.ts';
import { loadEngine } from './engine.ts';

const DAY = 86_400_000; // ms
const MINUTE = 60_000; // ms

export const KIND_NAMES: Record<ItemKind, string> = {
  'root-ca': 'Root CA',
  'intermediate-ca': 'Intermediate CA',
  client: 'Client certificate',
  server: 'Server certificate',
  'self-signed': 'Self-signed certificate',
  csr: 'Key and CSR',
  key: 'Key pair',
};

/** For tight places: the item list, the kind selector. */
export const SHORT_KIND_NAMES: Record<ItemKind, string> = {
  'root-ca': 'Root CA',
  'intermediate-ca': 'Intermediate',
  client: 'Client cert',
  server: 'Server cert',
  'self-signed': 'Self-signed',
  csr: 'CSR',
  key: 'Key pair',
};

/** Default lifetime of what is made, in days, matching issue.ts's profiles. */
export const DEFAULT_DAYS: Record<ItemKind, number> = { 'root-ca': 3650, 'intermediate-ca': 1825, client: 365, server: 365, 'self-signed': 365, csr: 365, key: 365 };

export const MAKE_ALGORITHMS: readonly KeyAlgorithmName[] = ['RSA-2048', 'RSA-3072', 'RSA-4096', 'P-256', 'P-384', 'Ed25519'];

export type ValidityChoice =
  | { kind: 'days'; days: number }
  /** 30 days left: inside the 90-day warning, for rotation drills. */
  | { kind: 'expires-soon' }
  | { kind: 'expired' }
  | { kind: 'not-yet-valid' }
  /** Dates as YYYY-MM-DD, midnight UTC. */
  | { kind: 'custom'; from: string; to: string };

export type EkuChoice = 'clientAuth' | 'clientAndServer' | 'serverOnly';

export const EKU_OIDS: Record<EkuChoice, string[]> = {
  clientAuth: ['1.3.6.1.5.5.7.3.2'],
  clientAndServer: ['1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.1'],
  serverOnly: ['1.3.6.1.5.5.7.3.1'],
};

export interface MakeRequest {
  kind: ItemKind;
  algorithm: KeyAlgorithmName;
  commonName: string;
  organization: string;
  /** The CA that signs, for intermediate, client and server certificates. */
  issuer: StoredItem | null;
  purpose: KeyPurpose;
  extractable: boolean;
  validity: ValidityChoice;
  /** DNS names and IP addresses, comma or space separated. */
  subjectAltNames: string;
  eku: EkuChoice;
}

export const ISSUED_KINDS: ReadonlySet<ItemKind> = new Set(['intermediate-ca', 'client', 'server']);
export const CA_KINDS: ReadonlySet<ItemKind> = new Set(['root-ca', 'intermediate-ca']);

export function validityWindow(choice: ValidityChoice, kind: ItemKind, now: Date = new Date()): { notBefore: Date; notAfter: Date } {
  const t = now.getTime();
  switch (choice.kind) {
    case 'days': {
      const notBefore = new Date(t - 5 * MINUTE); // tolerate small clock skew
      return { notBefore, notAfter: new Date(notBefore.getTime() + choice.days * DAY) };
    }
    case 'expires-soon':
      // An hour over 30 days, so the screens say "30 days" for the rest of the session.
      return { notBefore: new Date(t - (DEFAULT_DAYS[kind] - 30) * DAY), notAfter: new Date(t + 30 * DAY + 60 * MINUTE) };
    case 'expired':
      return { notBefore: new Date(t - (DEFAULT_DAYS[kind] + 1) * DAY), notAfter: new Date(t - DAY) };
    case 'not-yet-valid': {
      const notBefore = new Date(t + 7 * DAY);
      return { notBefore, notAfter: new Date(notBefore.getTime() + DEFAULT_DAYS[kind] * DAY) };
    }
    case 'custom':
      return { notBefore: new Date(`${choice.from}T00:00:00Z`), notAfter: new Date(`${choice.to}T00:00:00Z`) };
  }
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const DNS_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** Splits the SAN field into DNS names and IP addresses; `bad` holds what is neither. */
export function parseSubjectAltNames(text: string): { dnsNames: string[]; ipAddresses: string[]; bad: string[] } {
  const out = { dnsNames: [] as string[], ipAddresses: [] as string[], bad: [] as string[] };
  for (const entry of text.split(/[\s,]+/).filter(Boolean)) {
    if (IPV4.test(entry) || (entry.includes(':') && /^[0-9a-f:.]+$/i.test(entry))) out.ipAddresses.push(entry);
    else if (DNS_NAME.test(entry)) out.dnsNames.push(entry.toLowerCase());
    else out.bad.push(entry);
  }
  return out;
}

function subjectOf(request: Pick<MakeRequest, 'commonName' | 'organization'>): string {
  const parts = [`CN=${escapeDnValue(request.commonName.trim())}`];
  if (request.organization.trim()) parts.push(`O=${escapeDnValue(request.organization.trim())}`);
  return parts.join(', ');
}

/** What is wrong with the request, in words for the form; null when it can be made. */
export function checkRequest(request: MakeRequest, now: Date = new Date()): string | null {
  if (!request.commonName.trim()) return 'Enter a common name (CN).';
  if (ISSUED_KINDS.has(request.kind)) {
    if (!request.issuer) return 'Choose the CA that signs it (make a root CA first).';
    if (!CA_KINDS.has(request.issuer.kind) || !request.issuer.certificatePem) return 'The chosen issuer is not a CA.';
  }
  const sans = parseSubjectAltNames(request.subjectAltNames);
  if (sans.bad.length) return `Not a DNS name or IP address: ${sans.bad.join(', ')}`;
  if (request.kind === 'server' && sans.dnsNames.length + sans.ipAddresses.length === 0) {
    return 'A server certificate needs at least one DNS name or IP address: TLS clients ignore the CN.';
  }
  if (request.validity.kind === 'days' && (!Number.isInteger(request.validity.days) || request.validity.days < 1 || request.validity.days > 36500)) {
    return 'Validity must be a whole number of days between 1 and 36500.';
  }
  if (request.validity.kind === 'custom') {
    const { notBefore, notAfter } = validityWindow(request.validity, request.kind, now);
    if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) return 'Enter both validity dates.';
    if (notAfter <= notBefore) return 'The end date must be after the start date.';
  }
  return null;
}

function newId(): string {
  return `w-${crypto.randomUUID()}`;
}

/** Makes the key (and CSR or certificate) the request asks for. Throws with a message for the form. */
export async function makeItem(request: MakeRequest, now: Date = new Date()): Promise<StoredItem> {
  const problem = checkRequest(request, now);
  if (problem) throw new TypeError(problem);
  const { pki } = await loadEngine();
  let keys: CryptoKeyPair;
  try {
    keys = await pki.generateKeyPair(request.algorithm, request.extractable);
  } catch (err) {
    throw new Error(`This browser could not generate a ${request.algorithm} key${err instanceof Error && err.message ? `: ${err.message}` : ''}.`);
  }
  const subject = subjectOf(request);
  const item: StoredItem = {
    id: newId(),
    kind: request.kind,
    label: request.commonName.trim(),
    createdAt: now,
    keyAlgorithm: request.algorithm,
    purpose: request.purpose,
    keys,
    certificatePem: null,
    chainPem: '',
    rootPem: '',
    csrPem: null,
    issuerId: null,
    issuedBy: null,
    certificate: null,
  };
  if (request.kind === 'key') return item;
  if (request.kind === 'csr') {
    item.csrPem = await pki.createCsr(keys, subject);
    return item;
  }

  const sans = parseSubjectAltNames(request.subjectAltNames);
  const options = {
    subject,
    ...validityWindow(request.validity, request.kind, now),
    ...(sans.dnsNames.length ? { dnsNames: sans.dnsNames } : {}),
    ...(sans.ipAddresses.length ? { ipAddresses: sans.ipAddresses } : {}),
  };
  let certificate;
  if (request.kind === 'root-ca') {
    certificate = await pki.selfSign(keys, { ...options, profile: 'root-ca' });
    item.issuedBy = 'itself (self-signed root)';
  } else if (request.kind === 'self-signed') {
    certificate = await pki.selfSign(keys, { ...options, profile: 'client', extendedKeyUsages: EKU_OIDS[request.eku] });
    item.issuedBy = 'itself (self-signed)';
  } else {
    const issuer = request.issuer!;
    const issuerCertificate = new pki.x509.X509Certificate(issuer.certificatePem!);
    certificate = await pki.issue(
      keys.publicKey,
      { certificate: issuerCertificate, privateKey: issuer.keys.privateKey },
      { ...options, profile: request.kind as 'intermediate-ca' | 'client' | 'server', ...(request.kind === 'client' ? { extendedKeyUsages: EKU_OIDS[request.eku] } : {}) },
    );
    item.issuerId = issuer.id;
    item.issuedBy = issuer.certificate?.subject ?? issuer.label;
    if (issuer.kind === 'root-ca') {
      item.rootPem = issuer.certificatePem!;
    } else {
      item.chainPem = issuer.certificatePem! + issuer.chainPem;
      item.rootPem = issuer.rootPem;
    }
  }
  item.certificatePem = `${certificate.toString('pem')}\n`;
  item.certificate = await summarizeCertificate(item.certificatePem);
  return item;
}
