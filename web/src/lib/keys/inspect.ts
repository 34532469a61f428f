import { loadPki } from './pki.ts';
import { rfc4514FromDer } from '../../../../shared/pki/names.ts';

/** What the UI shows about a certificate. */
export interface CertificateSummary {
  subject: string;
  /** The subject's CN, or the whole subject when it has none. */
  commonName: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  serialNumber: string;
  /** e.g. "P-256" or "RSA-2048". */
  keyAlgorithm: string;
  selfSigned: boolean;
  /** Extended key usages by name; empty when the extension is absent (any use allowed). */
  extendedKeyUsages: string[];
}

const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
};

function describeKeyAlgorithm(algorithm: Algorithm & { namedCurve?: string; modulusLength?: number }): string {
  if (algorithm.namedCurve) return algorithm.namedCurve;
  if (algorithm.modulusLength) return `RSA-${algorithm.modulusLength}`;
  return algorithm.name;
}

class CertificateParseError extends Error {
  readonly code = 'certificate_invalid';
}

export async function summarizeCertificate(pem: string): Promise<CertificateSummary> {
  const { x509 } = await loadPki();
  let cert: InstanceType<typeof x509.X509Certificate>;
  try {
    cert = new x509.X509Certificate(pem);
  } catch {
    throw new CertificateParseError('The certificate could not be parsed: is it a complete PEM block?');
  }
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  // RFC 4514 order (CN first), as the relay and the inspector write names.
  const subject = rfc4514FromDer(new Uint8Array(cert.subjectName.toArrayBuffer()));
  const issuer = rfc4514FromDer(new Uint8Array(cert.issuerName.toArrayBuffer()));
  return {
    subject,
    commonName: cert.subjectName.getField('CN')[0] ?? subject,
    issuer,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    serialNumber: cert.serialNumber,
    keyAlgorithm: describeKeyAlgorithm(cert.publicKey.algorithm),
    selfSigned: subject === issuer,
    extendedKeyUsages: (eku?.usages ?? []).map((oid) => EKU_NAMES[String(oid)] ?? String(oid)),
  };
}
