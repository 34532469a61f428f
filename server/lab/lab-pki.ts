// The lab's private PKI: a client CA that signs certificates for browser-made CSRs and a
// server CA + localhost certificate for the lab targets. Made fresh on first start and kept
// in the lab directory (one per user and machine, see lab-dir.ts) so a restart, and every
// command that starts a lab, keeps issued certificates valid.
import '../pki/provider.ts';
import { randomBytes, webcrypto } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readOrCreate } from './lab-dir.ts';
import { generateKeyPair, selfSign, issue, exportPkcs8Pem, readCsr, x509, type Issuer } from '../../shared/pki/issue.ts';

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
