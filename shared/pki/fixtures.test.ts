// Test fixtures for shared/pki, made at run time: a PKI built by the real openssl CLI (the oracle)
// and one built by issue.ts. Named *.test.ts so the shared tsconfig (no Node types) and the purity
// check leave it alone; it declares no tests itself.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportPkcs8Pem, generateKeyPair, issue, selfSign, type IssueOptions, type KeyAlgorithmName } from './issue.ts';

export const OPENSSL = '/usr/bin/openssl';

const dirs: string[] = [];
process.on('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pki-test-'));
  dirs.push(dir);
  return dir;
}

/** Runs openssl in `cwd`; returns stdout. Throws with stderr on failure. */
export function openssl(cwd: string, args: string[], input?: string): string {
  return execFileSync(OPENSSL, args, { cwd, encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

export function opensslBytes(cwd: string, args: string[]): Uint8Array {
  return new Uint8Array(execFileSync(OPENSSL, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] }));
}

export interface OpensslPki {
  dir: string;
  /** File name → contents (PEM text). */
  read(name: string): string;
  readBytes(name: string): Uint8Array;
  path(name: string): string;
}

let cached: OpensslPki | undefined;

/**
 * root (RSA 2048) → intermediate (EC P-384, pathlen 0) → leaves:
 *  - client.pem / client.key: EC P-256, clientAuth, SANs, CRL DP, AIA, key in PKCS#8
 *  - server.pem / server.key: RSA 2048, serverAuth only, key also as PKCS#1 (server-rsa.key)
 *  - ed.pem / ed.key: Ed25519, no EKU
 * plus key variants (SEC1, encrypted PKCS#8 v2 and v1, legacy-encrypted PEM), DER, PKCS#12
 * (OpenSSL 3 default and -legacy) and PKCS#7.
 */
export function opensslPki(): OpensslPki {
  if (cached) return cached;
  const dir = tempDir();
  const run = (...args: string[]): string => openssl(dir, args);
  writeFileSync(
    join(dir, 'ext.cnf'),
    [
      '[req]',
      'distinguished_name = dn',
      '[dn]',
      '[ca]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '[int]',
      'basicConstraints = critical, CA:TRUE, pathlen:0',
      'keyUsage = critical, keyCertSign, cRLSign, digitalSignature',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid:always',
      'crlDistributionPoints = URI:http://crl.example.test/root.crl',
      '[client]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = clientAuth',
      'subjectAltName = DNS:client.example.test, DNS:alt.example.test, IP:192.0.2.7, email:ops@example.test, URI:spiffe://example.test/client',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid:always',
      'crlDistributionPoints = URI:http://crl.example.test/int.crl',
      'authorityInfoAccess = OCSP;URI:http://ocsp.example.test, caIssuers;URI:http://ca.example.test/int.cer',
      'certificatePolicies = 2.23.140.1.2.1',
      '[server]',
      'basicConstraints = CA:FALSE',
      'keyUsage = critical, digitalSignature, keyEncipherment',
      'extendedKeyUsage = serverAuth',
      'subjectAltName = DNS:server.example.test, IP:127.0.0.1, IP:::1',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid:always',
      '[ed]',
      'basicConstraints = CA:FALSE',
      'keyUsage = critical, digitalSignature',
      '',
    ].join('\n'),
  );
  run('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'root.key');
  run('req', '-x509', '-new', '-key', 'root.key', '-subj', '/C=US/O=Example Trust/CN=Example Root CA', '-days', '3650', '-sha256', '-config', 'ext.cnf', '-extensions', 'ca', '-out', 'root.pem');

  run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', 'int.key');
  run('req', '-new', '-key', 'int.key', '-subj', '/C=US/O=Example Trust/CN=Example Issuing CA 1', '-config', 'ext.cnf', '-out', 'int.csr');
  run('x509', '-req', '-in', 'int.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-set_serial', '4096', '-days', '1825', '-sha256', '-extfile', 'ext.cnf', '-extensions', 'int', '-out', 'int.pem');

  run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'client.key');
  run('req', '-new', '-key', 'client.key', '-subj', '/C=DE/L=Berlin/O=Acme, Inc./OU=Integrations/CN=client.example.test', '-config', 'ext.cnf', '-out', 'client.csr');
  run('x509', '-req', '-in', 'client.csr', '-CA', 'int.pem', '-CAkey', 'int.key', '-days', '365', '-sha384', '-extfile', 'ext.cnf', '-extensions', 'client', '-out', 'client.pem');

  run('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'server.key');
  run('req', '-new', '-key', 'server.key', '-subj', '/O=Acme/CN=server.example.test', '-config', 'ext.cnf', '-out', 'server.csr');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'int.pem', '-CAkey', 'int.key', '-days', '30', '-sha256', '-extfile', 'ext.cnf', '-extensions', 'server', '-out', 'server.pem');

  run('genpkey', '-algorithm', 'ED25519', '-out', 'ed.key');
  run('req', '-new', '-key', 'ed.key', '-subj', '/CN=ed25519.example.test', '-config', 'ext.cnf', '-out', 'ed.csr');
  run('x509', '-req', '-in', 'ed.csr', '-CA', 'int.pem', '-CAkey', 'int.key', '-days', '200', '-extfile', 'ext.cnf', '-extensions', 'ed', '-out', 'ed.pem');

  // Key forms.
  run('pkey', '-in', 'server.key', '-traditional', '-out', 'server-rsa.key');
  run('pkey', '-in', 'client.key', '-traditional', '-out', 'client-sec1.key');
  run('pkcs8', '-topk8', '-in', 'client.key', '-v2', 'aes-256-cbc', '-passout', 'pass:key secret', '-out', 'client-enc.key');
  run('pkcs8', '-topk8', '-in', 'server.key', '-v1', 'PBE-SHA1-3DES', '-passout', 'pass:key secret', '-out', 'server-enc-v1.key');
  run('pkey', '-in', 'server.key', '-traditional', '-aes128', '-passout', 'pass:key secret', '-out', 'server-legacy-enc.key');
  run('x509', '-in', 'client.pem', '-outform', 'DER', '-out', 'client.der');
  run('pkcs8', '-topk8', '-nocrypt', '-in', 'client.key', '-outform', 'DER', '-out', 'client-key.der');
  run('pkey', '-in', 'client.key', '-outform', 'DER', '-out', 'client-sec1.der');

  // Bundles.
  writeFileSync(join(dir, 'chain.pem'), readFileSync(join(dir, 'client.pem'), 'utf8') + readFileSync(join(dir, 'int.pem'), 'utf8'));
  run('pkcs12', '-export', '-in', 'client.pem', '-inkey', 'client.key', '-certfile', 'int.pem', '-name', 'client', '-passout', 'pass:p12 secret', '-out', 'client.p12');
  run('pkcs12', '-export', '-legacy', '-in', 'client.pem', '-inkey', 'client.key', '-certfile', 'int.pem', '-name', 'client', '-passout', 'pass:p12 secret', '-out', 'client-legacy.p12');
  run('crl2pkcs7', '-nocrl', '-certfile', 'chain.pem', '-out', 'chain.p7b');

  cached = {
    dir,
    read: (name) => readFileSync(join(dir, name), 'utf8'),
    readBytes: (name) => new Uint8Array(readFileSync(join(dir, name))),
    path: (name) => join(dir, name),
  };
  return cached;
}

export interface IssuedPki {
  root: { pem: string; keyPem: string };
  intermediate: { pem: string; keyPem: string };
  client: { pem: string; keyPem: string };
  issueWith(issuer: 'root' | 'intermediate', options: Partial<IssueOptions> & { subject: string }, algorithm?: KeyAlgorithmName): Promise<{ pem: string; keyPem: string }>;
}

/** A root → intermediate → client PKI made by issue.ts (WebCrypto, P-256: milliseconds); `caName` names its CAs. */
export async function issuedPki(validFrom = new Date(Date.now() - 60_000), caName = 'Harness Test'): Promise<IssuedPki> {
  const rootKeys = await generateKeyPair('P-256', true);
  const root = await selfSign(rootKeys, { subject: `CN=${caName} Root, O=Harness`, profile: 'root-ca', notBefore: validFrom });
  const intKeys = await generateKeyPair('P-256', true);
  const intermediate = await issue(intKeys.publicKey, { certificate: root, privateKey: rootKeys.privateKey }, { subject: `CN=${caName} Intermediate, O=Harness`, profile: 'intermediate-ca', pathLength: 0, notBefore: validFrom });
  const issuers = { root: { certificate: root, privateKey: rootKeys.privateKey }, intermediate: { certificate: intermediate, privateKey: intKeys.privateKey } };
  const issueWith: IssuedPki['issueWith'] = async (issuer, options, algorithm = 'P-256') => {
    const keys = await generateKeyPair(algorithm, true);
    const cert = await issue(keys.publicKey, issuers[issuer], { profile: 'client', notBefore: validFrom, ...options });
    return { pem: cert.toString('pem') + '\n', keyPem: await exportPkcs8Pem(keys.privateKey) };
  };
  return {
    root: { pem: root.toString('pem') + '\n', keyPem: await exportPkcs8Pem(rootKeys.privateKey) },
    intermediate: { pem: intermediate.toString('pem') + '\n', keyPem: await exportPkcs8Pem(intKeys.privateKey) },
    client: await issueWith('intermediate', { subject: 'CN=harness-client, O=Harness' }),
    issueWith,
  };
}
