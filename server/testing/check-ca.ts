// A test CA hierarchy for the server check (root → intermediate, P-256), as the user would
// make it in the workshop, and the install kit written to a temp dir for real servers to read.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportPkcs8Pem, generateKeyPair, issue, selfSign } from '../../shared/pki/issue.ts';
import type { TestCaPems } from '../../shared/check/request.ts';
import type { InstallKit } from '../check/prepare.ts';
import tls from 'node:tls';
import { mintLeaf } from '../check/mint.ts';

export async function makeCheckCa(name = 'Check Test'): Promise<TestCaPems> {
  const rootKeys = await generateKeyPair('P-256', true);
  const root = await selfSign(rootKeys, { subject: `CN=${name} Root, O=Harness Tests`, profile: 'root-ca' });
  const interKeys = await generateKeyPair('P-256', true);
  const inter = await issue(interKeys.publicKey, { certificate: root, privateKey: rootKeys.privateKey }, { subject: `CN=${name} Intermediate, O=Harness Tests`, profile: 'intermediate-ca' });
  return {
    rootCertificatePem: root.toString('pem') + '\n',
    rootPrivateKeyPem: await exportPkcs8Pem(rootKeys.privateKey),
    intermediateCertificatePem: inter.toString('pem') + '\n',
    intermediatePrivateKeyPem: await exportPkcs8Pem(interKeys.privateKey),
  };
}

/** Writes the kit's files to a new temp dir; returns the dir and each file's path by name. */
export async function writeKit(kit: InstallKit): Promise<{ dir: string; paths: Record<string, string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'harness-check-'));
  const paths: Record<string, string> = {};
  for (const f of kit.files) {
    paths[f.name] = join(dir, f.name);
    await writeFile(paths[f.name]!, f.pem);
  }
  return { dir, paths };
}

/**
 * Whether this process's OpenSSL will send a certificate with a 1024-bit RSA key at its default
 * security level: Node 20 (OpenSSL 3.0, level 1) does, Node 24 (OpenSSL 3.5, level 2) does not,
 * and then the check's weak_key case is inconclusive, with that reason, instead of run. Asked
 * the way the check asks (server/check/run-check.ts): a context with that certificate and key.
 */
export async function clientSendsRsa1024(): Promise<boolean> {
  const weak = await mintLeaf('self', { subject: [{ CN: ['weak'] }], key: 'RSA-1024' });
  try {
    tls.createSecureContext({ cert: weak.certificatePem, key: weak.privateKeyPem });
    return true;
  } catch {
    return false;
  }
}
