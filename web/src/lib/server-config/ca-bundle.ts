// Where a client-CA bundle comes from (the lab CA, the issuers of key-ring certificates, a
// paste) and what is in it: which certificates are CAs, how they chain, and the verify depth
// that accepts clients issued at the bottom of the longest chain.
import type { LabInfo } from '../../../../shared/protocol/index.ts';
import type { KeyRing } from '../keys/keyring.svelte.ts';
import { pemBlocks } from '../keys/pem.ts';
import { loadPki } from '../keys/pki.ts';
import { rfc4514FromDer } from '../../../../shared/pki/names.ts';

/** PEM texts one after the other, each ending in a newline so no two blocks share a line. */
function joinPem(...parts: string[]): string {
  return parts.filter((p) => p.trim()).map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join('');
}

export interface CaChoice {
  id: string;
  label: string;
  pem: string;
  /** Where it comes from, in a few words. */
  from: string;
}

/** CA bundles the user can pick without pasting: the lab's client CA, workshop CAs, key-ring issuers. */
export function caChoices(lab: LabInfo | null, keyring: KeyRing): CaChoice[] {
  const choices: CaChoice[] = [];
  if (lab) choices.push({ id: 'lab', label: `Lab client CA (${lab.caSubject})`, pem: lab.caCertificatePem, from: 'the relay\'s built-in lab' });
  for (const item of keyring.stored.items) {
    if ((item.kind !== 'root-ca' && item.kind !== 'intermediate-ca') || !item.certificatePem) continue;
    // An intermediate comes with the CAs above it, so the bundle verifies on its own.
    const role = item.kind === 'root-ca' ? 'root CA' : 'intermediate CA, with its chain';
    choices.push({ id: `workshop:${item.id}`, label: `${item.label} (${role}, workshop)`, pem: joinPem(item.certificatePem, item.chainPem, item.rootPem), from: 'certificate workshop' });
  }
  for (const credential of keyring.items) {
    if (!credential.certificate) continue;
    const issuers = joinPem(credential.chainPem, credential.caPem);
    if (issuers.trim()) {
      choices.push({ id: `issuer:${credential.id}`, label: `Issuers of ${credential.label} (${credential.issuedBy ?? credential.certificate.issuer})`, pem: issuers, from: 'key ring' });
    } else if (credential.certificate.selfSigned && credential.certificatePem) {
      choices.push({ id: `self:${credential.id}`, label: `${credential.label} itself (self-signed)`, pem: credential.certificatePem, from: 'key ring' });
    }
  }
  return choices;
}

interface BundleCertificate {
  subject: string;
  issuer: string;
  notAfter: Date;
  /** basicConstraints CA:TRUE; a bundle of client CAs should hold nothing else. */
  isCa: boolean;
  selfSigned: boolean;
  expired: boolean;
  /** CA certificates from this one up to the top of its chain within the bundle, itself included. */
  chainLength: number;
  /** The top of its chain in the bundle is not self-signed: its issuer is missing. */
  incomplete: boolean;
}

export interface BundleReport {
  certificates: BundleCertificate[];
  problems: string[];
  /** Depth (Apache's count) that accepts clients issued by the lowest CA of the longest chain. */
  suggestedDepth: number | null;
}

export async function describeBundle(text: string, now = new Date()): Promise<BundleReport> {
  const blocks = pemBlocks(text);
  const problems: string[] = [];
  const others = blocks.filter((b) => b.label !== 'CERTIFICATE');
  if (others.length) problems.push(`The bundle holds ${others.map((b) => b.label).join(', ')}: a CA bundle holds certificates only.`);
  const { x509 } = await loadPki();
  const parsed: Array<{ subject: string; issuer: string; notAfter: Date; isCa: boolean; selfSigned: boolean }> = [];
  for (const [i, block] of blocks.filter((b) => b.label === 'CERTIFICATE').entries()) {
    try {
      const cert = new x509.X509Certificate(block.text);
      const constraints = cert.getExtension(x509.BasicConstraintsExtension);
      // RFC 4514 order (CN first), as names are written everywhere in the harness.
      const subject = rfc4514FromDer(new Uint8Array(cert.subjectName.toArrayBuffer()));
      const issuer = rfc4514FromDer(new Uint8Array(cert.issuerName.toArrayBuffer()));
      parsed.push({ subject, issuer, notAfter: cert.notAfter, isCa: constraints?.ca === true, selfSigned: subject === issuer });
    } catch {
      problems.push(`Certificate ${i + 1} could not be parsed.`);
    }
  }
  const bySubject = new Map(parsed.map((c) => [c.subject, c]));
  const certificates = parsed.map((c): BundleCertificate => {
    let length = 1;
    let top = c;
    const seen = new Set([c.subject]);
    while (!top.selfSigned) {
      const up = bySubject.get(top.issuer);
      if (!up || seen.has(up.subject)) break;
      seen.add(up.subject);
      top = up;
      length += 1;
    }
    return { ...c, expired: c.notAfter.getTime() < now.getTime(), chainLength: length, incomplete: !top.selfSigned };
  });
  for (const c of certificates) {
    if (!c.isCa) problems.push(`${c.subject} is not a CA certificate (no basicConstraints CA:TRUE): servers will not accept clients it "issued".`);
    if (c.expired) problems.push(`${c.subject} expired on ${c.notAfter.toISOString().slice(0, 10)}: clients under it will be refused.`);
  }
  const cas = certificates.filter((c) => c.isCa);
  // A chain whose top is missing from the bundle has at least one more CA above it.
  const suggestedDepth = cas.length ? Math.max(...cas.map((c) => c.chainLength + (c.incomplete ? 1 : 0))) : null;
  return { certificates, problems, suggestedDepth };
}
