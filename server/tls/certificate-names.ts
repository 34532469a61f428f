// Subject and issuer of a DER certificate in the same OpenSSL spelling as the acceptable CA
// names, so a chain as sent can be lined up against what the server said it accepts.
import { children, readTlv } from '../../shared/pki/der.ts';
import { copyBytes } from './bytes.ts';
import { parseDistinguishedName, type DistinguishedName } from './distinguished-name.ts';
import { TlsTapError } from './errors.ts';

interface CertificateNames {
  subject: DistinguishedName;
  issuer: DistinguishedName;
}

const EXPLICIT_VERSION_TAG = 0xa0;

/** Throws TlsTapError('malformed') when `der` is not an X.509 certificate. */
export function certificateNames(der: Uint8Array): CertificateNames {
  try {
    const certificate = readTlv(der);
    const tbs = children(der, certificate)[0];
    if (!tbs) throw new TlsTapError('malformed', 'empty certificate');
    const fields = children(der, tbs);
    // TBSCertificate: [0] version (optional), serialNumber, signature, issuer, validity, subject, …
    const base = fields[0]?.tag === EXPLICIT_VERSION_TAG ? 1 : 0;
    const issuer = fields[base + 2];
    const subject = fields[base + 4];
    if (!issuer || !subject) throw new TlsTapError('malformed', 'certificate has no issuer or subject');
    return {
      issuer: parseDistinguishedName(copyBytes(der.subarray(issuer.start, issuer.end))),
      subject: parseDistinguishedName(copyBytes(der.subarray(subject.start, subject.end))),
    };
  } catch (error) {
    if (error instanceof TlsTapError) throw error;
    throw new TlsTapError('malformed', `not a DER certificate: ${(error as Error).message}`);
  }
}
