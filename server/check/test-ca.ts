// A test CA hierarchy for the server check — a root and an intermediate, made here — for a
// partner who has none: they install its CA file and CRL on a staging server, then run the check.
import { randomBytes } from 'node:crypto';
import { exportPkcs8Pem, generateKeyPair, issue, selfSign } from '../../shared/pki/issue.ts';
import type { TestCaPems } from '../../shared/check/request.ts';

const DAY = 86_400_000;

/** Names carry a short id, so two test CAs (and their CRLs) can be told apart on a server. */
export async function makeTestCa(opts: { days?: number } = {}): Promise<TestCaPems> {
  const id = randomBytes(3).toString('hex');
  const now = Date.now();
  const notBefore = new Date(now - 5 * 60_000);
  const notAfter = new Date(now + (opts.days ?? 365) * DAY);
  const rootKeys = await generateKeyPair('P-256', true);
  const root = await selfSign(rootKeys, { subject: `CN=Harness Check Root ${id}, O=mTLS Harness Check`, profile: 'root-ca', notBefore, notAfter });
  const interKeys = await generateKeyPair('P-256', true);
  const inter = await issue(interKeys.publicKey, { certificate: root, privateKey: rootKeys.privateKey }, {
    subject: `CN=Harness Check Intermediate ${id}, O=mTLS Harness Check`,
    profile: 'intermediate-ca',
    notBefore,
    notAfter,
  });
  return {
    rootCertificatePem: `${root.toString('pem')}\n`,
    rootPrivateKeyPem: await exportPkcs8Pem(rootKeys.privateKey),
    intermediateCertificatePem: `${inter.toString('pem')}\n`,
    intermediatePrivateKeyPem: await exportPkcs8Pem(interKeys.privateKey),
  };
}
