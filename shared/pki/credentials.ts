// The pre-flight check of a client certificate and key before an mTLS probe: everything that can
// be known without contacting the server. Returns data only; bad input is a problem with a
// code, never an exception. No key material appears in the result.
import { analyzeChain, type ChainReport } from './chain.ts';
import { toBase64 } from './encoding.ts';
import { digest } from './fingerprint.ts';
import { inspectCertificates, validityProblems, type CertificateInfo, type InspectedCertificate } from './inspect.ts';
import { jwkOfSpki, KeyError, publicKeyOfPrivate, sameJwk, type KeyDescription } from './keys.ts';
import { OID } from './oids.ts';
import { problem, type Problem } from './problems.ts';
import { readInput, type FoundKey, type KeyFormat } from './read.ts';

interface ClientKeyInfo {
  where: string;
  format: KeyFormat;
  key: KeyDescription;
  /** base64 SHA-256 of the public half's SubjectPublicKeyInfo; equals the certificate's `spkiSha256` when they match. */
  spkiSha256?: string;
  /** Whether the key belongs to the leaf; null when that could not be decided. */
  matchesCertificate: boolean | null;
}

export interface ClientCredentialsReport {
  /** No error-severity problem: the harness can present these credentials. */
  ok: boolean;
  /** The certificate that the key belongs to (or the chain's leaf when none does). */
  leaf?: CertificateInfo;
  /** Every certificate of the certificate input, in the order given (the order they would be sent). */
  certificates: CertificateInfo[];
  chain?: ChainReport;
  key?: ClientKeyInfo;
  /** Errors and warnings. */
  problems: Problem[];
  /** Informational findings (e.g. no EKU at all, chain stops below the root): not problems. */
  notes: Problem[];
}

export interface ClientCredentialsOptions {
  /** Passphrase for an encrypted private key. */
  keyPassphrase?: string;
}

async function matchKey(found: FoundKey, certificates: InspectedCertificate[]): Promise<{ info: ClientKeyInfo; leaf?: InspectedCertificate; problem?: Problem }> {
  const info: ClientKeyInfo = { where: found.where, format: found.format, key: found.key, matchesCertificate: null };
  let derived;
  try {
    derived = await publicKeyOfPrivate(found.pkcs8, found.key);
  } catch (e) {
    if (e instanceof KeyError) return { info, problem: problem(e.code, `private key: ${e.message}`, found.where) };
    throw e;
  }
  info.spkiSha256 = toBase64(await digest('SHA-256', derived.spki));
  for (const c of certificates) {
    if (c.info.key.kind !== found.key.kind) continue;
    try {
      if (sameJwk(derived.jwk, await jwkOfSpki(c.parsed.spki, c.info.key))) {
        info.matchesCertificate = true;
        return { info, leaf: c };
      }
    } catch {
      // a certificate key this runtime cannot load cannot be the match either
    }
  }
  info.matchesCertificate = certificates.length ? false : null;
  return { info };
}

function usageProblems(leaf: CertificateInfo, notes: Problem[]): Problem[] {
  const out: Problem[] = [];
  const eku = leaf.extendedKeyUsage;
  if (!eku) {
    notes.push(problem('eku_absent', `${leaf.subject} has no Extended Key Usage, so it is usable for client authentication`, leaf.where));
  } else if (!eku.usages.includes('clientAuth') && !eku.usages.includes('anyExtendedKeyUsage')) {
    out.push(problem('eku_missing_client_auth', `${leaf.subject} is for ${eku.usages.join(', ') || 'no purpose'} only, not clientAuth (${OID.eku.clientAuth}); servers reject it as a client certificate`, leaf.where));
  }
  if (leaf.keyUsage && !leaf.keyUsage.usages.includes('digitalSignature')) {
    out.push(problem('key_usage_no_signature', `${leaf.subject} allows only ${leaf.keyUsage.usages.join(', ') || 'nothing'}; a TLS client must sign with it (digitalSignature)`, leaf.where));
  }
  return out;
}

/**
 * Checks a client certificate (optionally followed by its chain) and private key, both as text
 * (PEM, or JSON holding PEM). `now` freezes the clock for validity rules.
 */
export async function checkClientCredentials(certificatePem: string, privateKeyPem: string, now: Date = new Date(), options: ClientCredentialsOptions = {}): Promise<ClientCredentialsReport> {
  const all: Problem[] = [];
  const [certInput, keyInput] = await Promise.all([
    readInput(certificatePem, { name: 'certificate', expect: 'certificate' }),
    readInput(privateKeyPem, { name: 'private key', expect: 'key', ...(options.keyPassphrase !== undefined ? { password: options.keyPassphrase } : {}) }),
  ]);
  all.push(...certInput.problems, ...keyInput.problems);
  const { certificates, problems: parseProblems } = await inspectCertificates(certInput.certificates, now);
  all.push(...parseProblems);

  const report: ClientCredentialsReport = { ok: false, certificates: certificates.map((c) => c.info), problems: [], notes: [] };
  if (certificates.length === 0 && !all.some((p) => p.severity === 'error')) {
    all.push(problem('cert_missing', 'no certificate was given', 'certificate'));
  }
  const foundKey = keyInput.keys[0];
  if (!foundKey && !all.some((p) => p.where?.startsWith('private key') && p.severity === 'error')) {
    all.push(problem('key_missing', 'no private key was given', 'private key'));
  }

  let leaf: InspectedCertificate | undefined;
  if (certificates.length > 0) {
    report.chain = await analyzeChain(certificates);
    all.push(...report.chain.problems);
    const leafWhere = report.chain.paths.find((p) => p.members[0]?.role === 'leaf')?.members[0]?.where;
    leaf = certificates.find((c) => c.info.where === leafWhere) ?? certificates[0];
  }
  if (foundKey) {
    const matched = await matchKey(foundKey, certificates);
    report.key = matched.info;
    if (matched.problem) all.push(matched.problem);
    if (matched.leaf) leaf = matched.leaf;
    else if (leaf && matched.info.matchesCertificate === false) {
      all.push(
        problem(
          'key_cert_mismatch',
          `the private key (${foundKey.key.text}) is not the key of ${leaf.info.subject} (${leaf.info.key.text}, public key pin ${leaf.info.fingerprints.spkiSha256}; the key's is ${matched.info.spkiSha256})`,
          leaf.info.where,
        ),
      );
    }
  }
  if (leaf) {
    report.leaf = leaf.info;
    all.push(...usageProblems(leaf.info, report.notes));
    const seen = new Set<string>();
    for (const c of certificates) {
      if (seen.has(c.info.fingerprints.sha256)) continue;
      seen.add(c.info.fingerprints.sha256);
      all.push(...validityProblems(c.info));
    }
  }

  for (const p of all) (p.severity === 'info' ? report.notes : report.problems).push(p);
  report.ok = !report.problems.some((p) => p.severity === 'error');
  return report;
}
