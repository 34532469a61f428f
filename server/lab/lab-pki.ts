// The lab's private PKI: a client CA that signs certificates for browser-made CSRs and a
// server CA + localhost certificate for the lab targets. Made fresh on first start and kept
// in the lab directory (one per user and machine, see lab-dir.ts) so a restart, and every
// command that starts a lab, keeps issued certificates valid.
import { randomBytes, webcrypto } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readOrCreate } from './lab-dir.ts';
import { generateKeyPair, selfSign, issue, exportPkcs8Pem, readCsr, x509, type Issuer } from '../../shared/pki/issue.ts';
import type { LabSignProfile } from '../../shared/protocol/index.ts';

/**
 * The lab CAs' names carry a short identifier made with the lab, so a certificate from one
 * lab refused by another says why in its issuer name: "Harness Lab Client CA 3f9a2c1b".
 */
export const labClientCaSubject = (labId: string) => `CN=Harness Lab Client CA ${labId}, O=mTLS Harness Lab`;
export const labServerCaSubject = (labId: string) => `CN=Harness Lab Server CA ${labId}, O=mTLS Harness Lab`;

export interface LabPki {
  /** Tells this lab from any other: in both CA names and in the relay's welcome. */
  labId: string;
  clientCa: Issuer;
  clientCaPem: string;
  serverCaPem: string;
  serverCertPem: string;
  serverKeyPem: string;
}

/** All of the PKI in one file, so it is written (and replaced) in one atomic step. */
const PKI_FILE = 'lab-pki.json';
/** Public copies for people to use: `harness probe … --ca server-ca.pem`, a server's CA file. */
const PUBLIC_FILES = { clientCa: 'client-ca.pem', serverCa: 'server-ca.pem' } as const;

interface PkiFile {
  labId: string;
  clientCaPem: string;
  clientCaKeyPem: string;
  serverCaPem: string;
  serverCertPem: string;
  serverKeyPem: string;
}

async function importSigningKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']) as Promise<CryptoKey>;
}

function parse(text: string): PkiFile | null {
  try {
    const f = JSON.parse(text) as Partial<PkiFile>;
    const ok = [f.labId, f.clientCaPem, f.clientCaKeyPem, f.serverCaPem, f.serverCertPem, f.serverKeyPem].every((v) => typeof v === 'string' && v.length > 0);
    return ok ? f as PkiFile : null;
  } catch {
    return null;
  }
}

/** Renew everything once the server certificate gets close to its end rather than serve an expired lab. */
function usable(text: string): boolean {
  const f = parse(text);
  if (!f) return false;
  try {
    return new x509.X509Certificate(f.serverCertPem).notAfter.getTime() - Date.now() >= 7 * 86_400_000;
  } catch {
    return false;
  }
}

async function create(): Promise<string> {
  const labId = randomBytes(4).toString('hex');
  const clientCaKeys = await generateKeyPair('P-256', true);
  const clientCaCert = await selfSign(clientCaKeys, { subject: labClientCaSubject(labId), profile: 'root-ca', pathLength: 1 });
  const serverCaKeys = await generateKeyPair('P-256', true);
  const serverCaCert = await selfSign(serverCaKeys, { subject: labServerCaSubject(labId), profile: 'root-ca', pathLength: 0 });
  const serverKeys = await generateKeyPair('P-256', true);
  const serverCert = await issue(serverKeys.publicKey, { certificate: serverCaCert, privateKey: serverCaKeys.privateKey }, {
    subject: 'CN=localhost, O=mTLS Harness Lab',
    profile: 'server',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
  });
  const file: PkiFile = {
    labId,
    clientCaPem: clientCaCert.toString('pem') + '\n',
    clientCaKeyPem: await exportPkcs8Pem(clientCaKeys.privateKey),
    serverCaPem: serverCaCert.toString('pem') + '\n',
    serverCertPem: serverCert.toString('pem') + '\n',
    serverKeyPem: await exportPkcs8Pem(serverKeys.privateKey),
  };
  return JSON.stringify(file);
}

/** The lab's PKI from `dir`, made there on first use (see lab-dir.ts for which directory). */
export async function loadOrCreateLabPki(dir: string): Promise<LabPki> {
  const f = parse(await readOrCreate(dir, PKI_FILE, create, usable))!;
  await Promise.all([
    writeFile(join(dir, PUBLIC_FILES.clientCa), f.clientCaPem, { mode: 0o644 }),
    writeFile(join(dir, PUBLIC_FILES.serverCa), f.serverCaPem, { mode: 0o644 }),
  ]);
  return {
    labId: f.labId,
    clientCa: { certificate: new x509.X509Certificate(f.clientCaPem), privateKey: await importSigningKey(f.clientCaKeyPem) },
    clientCaPem: f.clientCaPem,
    serverCaPem: f.serverCaPem,
    serverCertPem: f.serverCertPem,
    serverKeyPem: f.serverKeyPem,
  };
}

/** Days a lab-signed client certificate is valid. */
export const LAB_CLIENT_CERT_DAYS = 365;

/** Signs a browser-made CSR as a client certificate (EKU clientAuth). Throws CsrError for a bad CSR. */
export async function signClientCsr(pki: LabPki, csrPem: string): Promise<{ certificatePem: string; chainPem: string }> {
  const { subject, publicKey } = await readCsr(csrPem);
  if (subject.length > 512) throw new TypeError('CSR subject is too long');
  const now = Date.now();
  const cert = await issue(publicKey, pki.clientCa, {
    subject: subject || 'CN=lab-client',
    profile: 'client',
    notBefore: new Date(now - 5 * 60_000),
    notAfter: new Date(now + LAB_CLIENT_CERT_DAYS * 86_400_000),
  });
  return { certificatePem: cert.toString('pem') + '\n', chainPem: pki.clientCaPem };
}

export const labIntermediateCaSubject = (labId: string) => `CN=Harness Lab Intermediate CA ${labId}, O=mTLS Harness Lab`;
export const labRegionalCaSubject = (labId: string) => `CN=Harness Lab Regional CA EMEA ${labId}, O=mTLS Harness Lab`;

/**
 * The CAs behind the lessons' targets, kept in their own file so a lab made before them keeps
 * its client CA (and every certificate it issued): an intermediate under the client CA (the
 * missing-intermediate target) and a separate regional root with a CRL (the rotation target).
 */
export interface LabTargetsPki {
  intermediate: Issuer;
  intermediatePem: string;
  regional: Issuer;
  regionalPem: string;
}

const TARGETS_FILE = 'lab-targets-pki.json';

interface TargetsFile {
  labId: string;
  intermediatePem: string;
  intermediateKeyPem: string;
  regionalPem: string;
  regionalKeyPem: string;
}

function parseTargets(text: string): TargetsFile | null {
  try {
    const f = JSON.parse(text) as Partial<TargetsFile>;
    const ok = [f.labId, f.intermediatePem, f.intermediateKeyPem, f.regionalPem, f.regionalKeyPem].every((v) => typeof v === 'string' && v.length > 0);
    return ok ? f as TargetsFile : null;
  } catch {
    return null;
  }
}

/** The targets' CAs from `dir`, made on first use; remade when the lab's client CA was (another lab id). */
export async function loadOrCreateTargetsPki(dir: string, pki: LabPki): Promise<LabTargetsPki> {
  const make = async () => {
    const interKeys = await generateKeyPair('P-256', true);
    const inter = await issue(interKeys.publicKey, pki.clientCa, { subject: labIntermediateCaSubject(pki.labId), profile: 'intermediate-ca', pathLength: 0 });
    const regionalKeys = await generateKeyPair('P-256', true);
    const regional = await selfSign(regionalKeys, { subject: labRegionalCaSubject(pki.labId), profile: 'root-ca', pathLength: 0 });
    const file: TargetsFile = {
      labId: pki.labId,
      intermediatePem: inter.toString('pem') + '\n',
      intermediateKeyPem: await exportPkcs8Pem(interKeys.privateKey),
      regionalPem: regional.toString('pem') + '\n',
      regionalKeyPem: await exportPkcs8Pem(regionalKeys.privateKey),
    };
    return JSON.stringify(file);
  };
  const f = parseTargets(await readOrCreate(dir, TARGETS_FILE, make, (text) => parseTargets(text)?.labId === pki.labId))!;
  // Public copies: the intermediate a client must send, the regional root a server must trust.
  await Promise.all([
    writeFile(join(dir, 'intermediate-ca.pem'), f.intermediatePem, { mode: 0o644 }),
    writeFile(join(dir, 'regional-ca.pem'), f.regionalPem, { mode: 0o644 }),
  ]);
  return {
    intermediate: { certificate: new x509.X509Certificate(f.intermediatePem), privateKey: await importSigningKey(f.intermediateKeyPem) },
    intermediatePem: f.intermediatePem,
    regional: { certificate: new x509.X509Certificate(f.regionalPem), privateKey: await importSigningKey(f.regionalKeyPem) },
    regionalPem: f.regionalPem,
  };
}

/**
 * The regional CA's revocation list. It lives as long as the lab process (a restart starts with
 * an empty list: ask for a new `revoked` certificate then); the oldest entry goes past
 * `maxEntries`, so a relay that runs for months does not grow it without end.
 */
export class RegionalCrl {
  #serials: string[] = [];
  #der: ArrayBuffer | null = null;
  constructor(private readonly regional: Issuer, private readonly maxEntries: number) {}

  async revoke(serialHex: string): Promise<void> {
    this.#serials.push(serialHex.toLowerCase());
    if (this.#serials.length > this.maxEntries) this.#serials.shift();
    this.#der = null;
  }

  isRevoked(serialHex: string): boolean {
    return this.#serials.includes(serialHex.toLowerCase());
  }

  /** The CRL as DER, signed by the regional CA; made again after each revocation and once a day. */
  async der(): Promise<ArrayBuffer> {
    if (this.#der && this.#madeAt > Date.now() - 86_400_000) return this.#der;
    const now = Date.now();
    const crl = await x509.X509CrlGenerator.create({
      issuer: this.regional.certificate.subject,
      thisUpdate: new Date(now - 5 * 60_000),
      nextUpdate: new Date(now + 7 * 86_400_000),
      entries: this.#serials.map((serialNumber) => ({ serialNumber, revocationDate: new Date(now - 5 * 60_000), reason: x509.X509CrlReason.superseded })),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
      signingKey: this.regional.privateKey,
    });
    this.#madeAt = now;
    this.#der = crl.rawData;
    return this.#der;
  }
  #madeAt = 0;
}

/** Client certificate validity (ms) by lab.sign profile; `expired` ended yesterday. */
function validity(profile: LabSignProfile, now: number): { notBefore: Date; notAfter: Date } {
  if (profile === 'expired') return { notBefore: new Date(now - (LAB_CLIENT_CERT_DAYS + 1) * 86_400_000), notAfter: new Date(now - 86_400_000) };
  return { notBefore: new Date(now - 5 * 60_000), notAfter: new Date(now + LAB_CLIENT_CERT_DAYS * 86_400_000) };
}

/**
 * Signs a browser-made CSR as `profile` asks (see LAB_SIGN_PROFILES); `revoked` also lists the
 * certificate in the regional CRL. Throws CsrError for a bad CSR.
 */
export async function signClientCsrAs(pki: LabPki, targets: LabTargetsPki, crl: RegionalCrl, csrPem: string, profile: LabSignProfile): Promise<{ certificatePem: string; chainPem: string }> {
  if (profile === 'client') return signClientCsr(pki, csrPem);
  const { subject, publicKey } = await readCsr(csrPem);
  if (subject.length > 512) throw new TypeError('CSR subject is too long');
  const byRegional = profile === 'regional' || profile === 'revoked';
  const issuer = byRegional ? targets.regional : profile === 'expired' ? pki.clientCa : targets.intermediate;
  const cert = await issue(publicKey, issuer, { subject: subject || 'CN=lab-client', profile: 'client', ...validity(profile, Date.now()) });
  if (profile === 'revoked') await crl.revoke(cert.serialNumber);
  const chainPem = byRegional ? targets.regionalPem
    : profile === 'intermediate' ? targets.intermediatePem + pki.clientCaPem
    : pki.clientCaPem;
  return { certificatePem: cert.toString('pem') + '\n', chainPem };
}
