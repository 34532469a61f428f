// The lab's private PKI: a client CA that signs certificates for browser-made CSRs and a
// server CA + localhost certificate for the lab targets. Made fresh on first start and kept
// in the data directory (never in the repository) so a restart keeps issued certs valid.
import '../pki/provider.ts';
import { webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair, selfSign, issue, exportPkcs8Pem, readCsr, x509, type Issuer } from '../../shared/pki/issue.ts';

export const LAB_CLIENT_CA_SUBJECT = 'CN=Harness Lab Client CA, O=mTLS Harness Lab';
export const LAB_SERVER_CA_SUBJECT = 'CN=Harness Lab Server CA, O=mTLS Harness Lab';

export interface LabPki {
  clientCa: Issuer;
  clientCaPem: string;
  serverCaPem: string;
  serverCertPem: string;
  serverKeyPem: string;
}

const FILES = {
  clientCa: 'client-ca.pem',
  clientCaKey: 'client-ca.key',
  serverCa: 'server-ca.pem',
  serverCert: 'server.pem',
  serverKey: 'server.key',
} as const;


async function importSigningKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']) as Promise<CryptoKey>;
}

async function tryLoad(dir: string): Promise<LabPki | null> {
  try {
    const read = (name: string) => readFile(join(dir, name), 'utf8');
    const [clientCaPem, clientCaKeyPem, serverCaPem, serverCertPem, serverKeyPem] = await Promise.all([
      read(FILES.clientCa), read(FILES.clientCaKey), read(FILES.serverCa), read(FILES.serverCert), read(FILES.serverKey),
    ]);
    const certificate = new x509.X509Certificate(clientCaPem);
    const server = new x509.X509Certificate(serverCertPem);
    // Renew everything once the server certificate gets close to its end rather than serve an expired lab.
    if (server.notAfter.getTime() - Date.now() < 7 * 86_400_000) return null;
    return { clientCa: { certificate, privateKey: await importSigningKey(clientCaKeyPem) }, clientCaPem, serverCaPem, serverCertPem, serverKeyPem };
  } catch {
    return null;
  }
}

async function create(dir: string): Promise<LabPki> {
  const clientCaKeys = await generateKeyPair('P-256', true);
  const clientCaCert = await selfSign(clientCaKeys, { subject: LAB_CLIENT_CA_SUBJECT, profile: 'root-ca', pathLength: 1 });
  const serverCaKeys = await generateKeyPair('P-256', true);
  const serverCaCert = await selfSign(serverCaKeys, { subject: LAB_SERVER_CA_SUBJECT, profile: 'root-ca', pathLength: 0 });
  const serverKeys = await generateKeyPair('P-256', true);
  const serverCert = await issue(serverKeys.publicKey, { certificate: serverCaCert, privateKey: serverCaKeys.privateKey }, {
    subject: 'CN=localhost, O=mTLS Harness Lab',
    profile: 'server',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
  });
  const pki: LabPki = {
    clientCa: { certificate: clientCaCert, privateKey: clientCaKeys.privateKey },
    clientCaPem: clientCaCert.toString('pem') + '\n',
    serverCaPem: serverCaCert.toString('pem') + '\n',
    serverCertPem: serverCert.toString('pem') + '\n',
    serverKeyPem: await exportPkcs8Pem(serverKeys.privateKey),
  };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const write = (name: string, text: string, secret = false) => writeFile(join(dir, name), text, { mode: secret ? 0o600 : 0o644 });
  await Promise.all([
    write(FILES.clientCa, pki.clientCaPem),
    write(FILES.clientCaKey, await exportPkcs8Pem(clientCaKeys.privateKey), true),
    write(FILES.serverCa, pki.serverCaPem),
    write(FILES.serverCert, pki.serverCertPem),
    write(FILES.serverKey, pki.serverKeyPem, true),
  ]);
  return pki;
}

export async function loadOrCreateLabPki(dir: string): Promise<LabPki> {
  return (await tryLoad(dir)) ?? create(dir);
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
