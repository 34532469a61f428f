// Key generation, CSRs and certificate issuing over WebCrypto, used by the browser (keys made
// there) and by the relay's lab CA alike. Both run it on the global WebCrypto (`crypto`: every
// browser, Node >= 20); @peculiar/x509 finds the same object on its own when it loads.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { rfc4514FromDer } from './names.ts';
import { HarnessError } from '../errors.ts';

export type KeyAlgorithmName = 'RSA-2048' | 'RSA-3072' | 'RSA-4096' | 'P-256' | 'P-384' | 'Ed25519';

export const KEY_ALGORITHMS: readonly KeyAlgorithmName[] = ['RSA-2048', 'RSA-3072', 'RSA-4096', 'P-256', 'P-384', 'Ed25519'];

/** WebCrypto parameters to generate and to sign with each key algorithm. */
export function algorithmParams(name: KeyAlgorithmName): { generate: RsaHashedKeyGenParams | EcKeyGenParams | Algorithm; sign: Algorithm | EcdsaParams } {
  switch (name) {
    case 'RSA-2048':
    case 'RSA-3072':
    case 'RSA-4096': {
      const modulusLength = Number(name.slice(4));
      return {
        generate: { name: 'RSASSA-PKCS1-v1_5', modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
        sign: { name: 'RSASSA-PKCS1-v1_5' },
      };
    }
    case 'P-256':
      return { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams };
    case 'P-384':
      return { generate: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } as EcdsaParams };
    case 'Ed25519':
      return { generate: { name: 'Ed25519' }, sign: { name: 'Ed25519' } };
  }
}

/** Generates a key pair. `extractable` must be true for keys that an mTLS run sends to the relay. */
export async function generateKeyPair(name: KeyAlgorithmName, extractable: boolean): Promise<CryptoKeyPair> {
  const { generate } = algorithmParams(name);
  return (await crypto.subtle.generateKey(generate, extractable, ['sign', 'verify'])) as CryptoKeyPair;
}

export function keyAlgorithmOf(key: CryptoKey): KeyAlgorithmName {
  const a = key.algorithm as KeyAlgorithm & { modulusLength?: number; namedCurve?: string };
  if (a.name === 'RSASSA-PKCS1-v1_5' || a.name === 'RSA-PSS') return `RSA-${a.modulusLength}` as KeyAlgorithmName;
  if (a.name === 'ECDSA') return a.namedCurve as KeyAlgorithmName;
  if (a.name === 'Ed25519') return 'Ed25519';
  throw new TypeError(`unsupported key algorithm ${a.name}`);
}

function base64(bytes: ArrayBuffer): string {
  let binary = '';
  const view = new Uint8Array(bytes);
  for (let i = 0; i < view.length; i += 0x8000) binary += String.fromCharCode(...view.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function toPem(der: ArrayBuffer, label: string): string {
  const lines = base64(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export async function exportPkcs8Pem(privateKey: CryptoKey): Promise<string> {
  return toPem(await crypto.subtle.exportKey('pkcs8', privateKey), 'PRIVATE KEY');
}

export async function createCsr(keys: CryptoKeyPair, subject: string): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: nameOf(subject),
    keys,
    signingAlgorithm: algorithmParams(keyAlgorithmOf(keys.privateKey)).sign,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  return csr.toString('pem');
}

export type CertificateProfile = 'root-ca' | 'intermediate-ca' | 'client' | 'server';

export interface IssueOptions {
  subject: string;
  profile: CertificateProfile;
  notBefore?: Date;
  notAfter?: Date;
  /** DNS names and IP addresses for server certificates. */
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Override the extended key usages implied by the profile (e.g. a serverAuth-only client cert for training). */
  extendedKeyUsages?: string[];
  pathLength?: number;
  crlUrl?: string;
}

export interface Issuer {
  certificate: x509.X509Certificate;
  privateKey: CryptoKey;
}

function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f; // keep the serial positive
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function extensionsFor(opts: IssueOptions, publicKey: CryptoKey | x509.PublicKey, issuer: Issuer | null): Promise<x509.Extension[]> {
  const isCa = opts.profile === 'root-ca' || opts.profile === 'intermediate-ca';
  const ext: x509.Extension[] = [];
  if (isCa) {
    ext.push(new x509.BasicConstraintsExtension(true, opts.pathLength, true));
    ext.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true));
  } else {
    ext.push(new x509.BasicConstraintsExtension(false, undefined, true));
    ext.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true));
    const eku = opts.extendedKeyUsages ?? [opts.profile === 'client' ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth];
    ext.push(new x509.ExtendedKeyUsageExtension(eku, false));
  }
  const names: x509.JsonGeneralName[] = [
    ...(opts.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (names.length) ext.push(new x509.SubjectAlternativeNameExtension(names, false));
  ext.push(await x509.SubjectKeyIdentifierExtension.create(publicKey));
  if (issuer) ext.push(await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate));
  if (opts.crlUrl) ext.push(new x509.CRLDistributionPointsExtension([opts.crlUrl]));
  return ext;
}

function defaultValidity(opts: IssueOptions): { notBefore: Date; notAfter: Date } {
  const notBefore = opts.notBefore ?? new Date(Date.now() - 5 * 60_000); // tolerate small clock skew
  const days = opts.profile === 'root-ca' ? 3650 : opts.profile === 'intermediate-ca' ? 1825 : 365;
  return { notBefore, notAfter: opts.notAfter ?? new Date(notBefore.getTime() + days * 86_400_000) };
}

/**
 * An RFC 4514 string (`CN=client, O=Acme`, most specific first) as a Name encoded the way
 * RFC 4514 section 2.1 reads it: the last RDN of the string first (C/O, then CN). Encoded as
 * written, OpenSSL and Apache would show the name backwards.
 */
export function nameOf(rfc4514: string): x509.Name {
  return new x509.Name(new x509.Name(rfc4514).toJSON().reverse());
}

/** A self-signed certificate: a root CA, or a self-signed leaf for training and tests. */
export async function selfSign(keys: CryptoKeyPair, opts: IssueOptions): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: nameOf(opts.subject),
    keys,
    signingAlgorithm: algorithmParams(keyAlgorithmOf(keys.privateKey)).sign,
    extensions: await extensionsFor(opts, keys.publicKey, null),
    ...defaultValidity(opts),
  });
}

/** Issues a certificate for `publicKey` signed by `issuer`. */
export async function issue(publicKey: CryptoKey | x509.PublicKey, issuer: Issuer, opts: IssueOptions): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: nameOf(opts.subject),
    // The issuer's name byte for byte, so chain building matches it to the CA's subject.
    issuer: issuer.certificate.subjectName,
    publicKey,
    signingKey: issuer.privateKey,
    signingAlgorithm: algorithmParams(keyAlgorithmOf(issuer.privateKey)).sign,
    extensions: await extensionsFor(opts, publicKey, issuer),
    ...defaultValidity(opts),
  });
}

export class CsrError extends HarnessError<'csr_invalid'> {
  constructor(message: string) {
    super('csr_invalid', message);
  }
}

/** Parses a PEM CSR and checks its self-signature; returns subject and public key. */
export async function readCsr(pem: string): Promise<{ subject: string; publicKey: x509.PublicKey }> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem.trim());
  } catch {
    throw new CsrError('the text is not a PEM certificate signing request (-----BEGIN CERTIFICATE REQUEST-----)');
  }
  if (!(await csr.verify())) throw new CsrError('the CSR signature does not verify: it was not signed by the key it contains');
  // As RFC 4514 (most specific first): issue() encodes it back in the CSR's order.
  return { subject: rfc4514FromDer(new Uint8Array(csr.subjectName.toArrayBuffer())), publicKey: csr.publicKey };
}

export { x509 };
