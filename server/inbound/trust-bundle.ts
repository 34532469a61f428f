// The CA bundle a listener verifies client certificates against, read once at listener start:
// the PEMs Node gets, the inspected certificates the checks use, and warnings about a bundle
// that will make every client fail (an expired CA, an intermediate without its root).
import { findIssuer } from '../../shared/pki/chain.ts';
import { inspectCertificates, type InspectedCertificate } from '../../shared/pki/inspect.ts';
import { readInput } from '../../shared/pki/read.ts';
import { HarnessError } from '../../shared/errors.ts';

export interface TrustBundle {
  certificates: InspectedCertificate[];
  /** One PEM per certificate, for Node's `ca` option. */
  pems: string[];
  subjects: string[];
  warnings: string[];
}

/** A CA bundle that cannot be used; the message names what is wrong and is safe to show. */
export class CaBundleError extends HarnessError<'ca_invalid'> {
  constructor(message: string) {
    super('ca_invalid', message);
  }
}

export async function readTrustBundle(caPem: string, now = new Date()): Promise<TrustBundle> {
  const read = await readInput(caPem, { name: 'CA bundle' });
  // Never echo what was found: a pasted key is the one thing that must not travel back.
  if (read.keys.length > 0) throw new CaBundleError('the CA bundle contains a private key; give only the CA certificates (and keep that key elsewhere)');
  const { certificates, problems } = await inspectCertificates(read.certificates, now);
  const unreadable = [...read.problems, ...problems].find((p) => p.severity === 'error');
  if (unreadable) throw new CaBundleError(`the CA bundle cannot be used: ${unreadable.message}${unreadable.where ? ` (${unreadable.where})` : ''}`);
  if (certificates.length === 0) throw new CaBundleError('the CA bundle contains no certificate');
  const warnings: string[] = [];
  for (const c of certificates) {
    const { info } = c;
    if (info.validity.status === 'expired') warnings.push(`${info.subject} expired on ${info.notAfter.slice(0, 10)}: no client certificate will verify through it`);
    if (info.validity.status === 'not_yet_valid') warnings.push(`${info.subject} is valid only from ${info.notBefore.slice(0, 10)}: no client certificate will verify through it yet`);
    if (!info.isCa && !info.selfSigned) warnings.push(`${info.subject} is not a CA certificate; client certificates cannot chain to it`);
    // OpenSSL only accepts a chain that ends in a self-signed certificate it trusts.
    if (info.isCa && !info.selfSigned && !(await findIssuer(c, certificates)).issuer) {
      warnings.push(`${info.subject} is an intermediate whose issuer ${info.issuer} is not in the bundle: add the root, or chains through it will not verify`);
    }
  }
  return { certificates, pems: certificates.map((c) => c.info.pem), subjects: certificates.map((c) => c.info.subject), warnings };
}
