// PKCS#7 "certs-only" bundles (.p7b, `BEGIN PKCS7`): the certificates of a SignedData, in the
// order the file holds them (which says nothing about chain order).
import { children, readTlv, TAG } from './der.ts';

/** The DER certificates inside a PKCS#7 ContentInfo holding SignedData. Throws DerError on damage. */
export function certificatesOfPkcs7(der: Uint8Array): Uint8Array[] {
  const [, explicitContent] = children(der, readTlv(der));
  const signedData = explicitContent ? children(der, explicitContent)[0] : undefined;
  if (!signedData) return [];
  // SignedData: version, digestAlgorithms, encapContentInfo, certificates [0] IMPLICIT, crls [1], signerInfos.
  const certificates = children(der, signedData).find((f) => f.tag === TAG.context0);
  if (!certificates) return [];
  return children(der, certificates)
    .filter((c) => c.tag === TAG.sequence)
    .map((c) => der.slice(c.start, c.end));
}
