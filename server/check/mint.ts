// Certificates for the server check, minted on the fly from the user's test CA: each case's
// certificate differs from the valid one in exactly one property (dates, EKU, key usage, issuer,
// key size, subject, chain), so a server that accepts it lacks exactly one check.
import { createHash, createHmac, createPrivateKey, X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import { x509, algorithmParams, exportPkcs8Pem, keyAlgorithmOf, type Issuer } from '../../shared/pki/issue.ts';

const subtle = globalThis.crypto.subtle;
const DAY = 86_400_000;

export interface Minted {
  /** Leaf first, then the CA certificates to send, PEM. */
  certificatePem: string;
  privateKeyPem: string;
  /** The leaf's serial number, hexadecimal. */
  serialNumber: string;
}

/** WebCrypto import parameters for a Node key object (RSA, EC P-256/P-384, Ed25519); TypeError for any other. */
export function signingParams(key: KeyObject): RsaHashedImportParams | EcKeyImportParams | Algorithm {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const named = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : undefined;
    if (!named) throw new TypeError(`the CA key's curve ${curve ?? '(unknown)'} is not supported (use P-256, P-384, RSA or Ed25519)`);
    return { name: 'ECDSA', namedCurve: named };
  }
  if (type === 'ed25519') return { name: 'Ed25519' };
  throw new TypeError(`the CA key type ${type ?? '(unknown)'} is not supported (use RSA, P-256, P-384 or Ed25519)`);
}

/** A CA as a signer, from its certificate (DER) and its key already read. */
export async function issuerFrom(certificateDer: Uint8Array, privateKey: KeyObject): Promise<Issuer> {
  const key = await subtle.importKey('pkcs8', privateKey.export({ type: 'pkcs8', format: 'der' }), signingParams(privateKey), true, ['sign']);
  return { certificate: new x509.X509Certificate(new Uint8Array(certificateDer)), privateKey: key };
}

function randomSerial(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

/**
 * The serial the revoked case always carries under `issuer`: the CRL installed on the server
 * lists it once, and every later check mints its revoked certificate with it.
 */
export function revokedSerial(issuerDer: Uint8Array): string {
  const bytes = createHash('sha256').update('server-check revoked\0').update(issuerDer).digest().subarray(0, 16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

/**
 * A P-256 key derived from the intermediate's private key: the extra CAs of the too-deep chain
 * keep the same keys from check to check, so the CRLs they sign can be installed once.
 */
async function derivedP256(secret: KeyObject, label: string): Promise<CryptoKeyPair> {
  const seed = secret.export({ type: 'pkcs8', format: 'der' });
  for (let counter = 0; ; counter++) {
    const d = createHmac('sha256', seed).update(`server-check ${label} ${counter}`).digest();
    // SEC1 ECPrivateKey without the public key: OpenSSL computes it. A d ≥ n (chance 2^-32) is refused; try the next.
    const sec1 = Buffer.concat([Buffer.from('30310201010420', 'hex'), d, Buffer.from('a00a06082a8648ce3d030107', 'hex')]);
    let object: KeyObject;
    try {
      object = createPrivateKey({ key: sec1, format: 'der', type: 'sec1' });
    } catch {
      continue;
    }
    const jwk = object.export({ format: 'jwk' });
    const privateKey = await subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
    const { d: _d, ...pub } = jwk;
    const publicKey = await subtle.importKey('jwk', pub, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
    return { privateKey, publicKey };
  }
}

export type LeafKey = 'P-256' | 'RSA-1024';

export interface LeafOptions {
  subject: x509.JsonName;
  notBefore?: Date;
  notAfter?: Date;
  /** Default clientAuth. */
  extendedKeyUsages?: string[];
  /** Default digitalSignature; keyEncipherment alone for the no-signature case. */
  keyUsage?: number;
  dnsNames?: string[];
  serialNumber?: string;
  key?: LeafKey;
  /** A key pair to certify instead of a new one (the cases of one check share one). */
  keys?: CryptoKeyPair;
}

let weakKeys: Promise<CryptoKeyPair> | undefined;

export async function leafKeys(kind: LeafKey): Promise<CryptoKeyPair> {
  if (kind === 'RSA-1024') {
    // Generating RSA keys is slow and this one only has to be weak: one per process will do.
    return weakKeys ??= subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
  }
  return (await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
}

function leafExtensions(opts: LeafOptions): x509.Extension[] {
  const ext: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(opts.keyUsage ?? x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(opts.extendedKeyUsages ?? [x509.ExtendedKeyUsage.clientAuth], false),
  ];
  if (opts.dnsNames?.length) ext.push(new x509.SubjectAlternativeNameExtension(opts.dnsNames.map((value) => ({ type: 'dns' as const, value })), false));
  return ext;
}

function validity(opts: { notBefore?: Date; notAfter?: Date }): { notBefore: Date; notAfter: Date } {
  const notBefore = opts.notBefore ?? new Date(Date.now() - 5 * 60_000);
  return { notBefore, notAfter: opts.notAfter ?? new Date(Date.now() + 2 * DAY) };
}

function pemOf(cert: x509.X509Certificate): string {
  return cert.toString('pem') + '\n';
}

/** A leaf issued by `issuer`; `chain` (PEM) is appended as the intermediates to send. */
export async function mintLeaf(issuer: Issuer | 'self', opts: LeafOptions, chain = ''): Promise<Minted> {
  const keys = opts.key === 'RSA-1024' ? await leafKeys('RSA-1024') : opts.keys ?? await leafKeys('P-256');
  const extensions = leafExtensions(opts);
  const serialNumber = opts.serialNumber ?? randomSerial();
  let cert: x509.X509Certificate;
  if (issuer === 'self') {
    extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey));
    cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber, name: opts.subject, keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams, extensions, ...validity(opts),
    });
  } else {
    extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey));
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate));
    cert = await x509.X509CertificateGenerator.create({
      serialNumber,
      subject: opts.subject,
      issuer: issuer.certificate.subjectName,
      publicKey: keys.publicKey,
      signingKey: issuer.privateKey,
      signingAlgorithm: algorithmParams(keyAlgorithmOf(issuer.privateKey)).sign,
      extensions,
      ...validity(opts),
    });
  }
  return { certificatePem: pemOf(cert) + chain, privateKeyPem: await exportPkcs8Pem(keys.privateKey), serialNumber };
}

async function caExtensions(publicKey: CryptoKey, issuer: Issuer | null): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
    ...(issuer ? [await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate)] : []),
  ];
}

/** A throwaway root the server has never seen: the untrusted-CA case's issuer. */
export async function mintStrangerRoot(subject: string): Promise<Issuer> {
  const keys = await leafKeys('P-256');
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(), name: subject, keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
    extensions: await caExtensions(keys.publicKey, null), ...validity({}),
  });
  return { certificate, privateKey: keys.privateKey };
}

/**
 * `count` CAs below the intermediate, each issuing the next, with keys derived from the
 * intermediate's: the chain one deeper than the server allows. Certificates are new each time;
 * the names and keys (hence the CRLs they sign) stay the same.
 */
export function deepCas(intermediate: Issuer, intermediateKey: KeyObject, count: number): Promise<Issuer[]> {
  // The same intermediate gives the same CAs: made once per process (a few, most recent kept).
  const id = `${createHash('sha256').update(Buffer.from(intermediate.certificate.rawData)).digest('base64')} ${count}`;
  let hit = deepCache.get(id);
  if (!hit) {
    hit = makeDeepCas(intermediate, intermediateKey, count);
    hit.catch(() => deepCache.delete(id));
    deepCache.set(id, hit);
    if (deepCache.size > DEEP_CACHE_SIZE) deepCache.delete(deepCache.keys().next().value!);
  }
  return hit;
}

const DEEP_CACHE_SIZE = 8;
const deepCache = new Map<string, Promise<Issuer[]>>();

async function makeDeepCas(intermediate: Issuer, intermediateKey: KeyObject, count: number): Promise<Issuer[]> {
  const out: Issuer[] = [];
  let parent = intermediate;
  const base = new NodeX509(Buffer.from(intermediate.certificate.rawData)).subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3) ?? 'Intermediate';
  for (let i = 1; i <= count; i++) {
    const keys = await derivedP256(intermediateKey, `depth ${i}`);
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: `CN=${base.replace(/[,+="\\<>;]/g, ' ')} check depth ${i}`,
      issuer: parent.certificate.subjectName,
      publicKey: keys.publicKey,
      signingKey: parent.privateKey,
      signingAlgorithm: algorithmParams(keyAlgorithmOf(parent.privateKey)).sign,
      extensions: await caExtensions(keys.publicKey, parent),
      ...validity({ notAfter: new Date(Date.now() + 3650 * DAY) }),
    });
    parent = { certificate, privateKey: keys.privateKey };
    out.push(parent);
  }
  return out;
}

export { pemOf };
