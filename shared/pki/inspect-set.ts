// The workshop's "inspect" view: several inputs (files, pastes) read together, every certificate
// inspected, the set analysed as a chain, and every key matched to its certificate. The CLI's
// `harness cert inspect` and the UI both render this one report.
import { analyzeChain, type ChainReport } from './chain.ts';
import { toBase64 } from './encoding.ts';
import { digest } from './fingerprint.ts';
import { inspectCertificates, validityProblems, type CertificateInfo, type InspectedCertificate } from './inspect.ts';
import { jwkOfSpki, KeyError, publicKeyOfPrivate, sameJwk, type KeyDescription } from './keys.ts';
import { problem, type Problem, type ProblemCode } from './problems.ts';
import { readInput, type FoundOther, type InputFormat, type KeyFormat } from './read.ts';

export interface InspectInput {
  name: string;
  data: string | Uint8Array;
}

interface InputSummary {
  name: string;
  format: InputFormat;
  certificates: number;
  keys: number;
  /** Everything in it could be read (no reading error). */
  readable: boolean;
}

interface KeySummary {
  where: string;
  format: KeyFormat;
  key: KeyDescription;
  /** base64 SHA-256 of the public key's SPKI (compare with a certificate's `spkiSha256`). */
  spkiSha256?: string;
  /** `where` of every certificate this key belongs to. */
  matches: string[];
}

export interface InspectionReport {
  inputs: InputSummary[];
  certificates: CertificateInfo[];
  keys: KeySummary[];
  others: FoundOther[];
  chain: ChainReport;
  problems: Problem[];
}

/** Problems that mean an input (or part of it) could not be read at all. */
const READING_PROBLEMS: ReadonlySet<ProblemCode> = new Set<ProblemCode>([
  'pem_malformed',
  'pem_mismatched_markers',
  'der_truncated',
  'der_malformed',
  'input_unrecognized',
  'p12_bad_password',
  'p12_password_required',
  'p12_unsupported',
  'p12_malformed',
  'key_encrypted',
  'key_bad_passphrase',
  'key_unsupported',
  'key_malformed',
  'cert_malformed',
]);

export async function inspectSet(inputs: readonly InspectInput[], options: { password?: string; now?: Date } = {}): Promise<InspectionReport> {
  const now = options.now ?? new Date();
  const report: InspectionReport = { inputs: [], certificates: [], keys: [], others: [], chain: { paths: [], anchors: [], distinct: 0, problems: [] }, problems: [] };
  const found: InspectedCertificate[] = [];
  const bundles = new Map<InspectedCertificate, string>();
  const keys = [];
  for (const input of inputs) {
    const read = await readInput(input.data, { name: input.name, ...(options.password !== undefined ? { password: options.password } : {}) });
    const inspected = await inspectCertificates(read.certificates, now);
    const problems = [...read.problems, ...inspected.problems];
    report.problems.push(...problems);
    report.inputs.push({
      name: input.name,
      format: read.format,
      certificates: inspected.certificates.length,
      keys: read.keys.length,
      readable: !problems.some((p) => READING_PROBLEMS.has(p.code)),
    });
    found.push(...inspected.certificates);
    for (const c of inspected.certificates) bundles.set(c, input.name);
    keys.push(...read.keys);
    report.others.push(...read.others);
  }
  report.certificates = found.map((c) => c.info);
  for (const c of found) report.problems.push(...validityProblems(c.info));
  if (found.length > 0) {
    report.chain = await analyzeChain(found, { bundleOf: (c) => bundles.get(c) ?? '' });
    report.problems.push(...report.chain.problems);
  }

  for (const k of keys) {
    const summary: KeySummary = { where: k.where, format: k.format, key: k.key, matches: [] };
    report.keys.push(summary);
    let derived;
    try {
      derived = await publicKeyOfPrivate(k.pkcs8, k.key);
    } catch (e) {
      if (e instanceof KeyError) {
        report.problems.push(problem(e.code, `private key: ${e.message}`, k.where));
        continue;
      }
      throw e;
    }
    summary.spkiSha256 = toBase64(await digest('SHA-256', derived.spki));
    for (const c of found) {
      if (c.info.key.kind !== k.key.kind) continue;
      try {
        if (sameJwk(derived.jwk, await jwkOfSpki(c.parsed.spki, c.info.key))) summary.matches.push(c.info.where);
      } catch {
        // not loadable, so not a match
      }
    }
    if (summary.matches.length === 0 && found.length > 0) {
      const example = found.find((c) => !c.info.isCa) ?? found[0]!;
      report.problems.push(problem('key_cert_mismatch', `the private key (${k.key.text}) belongs to none of the ${found.length} certificate(s) given (e.g. ${example.info.subject})`, k.where));
    }
  }
  return report;
}
