// What an item can be exported as: PEM files, PKCS#12, JWK/JWKS and fingerprints. Private key
// material is produced only when asked (a click on reveal, copy or download), never kept as text.
import type { StoredItem } from '../keys/vault.ts';
import type { PublicJwk } from '../../../../shared/pki/jwk.ts';
import { loadEngine } from './engine.ts';

/** A file name stem from the item's label: `Acme Root CA` → `acme-root-ca`. */
export function fileStem(item: Pick<StoredItem, 'label'>): string {
  return item.label.toLowerCase().replace(/[^a-z0-9.]+/g, '-').replace(/^-+|-+$/g, '') || 'certificate';
}

interface PemExports {
  /** The item's own certificate. */
  certificate: string;
  /** Leaf and intermediates: what a TLS client or server sends. Equal to `certificate` when there are none. */
  chain: string;
  /** Leaf, intermediates and root. */
  fullChain: string;
  /** The root CA: what the other side puts in its trust store (SSLCACertificateFile, ssl_client_certificate). */
  root: string;
}

export function pemExports(item: StoredItem): PemExports | null {
  if (!item.certificatePem) return null;
  const chain = item.certificatePem + item.chainPem;
  return { certificate: item.certificatePem, chain, fullChain: chain + item.rootPem, root: item.rootPem || item.certificatePem };
}

class NotExtractableError extends Error {
  readonly code = 'key_not_extractable';
}

/** PKCS#8 PEM of the private key. Throws NotExtractableError for keys made non-extractable. */
export async function privateKeyPem(item: StoredItem): Promise<string> {
  if (!item.keys.privateKey.extractable) {
    throw new NotExtractableError('This key was made non-extractable: it can sign in this browser, but nobody can export it, not even this page.');
  }
  const { pki } = await loadEngine();
  return pki.exportPkcs8Pem(item.keys.privateKey);
}

/** Certificates of the chain as DER, leaf first, without the root. */
async function chainDer(item: StoredItem): Promise<Uint8Array[]> {
  const { readPem } = await loadEngine();
  return readPem(item.certificatePem! + item.chainPem).blocks.map((b) => b.der);
}

/** A .p12 with the certificate, its intermediates and the private key. */
export async function pkcs12Of(item: StoredItem, password: string): Promise<Uint8Array> {
  if (!item.certificatePem) throw new TypeError('item has no certificate');
  if (!item.keys.privateKey.extractable) throw new NotExtractableError('A PKCS#12 file holds the private key, and this key cannot be exported.');
  const engine = await loadEngine();
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', item.keys.privateKey));
  return engine.writePkcs12({ certificates: await chainDer(item), privateKey: pkcs8 }, { password, friendlyName: item.label });
}

interface KeyIdentity {
  jwk: PublicJwk;
  /** Present for items with a certificate. */
  sha256?: string;
  sha1?: string;
  x5tS256?: string;
  spkiSha256: string;
}

/** The public JWK (with x5c when there is a certificate) and the fingerprints people compare. */
export async function keyIdentity(item: StoredItem): Promise<KeyIdentity> {
  const engine = await loadEngine();
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', item.keys.publicKey));
  if (!item.certificatePem) {
    const jwk = await engine.publicJwkOfSpki(spki);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', spki));
    return { jwk, spkiSha256: btoa(String.fromCharCode(...digest)) };
  }
  const certificates = await chainDer(item);
  const jwk = await engine.publicJwkOfSpki(spki, { certificates });
  const f = await engine.fingerprints(certificates[0]!, spki);
  return { jwk, sha256: f.sha256, sha1: f.sha1, x5tS256: f.x5tS256, spkiSha256: f.spkiSha256 };
}
