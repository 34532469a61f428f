// Chains: order a set of certificates leaf → intermediates → root, verifying each signature on
// the way, and say what is wrong with the set as a bundle (missing intermediate, leaf alone,
// wrong order, duplicates, strays). Issuers are matched as OpenSSL does: subject name equal to
// the issuer name, the Authority Key Identifier preferring the matching Subject Key Identifier,
// and the signature deciding.
import { PKI_DEFAULTS } from './defaults.ts';
import type { InspectedCertificate } from './inspect.ts';
import { problem, type Problem } from './problems.ts';

type Signature = 'valid' | 'invalid' | 'unknown';
type ChainRole = 'leaf' | 'intermediate' | 'root';

export interface ChainMember {
  where: string;
  subject: string;
  issuer: string;
  role: ChainRole;
  /** How the next member up verified this one's signature; `self` for a self-signed root, absent at an open top. */
  signature?: Signature | 'self';
}

interface ChainPath {
  /** Leaf (or lowest CA) first. */
  members: ChainMember[];
  /** Ends in a self-signed certificate (a trust anchor). */
  complete: boolean;
  /** Subject of the self-signed top, when complete. */
  anchor?: string;
  /** When not complete: the subject of the certificate that would come next (the top's issuer DN). */
  missingIssuer?: string;
  /** The top's AIA caIssuers URLs, where the missing issuer can usually be downloaded. */
  missingIssuerUrls?: string[];
}

export interface ChainReport {
  paths: ChainPath[];
  /** Subjects of the self-signed certificates in the set. */
  anchors: string[];
  /** Distinct certificates (duplicates counted once). */
  distinct: number;
  problems: Problem[];
}

const verified = new WeakMap<InspectedCertificate, Map<InspectedCertificate, Promise<boolean | 'unknown'>>>();

function signedBy(child: InspectedCertificate, issuer: InspectedCertificate): Promise<boolean | 'unknown'> {
  let byIssuer = verified.get(child);
  if (!byIssuer) verified.set(child, (byIssuer = new Map()));
  let result = byIssuer.get(issuer);
  if (!result) byIssuer.set(issuer, (result = child.signedBy(issuer)));
  return result;
}

interface IssuerLookup {
  issuer?: InspectedCertificate;
  signature?: Signature;
  /** A certificate with the right subject whose key did not sign the child. */
  impostor?: InspectedCertificate;
}

/** Finds the issuer of `child` among `pool`. */
export async function findIssuer(child: InspectedCertificate, pool: readonly InspectedCertificate[]): Promise<IssuerLookup> {
  if (child.info.selfSigned) return {};
  const aki = child.info.authorityKeyId;
  const candidates = pool
    .filter((c) => c !== child && c.subjectKey === child.issuerKey && c.info.fingerprints.sha256 !== child.info.fingerprints.sha256)
    .sort((a, b) => Number(b.info.subjectKeyId === aki) - Number(a.info.subjectKeyId === aki));
  let unknown: InspectedCertificate | undefined;
  let impostor: InspectedCertificate | undefined;
  for (const candidate of candidates) {
    const result = await signedBy(child, candidate);
    if (result === true) return { issuer: candidate, signature: 'valid' };
    if (result === 'unknown') unknown ??= candidate;
    else impostor ??= candidate;
  }
  if (unknown) return { issuer: unknown, signature: 'unknown' };
  return impostor ? { impostor } : {};
}

function roleOf(c: InspectedCertificate): ChainRole {
  return c.info.selfSigned ? 'root' : c.info.isCa ? 'intermediate' : 'leaf';
}

interface BuiltPath {
  certificates: InspectedCertificate[];
  path: ChainPath;
  /** Pairs where the named issuer is present but did not sign. */
  impostors: { child: InspectedCertificate; impostor: InspectedCertificate }[];
}

/** Follows issuers from `start` through `pool` as far as they go. */
export async function buildPath(start: InspectedCertificate, pool: readonly InspectedCertificate[]): Promise<BuiltPath> {
  const certificates = [start];
  const members: ChainMember[] = [];
  const impostors: BuiltPath['impostors'] = [];
  let current = start;
  for (;;) {
    const member: ChainMember = { where: current.info.where, subject: current.info.subject, issuer: current.info.issuer, role: roleOf(current) };
    members.push(member);
    if (current.info.selfSigned) {
      member.signature = 'self';
      break;
    }
    const found = await findIssuer(current, pool);
    if (found.impostor) impostors.push({ child: current, impostor: found.impostor });
    if (!found.issuer || certificates.includes(found.issuer) || certificates.length >= PKI_DEFAULTS.maxChainLength) break;
    member.signature = found.signature!;
    certificates.push(found.issuer);
    current = found.issuer;
  }
  const top = certificates.at(-1)!;
  const path: ChainPath = { members, complete: top.info.selfSigned };
  if (top.info.selfSigned) path.anchor = top.info.subject;
  else {
    path.missingIssuer = top.info.issuer;
    if (top.info.caIssuers.length) path.missingIssuerUrls = top.info.caIssuers;
  }
  return { certificates, path, impostors };
}

function list(certs: readonly InspectedCertificate[]): string {
  return certs.map((c) => c.info.subject).join(' → ');
}

interface AnalyzeOptions {
  /**
   * Names the bundle each certificate came from; order is judged only within one bundle (two
   * files given side by side have no order). Default: all one bundle.
   */
  bundleOf?: (certificate: InspectedCertificate) => string;
}

/**
 * Analyses a set of certificates as a bundle, in the order given (the order matters: a TLS peer
 * sends its own certificate first, then each issuer).
 */
export async function analyzeChain(certificates: readonly InspectedCertificate[], options: AnalyzeOptions = {}): Promise<ChainReport> {
  const bundleOf = options.bundleOf ?? (() => '');
  const problems: Problem[] = [];
  const unique: InspectedCertificate[] = [];
  const firstSeen = new Map<string, InspectedCertificate>();
  for (const c of certificates) {
    const first = firstSeen.get(c.info.fingerprints.sha256);
    if (first) {
      // The same CA in two files given side by side is normal; twice in one bundle is not.
      if (bundleOf(first) === bundleOf(c)) problems.push(problem('chain_duplicate', `${c.info.subject} appears again; the first copy is at ${first.info.where}`, c.info.where));
      continue;
    }
    firstSeen.set(c.info.fingerprints.sha256, c);
    unique.push(c);
  }

  const issuers = new Map<InspectedCertificate, InspectedCertificate>();
  for (const c of unique) {
    const found = await findIssuer(c, unique);
    if (found.issuer) issuers.set(c, found.issuer);
  }
  const isIssuer = new Set(issuers.values());
  const ends = unique.filter((c) => !isIssuer.has(c));
  const built = await Promise.all(ends.map((e) => buildPath(e, unique)));

  const leaves = built.filter((b) => roleOf(b.certificates[0]!) === 'leaf');
  const onLeafPaths = new Set(leaves.flatMap((b) => b.certificates));
  // With exactly one leaf the set is meant as that leaf's chain; anything else is a stray.
  const strays = leaves.length === 1 ? unique.filter((c) => !onLeafPaths.has(c)) : [];

  const reported = new Set<InspectedCertificate>();
  for (const b of built) {
    for (const { child, impostor } of b.impostors) {
      if (reported.has(child)) continue;
      reported.add(child);
      problems.push(problem('chain_signature_invalid', `${child.info.subject} names ${impostor.info.subject} as its issuer, but that certificate's key (at ${impostor.info.where}) did not sign it`, child.info.where));
    }
  }

  for (const b of leaves) {
    const [leaf] = b.certificates;
    const top = b.certificates.at(-1)!;
    const hint = b.path.missingIssuerUrls ? ` (its AIA caIssuers URL: ${b.path.missingIssuerUrls.join(', ')})` : '';
    // A stray CA whose own chain does not stop at the same missing issuer sits above a gap
    // (leaf + root without the intermediate); one that stops at the same issuer is a sibling.
    const gapBelow = built.some(
      (other) => other !== b && other.certificates.some((c) => strays.includes(c)) && (other.path.complete || other.certificates.at(-1)!.issuerKey !== top.issuerKey),
    );
    if (!b.path.complete) {
      if (gapBelow || b.impostors.length > 0) {
        problems.push(problem('chain_missing_intermediate', `no certificate in the set issued ${top.info.subject}: add the intermediate ${top.info.issuer}${hint}`, top.info.where));
      } else if (b.certificates.length === 1) {
        problems.push(problem('chain_leaf_only', `only the leaf ${leaf!.info.subject} is here; its issuer ${top.info.issuer} must be sent with it or already be held by the server${hint}`, leaf!.info.where));
      } else {
        problems.push(problem('chain_root_not_included', `the chain ends at ${top.info.subject}; its issuer ${top.info.issuer} must be in the verifier's trust store`, top.info.where));
      }
    }
    for (const bundle of new Set(b.certificates.map(bundleOf))) {
      const members = b.certificates.filter((c) => bundleOf(c) === bundle);
      const positions = members.map((c) => unique.indexOf(c));
      if (positions.some((p, i) => i > 0 && p < positions[i - 1]!)) {
        const given = [...members].sort((x, y) => unique.indexOf(x) - unique.indexOf(y));
        problems.push(problem('chain_wrong_order', `given as ${list(given)}; the order must be ${list(members)}`, given[0]!.info.where));
      }
    }
  }
  const impostors = new Set(built.flatMap((b) => b.impostors.map((i) => i.impostor)));
  for (const s of strays) {
    if (impostors.has(s)) continue; // already reported as chain_signature_invalid
    problems.push(problem('chain_unrelated', `${s.info.subject} is not in the chain of ${leaves[0]!.certificates[0]!.info.subject}`, s.info.where));
  }

  return {
    paths: built.map((b) => b.path),
    anchors: unique.filter((c) => c.info.selfSigned).map((c) => c.info.subject),
    distinct: unique.length,
    problems,
  };
}
