// Rotation check: would a server that trusts this CA bundle accept each of these client
// certificates, from when, until when? Partners rotate yearly to an "upcoming" certificate,
// often from a new intermediate or a new root; the failure to prevent is the day the current
// certificate expires and the server does not yet trust its successor.
import { analyzeChain, buildPath, type ChainMember } from './chain.ts';
import { PKI_DEFAULTS } from './defaults.ts';
import { inspectCertificates, validityProblems, type InspectedCertificate } from './inspect.ts';
import { problem, type Problem } from './problems.ts';
import { readInput } from './read.ts';

export type RotationRole = 'current' | 'upcoming';

export interface RotationCandidate {
  /** Shown in the report; defaults to `current 1`, `upcoming 1`, … */
  label?: string;
  role: RotationRole;
  /** The client certificate, optionally followed by the intermediates the client sends. */
  pem: string;
}

export interface RotationEntry {
  label: string;
  role: RotationRole;
  subject?: string;
  /** The chain reaches a self-signed CA in the bundle, every signature verifying. */
  trusted: boolean;
  /** Trusted, and every certificate on the chain is valid at `now`. */
  acceptedNow: boolean;
  /** ISO 8601: the latest notBefore on the chain (accepted from then, if trusted). */
  acceptedFrom?: string;
  /** ISO 8601: the earliest notAfter on the chain: when the server stops accepting it. */
  acceptedUntil?: string;
  /** Whole days from `now` to acceptedUntil. */
  daysLeft?: number;
  /** The chain as the server would build it, leaf first. */
  chain: ChainMember[];
  /** The trusted CA the chain ends at. */
  anchor?: string;
  problems: Problem[];
}

export interface RotationReport {
  /** Subjects of the self-signed CAs in the bundle. */
  anchors: string[];
  entries: RotationEntry[];
  /** Bundle-level problems (reading it, rotation_no_upcoming). */
  problems: Problem[];
}

const DAY = 86_400_000; // ms

async function judge(label: string, role: RotationRole, pem: string, trust: InspectedCertificate[], now: Date): Promise<RotationEntry> {
  const entry: RotationEntry = { label, role, trusted: false, acceptedNow: false, chain: [], problems: [] };
  const input = await readInput(pem, { name: label, expect: 'certificate' });
  const { certificates, problems } = await inspectCertificates(input.certificates, now);
  entry.problems.push(...input.problems, ...problems);
  if (certificates.length === 0) {
    if (entry.problems.length === 0) entry.problems.push(problem('cert_missing', 'no certificate was given', label));
    return entry;
  }
  const report = await analyzeChain(certificates);
  const leafWhere = report.paths.find((p) => p.members[0]?.role === 'leaf')?.members[0]?.where;
  const leaf = certificates.find((c) => c.info.where === leafWhere) ?? certificates[0]!;
  entry.subject = leaf.info.subject;

  const trusted = new Set(trust.map((t) => t.info.fingerprints.sha256));
  const built = await buildPath(leaf, [...trust, ...certificates]);
  entry.chain = built.path.members;
  for (const { child, impostor } of built.impostors) {
    entry.problems.push(problem('chain_signature_invalid', `${child.info.subject} names ${impostor.info.subject} as its issuer, but that certificate's key did not sign it`, impostor.info.where));
  }
  const top = built.certificates.at(-1)!;
  const anchorIndex = built.certificates.findIndex((c) => trusted.has(c.info.fingerprints.sha256) && c.info.selfSigned);
  if (anchorIndex >= 0) {
    entry.trusted = built.path.members.every((m) => m.signature !== 'invalid');
    entry.anchor = built.certificates[anchorIndex]!.info.subject;
  } else if (trusted.has(top.info.fingerprints.sha256)) {
    entry.problems.push(problem('trust_anchor_missing_root', `the chain reaches ${top.info.subject} in the CA bundle, but not its root ${top.info.issuer}`, label));
  } else {
    const via = built.certificates.length > 1 ? ` (chain: ${built.certificates.map((c) => c.info.subject).join(' → ')})` : '';
    const rekeyed = built.impostors.some((i) => i.child === top);
    const reason = top.info.selfSigned
      ? `ends at ${top.info.subject}, which is not in the CA bundle`
      : rekeyed
        ? `needs ${top.info.issuer}; the CA bundle has a certificate with that name but a different key (a re-keyed CA, or another CA with the same name)`
        : `needs ${top.info.issuer}, which is neither sent by the client nor in the CA bundle`;
    entry.problems.push(problem('chain_untrusted', `${leaf.info.subject} ${reason}${via}`, label));
  }

  const notBefore = Math.max(...built.certificates.map((c) => Date.parse(c.info.notBefore)));
  const notAfter = Math.min(...built.certificates.map((c) => Date.parse(c.info.notAfter)));
  entry.acceptedFrom = new Date(notBefore).toISOString();
  entry.acceptedUntil = new Date(notAfter).toISOString();
  entry.daysLeft = Math.floor((notAfter - now.getTime()) / DAY);
  entry.acceptedNow = entry.trusted && built.certificates.every((c) => c.info.validity.status === 'valid');
  for (const c of built.certificates) {
    // A successor that is not valid yet is the normal state of an upcoming certificate.
    entry.problems.push(...validityProblems(c.info).filter((p) => !(role === 'upcoming' && p.code === 'cert_not_yet_valid')));
  }
  return entry;
}

/** JSON names that say which side of a rotation an entry is. */
const UPCOMING_NAME = /upcoming|next|new|future|successor|rotat/i;
const CURRENT_NAME = /current|active|old|previous|existing/i;

/**
 * A candidate holding several client certificates (a whole JSON bundle pasted at once, or a
 * PEM file with current and upcoming): one candidate per leaf, each with every CA certificate
 * of the input as the intermediates it may send, labelled with where it was found (and its
 * JSON name). Its role comes from that name, else from its dates: not valid yet is upcoming.
 */
async function splitCandidate(c: RotationCandidate, label: string, now: Date): Promise<RotationCandidate[]> {
  const input = await readInput(c.pem, { name: label, expect: 'certificate' });
  const { certificates } = await inspectCertificates(input.certificates, now);
  const leaves = certificates.filter((x) => !x.info.isCa && !x.info.selfSigned);
  if (leaves.length < 2) return [{ ...c, label }];
  const cas = certificates.filter((x) => !leaves.includes(x)).map((x) => x.info.pem).join('');
  return leaves.map((leaf) => {
    const where = leaf.info.where.startsWith(`${label}, `) ? leaf.info.where.slice(label.length + 2) : leaf.info.where;
    const role: RotationRole = UPCOMING_NAME.test(where) ? 'upcoming' : CURRENT_NAME.test(where) ? 'current' : leaf.info.validity.status === 'not_yet_valid' ? 'upcoming' : c.role;
    return { role, pem: leaf.info.pem + cas, label: `${label} · ${where}` };
  });
}

/**
 * Judges each client certificate against the CA bundle a server trusts (`trustedCaPem`: PEM
 * text, several certificates), at `now`.
 */
export async function checkRotation(trustedCaPem: string, clients: readonly RotationCandidate[], now: Date = new Date()): Promise<RotationReport> {
  const bundle = await readInput(trustedCaPem, { name: 'CA bundle', expect: 'certificate' });
  const { certificates: trust, problems } = await inspectCertificates(bundle.certificates, now);
  const report: RotationReport = { anchors: trust.filter((t) => t.info.selfSigned).map((t) => t.info.subject), entries: [], problems: [...bundle.problems, ...problems] };
  const counts: Record<RotationRole, number> = { current: 0, upcoming: 0 };
  for (const c of clients) {
    const label = c.label ?? `${c.role} ${++counts[c.role]}`;
    for (const one of await splitCandidate(c, label, now)) report.entries.push(await judge(one.label!, one.role, one.pem, trust, now));
  }

  const upcoming = report.entries.filter((e) => e.role === 'upcoming');
  for (const current of report.entries.filter((e) => e.role === 'current')) {
    if (current.daysLeft === undefined || current.daysLeft >= PKI_DEFAULTS.expiryWarningDays) continue;
    const successor = upcoming.find((u) => u.trusted && (u.acceptedUntil ?? '') > (current.acceptedUntil ?? ''));
    if (successor) continue;
    const when = current.daysLeft < 0 ? `stopped being accepted on ${current.acceptedUntil!.slice(0, 10)}` : `stops being accepted on ${current.acceptedUntil!.slice(0, 10)} (in ${current.daysLeft} days)`;
    const why = upcoming.length === 0 ? 'no upcoming certificate was given' : `none of the ${upcoming.length} upcoming certificate(s) is trusted by this CA bundle`;
    report.problems.push(problem('rotation_no_upcoming', `${current.subject ?? current.label} ${when} and ${why}`, current.label));
  }
  return report;
}
