// Certificate fingerprints in the forms people compare them in: OpenSSL's colon hex
// (`openssl x509 -fingerprint -sha256`), JOSE's `x5t#S256`/`x5t` (base64url of the DER hash,
// RFC 7515) and the SPKI pin (`pin-sha256`, base64 of the public key's hash: curl
// `--pinnedpubkey sha256//…`).
import { toArrayBuffer, toBase64, toBase64Url, toColonHex } from './encoding.ts';

export interface Fingerprints {
  /** `AB:CD:…`, upper case. */
  sha256: string;
  sha1: string;
  /** base64url SHA-256 of the DER certificate. */
  x5tS256: string;
  /** base64url SHA-1 of the DER certificate. */
  x5t: string;
  /** base64 SHA-256 of the SubjectPublicKeyInfo. */
  spkiSha256: string;
}

export async function digest(algorithm: 'SHA-1' | 'SHA-256', data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(algorithm, toArrayBuffer(data)));
}

export async function fingerprints(der: Uint8Array, spki: Uint8Array): Promise<Fingerprints> {
  const [sha256, sha1, spkiHash] = await Promise.all([digest('SHA-256', der), digest('SHA-1', der), digest('SHA-256', spki)]);
  return { sha256: toColonHex(sha256), sha1: toColonHex(sha1), x5tS256: toBase64Url(sha256), x5t: toBase64Url(sha1), spkiSha256: toBase64(spkiHash) };
}
