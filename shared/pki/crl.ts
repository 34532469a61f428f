// Certificate revocation lists signed by a CA's key, for the lab and the tests: Apache's
// SSLCARevocationFile and nginx's ssl_crl read them as PEM. With revocation checked for the
// whole chain, every CA needs a CRL (an empty one is fine), or the clients under it are refused.
import { x509, algorithmParams, keyAlgorithmOf, toPem, type Issuer } from './issue.ts';

const CRL_NUMBER_OID = '2.5.29.20';
const HOUR = 3_600_000;

interface RevokedEntry {
  /** The revoked certificate's serial number, hexadecimal (as x509 and node:crypto print it). */
  serialNumber: string;
  /** Default: the CRL's thisUpdate. */
  revokedAt?: Date;
  reason?: x509.X509CrlReason;
}

interface CrlOptions {
  revoked?: RevokedEntry[];
  /** Default: five minutes ago, so a server whose clock lags a little still accepts the CRL. */
  thisUpdate?: Date;
  /** Default: seven days after thisUpdate. OpenSSL refuses a CRL past its nextUpdate. */
  nextUpdate?: Date;
  /** The CRL number extension (RFC 5280 §5.2.3); default 1. */
  crlNumber?: number;
}

/** DER INTEGER for a non-negative safe integer. */
function derInteger(value: number): Uint8Array<ArrayBuffer> {
  const bytes: number[] = [];
  let v = value;
  do {
    bytes.unshift(v % 256);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return new Uint8Array([0x02, bytes.length, ...bytes]);
}

/** A v2 CRL issued by `issuer`, with the authority key identifier and a CRL number. */
export async function createCrl(issuer: Issuer, opts: CrlOptions = {}): Promise<x509.X509Crl> {
  const crlNumber = opts.crlNumber ?? 1;
  if (!Number.isSafeInteger(crlNumber) || crlNumber < 0) throw new TypeError('crlNumber must be a non-negative integer');
  const thisUpdate = opts.thisUpdate ?? new Date(Date.now() - 5 * 60_000);
  const nextUpdate = opts.nextUpdate ?? new Date(thisUpdate.getTime() + 7 * 24 * HOUR);
  if (nextUpdate <= thisUpdate) throw new TypeError('nextUpdate must be later than thisUpdate');
  const entries = (opts.revoked ?? []).map((entry, i) => {
    if (!/^[0-9a-f]+$/i.test(entry.serialNumber)) throw new TypeError(`revoked[${i}].serialNumber must be hexadecimal`);
    return {
      serialNumber: entry.serialNumber.toLowerCase(),
      revocationDate: entry.revokedAt ?? thisUpdate,
      ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
    };
  });
  return x509.X509CrlGenerator.create({
    // The issuer's name exactly as encoded in its certificate: OpenSSL finds the CRL by it.
    issuer: issuer.certificate.subjectName,
    thisUpdate,
    nextUpdate,
    signingKey: issuer.privateKey,
    signingAlgorithm: algorithmParams(keyAlgorithmOf(issuer.privateKey)).sign,
    extensions: [
      await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate),
      new x509.Extension(CRL_NUMBER_OID, false, derInteger(crlNumber)),
    ],
    entries,
  });
}

/** PEM with the label OpenSSL reads ("X509 CRL"; @peculiar/x509 writes plain "CRL"). */
export function crlPem(crl: x509.X509Crl): string {
  return toPem(crl.rawData, 'X509 CRL');
}
