// The certificate a listener presents: the lab's localhost certificate when the lab runs (its
// CA is one partners may already trust from the lab), otherwise a self-signed P-256 one made
// when the listener starts. Either way the client is told which CA to trust.
import { exportPkcs8Pem, generateKeyPair, selfSign } from '../../shared/pki/issue.ts';
import type { LabPki } from '../lab/lab-pki.ts';

export interface ServerIdentity {
  certPem: string;
  keyPem: string;
  /** What the client must trust: the lab's server CA, or the self-signed certificate itself. */
  caPem: string;
  source: 'lab' | 'self-signed';
}

export const SELF_SIGNED_SUBJECT = 'CN=localhost, O=mTLS Harness inbound check';

export async function serverIdentity(lab: LabPki | null): Promise<ServerIdentity> {
  if (lab) return { certPem: lab.serverCertPem, keyPem: lab.serverKeyPem, caPem: lab.serverCaPem, source: 'lab' };
  const keys = await generateKeyPair('P-256', true);
  const cert = await selfSign(keys, { subject: SELF_SIGNED_SUBJECT, profile: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'] });
  const certPem = cert.toString('pem') + '\n';
  return { certPem, keyPem: await exportPkcs8Pem(keys.privateKey), caPem: certPem, source: 'self-signed' };
}
