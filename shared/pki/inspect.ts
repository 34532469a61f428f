// One certificate, inspected: every field a partner integration asks about, in the shapes
// OpenSSL prints them, plus its validity judged against a given clock.
import { DerError } from './der.ts';
import { toArrayBuffer, toBase64 } from './encoding.ts';
import {
  ekuName,
  EXTENSION_NAMES,
  formatGeneralName,
  parseAuthorityInfoAccess,
  parseAuthorityKeyId,
  parseBasicConstraints,
  parseCertificatePolicies,
  parseCrlDistributionPoints,
  parseExtendedKeyUsage,
  parseKeyUsage,
  parseSubjectAltNames,
  parseSubjectKeyId,
  type GeneralName,
  type RawExtension,
} from './extensions.ts';
import { PKI_DEFAULTS } from './defaults.ts';
import { parseCertificate, type ParsedCertificate } from './certificate.ts';
import { fingerprints, type Fingerprints } from './fingerprint.ts';
import { x509 } from './issue.ts';
import { describeSpki, KeyError, type KeyDescription } from './keys.ts';
import { commonName, formatName, nameKey } from './names.ts';
import { OID, SIGNATURE_ALGORITHMS, type KeyUsageName } from './oids.ts';
import { problem, type Problem } from './problems.ts';
import type { FoundCertificate } from './read.ts';
import { HarnessError } from '../errors.ts';

export type ValidityStatus = 'valid' | 'expired' | 'not_yet_valid';

export interface Validity {
  status: ValidityStatus;
  /** Whole days until notAfter (negative once expired). */
  daysLeft: number;
  /** Valid now, but fewer than PKI_DEFAULTS.expiryWarningDays days left. */
  expiresSoon: boolean;
}

export interface CertificateInfo {
  /** Where it was read from, e.g. `client.pem, block 2 (line 14)`. */
  where: string;
  /** `CN=client, O=Acme, C=US`. */
  subject: string;
  issuer: string;
  commonName?: string;
  /** Upper-case hex of the serial as `openssl x509 -serial` prints it. */
  serial: string;
  version: number;
  /** ISO 8601. */
  notBefore: string;
  notAfter: string;
  validity: Validity;
  key: KeyDescription;
  /** OpenSSL's name, e.g. `sha256WithRSAEncryption`, `ecdsa-with-SHA256`. */
  signatureAlgorithm: string;
  subjectAltNames: string[];
  keyUsage?: { usages: KeyUsageName[]; critical: boolean };
  extendedKeyUsage?: { usages: string[]; critical: boolean };
  basicConstraints?: { ca: boolean; pathLength?: number; critical: boolean };
  /** A CA certificate (basicConstraints CA:TRUE). */
  isCa: boolean;
  /** Colon hex, upper case. */
  subjectKeyId?: string;
  authorityKeyId?: string;
  crlDistributionPoints: string[];
  ocsp: string[];
  caIssuers: string[];
  policies: string[];
  /** Every extension present, with the ones the inspector does not decode. */
  extensions: { oid: string; name: string; critical: boolean }[];
  fingerprints: Fingerprints;
  /** Subject equals issuer and the certificate's own key verifies its signature (or cannot be checked here): a trust anchor. */
  selfSigned: boolean;
  pem: string;
}

/** What the chain builder needs besides the display fields. */
export interface InspectedCertificate {
  info: CertificateInfo;
  parsed: ParsedCertificate;
  certificate: x509.X509Certificate;
  /** Comparison keys for issuer ↔ subject matching. */
  subjectKey: string;
  issuerKey: string;
  /** Verifies that `this` was signed by the key of `issuer`. */
  signedBy(issuer: InspectedCertificate): Promise<boolean | 'unknown'>;
}

export class CertificateError extends HarnessError<'cert_malformed'> {
  constructor(message: string) {
    super('cert_malformed', message);
  }
}

const DAY = 86_400_000; // ms

export function validityAt(notBefore: Date, notAfter: Date, now: Date): Validity {
  const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / DAY);
  const status: ValidityStatus = now < notBefore ? 'not_yet_valid' : now > notAfter ? 'expired' : 'valid';
  return { status, daysLeft, expiresSoon: status === 'valid' && daysLeft < PKI_DEFAULTS.expiryWarningDays };
}

function serialHex(serial: Uint8Array): string {
  let start = 0;
  while (start < serial.length - 1 && serial[start] === 0) start++;
  const hex = Array.from(serial.subarray(start), (b) => b.toString(16).padStart(2, '0').toUpperCase()).join('');
  return serial[0]! & 0x80 ? `-${hex} (negative, not allowed by RFC 5280)` : hex;
}

function certificatePem(der: Uint8Array): string {
  return `-----BEGIN CERTIFICATE-----\n${(toBase64(der).match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;
}

function decodeExtensions(extensions: RawExtension[]): Partial<CertificateInfo> & Pick<CertificateInfo, 'subjectAltNames' | 'crlDistributionPoints' | 'ocsp' | 'caIssuers' | 'policies'> {
  const out: ReturnType<typeof decodeExtensions> = { subjectAltNames: [], crlDistributionPoints: [], ocsp: [], caIssuers: [], policies: [] };
  const names = (list: GeneralName[]): string[] => list.map((n) => (n.type === 'URI' ? n.value : formatGeneralName(n)));
  for (const ext of extensions) {
    switch (ext.oid) {
      case OID.ext.subjectAltName:
        out.subjectAltNames = parseSubjectAltNames(ext.value).map(formatGeneralName);
        break;
      case OID.ext.keyUsage:
        out.keyUsage = { usages: parseKeyUsage(ext.value), critical: ext.critical };
        break;
      case OID.ext.extKeyUsage:
        out.extendedKeyUsage = { usages: parseExtendedKeyUsage(ext.value).map(ekuName), critical: ext.critical };
        break;
      case OID.ext.basicConstraints:
        out.basicConstraints = { ...parseBasicConstraints(ext.value), critical: ext.critical };
        break;
      case OID.ext.subjectKeyIdentifier:
        out.subjectKeyId = parseSubjectKeyId(ext.value);
        break;
      case OID.ext.authorityKeyIdentifier: {
        const id = parseAuthorityKeyId(ext.value);
        if (id) out.authorityKeyId = id;
        break;
      }
      case OID.ext.crlDistributionPoints:
        out.crlDistributionPoints = names(parseCrlDistributionPoints(ext.value));
        break;
      case OID.ext.authorityInfoAccess: {
        const aia = parseAuthorityInfoAccess(ext.value);
        out.ocsp = names(aia.ocsp);
        out.caIssuers = names(aia.caIssuers);
        break;
      }
      case '2.5.29.32':
        out.policies = parseCertificatePolicies(ext.value);
        break;
    }
  }
  return out;
}

/**
 * Inspects one DER certificate. Throws CertificateError (`cert_malformed`) when it cannot be
 * read; `inspectCertificates` turns that into a problem.
 */
export async function inspectCertificate(der: Uint8Array, options: { where?: string; now?: Date } = {}): Promise<InspectedCertificate> {
  let parsed: ParsedCertificate;
  let cert: x509.X509Certificate;
  let decoded: ReturnType<typeof decodeExtensions>;
  let key: KeyDescription;
  try {
    parsed = parseCertificate(der);
    decoded = decodeExtensions(parsed.extensions);
    key = describeSpki(parsed.spki);
    cert = new x509.X509Certificate(toArrayBuffer(der));
  } catch (e) {
    const detail = e instanceof DerError || e instanceof KeyError ? `: ${e.message}` : '';
    throw new CertificateError(`the certificate cannot be parsed${detail}`);
  }
  const subjectKey = nameKey(parsed.subject);
  const issuerKey = nameKey(parsed.issuer);
  const signedBy = async (issuer: InspectedCertificate): Promise<boolean | 'unknown'> => {
    try {
      return await cert.verify({ publicKey: issuer.certificate.publicKey, signatureOnly: true });
    } catch {
      return 'unknown'; // an algorithm this runtime's WebCrypto lacks
    }
  };
  const info: CertificateInfo = {
    where: options.where ?? '',
    subject: formatName(parsed.subject),
    issuer: formatName(parsed.issuer),
    serial: serialHex(parsed.serial),
    version: parsed.version,
    notBefore: parsed.notBefore.toISOString(),
    notAfter: parsed.notAfter.toISOString(),
    validity: validityAt(parsed.notBefore, parsed.notAfter, options.now ?? new Date()),
    key,
    signatureAlgorithm: SIGNATURE_ALGORITHMS[parsed.signatureAlgorithmOid] ?? parsed.signatureAlgorithmOid,
    isCa: decoded.basicConstraints?.ca ?? false,
    ...decoded,
    extensions: parsed.extensions.map((e) => ({ oid: e.oid, name: EXTENSION_NAMES[e.oid] ?? e.oid, critical: e.critical })),
    fingerprints: await fingerprints(der, parsed.spki),
    selfSigned: false,
    pem: certificatePem(der),
  };
  const cn = commonName(parsed.subject);
  if (cn !== undefined) info.commonName = cn;
  const inspected: InspectedCertificate = { info, parsed, certificate: cert, subjectKey, issuerKey, signedBy };
  // A self-issued certificate whose signature this runtime cannot check (e.g. Ed448 in a
  // browser) is still almost certainly a root; one whose signature fails is not.
  info.selfSigned = subjectKey === issuerKey && (await signedBy(inspected)) !== false;
  return inspected;
}

function day(iso: string): string {
  return iso.slice(0, 10);
}

/** Validity problems of one certificate (expired, not yet valid, expires soon). */
export function validityProblems(info: CertificateInfo): Problem[] {
  const { validity } = info;
  if (validity.status === 'expired') {
    return [problem('cert_expired', `${info.subject} expired on ${day(info.notAfter)} (${-validity.daysLeft} days ago)`, info.where)];
  }
  if (validity.status === 'not_yet_valid') {
    return [problem('cert_not_yet_valid', `${info.subject} is not valid before ${info.notBefore.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`, info.where)];
  }
  if (validity.expiresSoon) {
    return [problem('expires_soon', `${info.subject} expires on ${day(info.notAfter)}, in ${validity.daysLeft} days`, info.where)];
  }
  return [];
}

/** Inspects every found certificate; unreadable ones become `cert_malformed` problems. */
export async function inspectCertificates(found: readonly FoundCertificate[], now: Date = new Date()): Promise<{ certificates: InspectedCertificate[]; problems: Problem[] }> {
  const certificates: InspectedCertificate[] = [];
  const problems: Problem[] = [];
  for (const f of found) {
    try {
      certificates.push(await inspectCertificate(f.der, { where: f.where, now }));
    } catch (e) {
      if (e instanceof CertificateError) problems.push(problem('cert_malformed', e.message, f.where));
      else throw e;
    }
  }
  return { certificates, problems };
}
