// The probe's first step: is what the user gave us usable, before any packet is sent?
// URL, certificate chain, key, key ↔ certificate match, validity and clientAuth EKU.
import { X509Certificate, createHash } from 'node:crypto';
import type { ClientCredentials, ProbeInputsDetails } from '../../shared/protocol/index.ts';
import { checkClientCredentials, type ClientCredentialsReport } from '../../shared/pki/credentials.ts';
import type { KeyDescription } from '../../shared/pki/keys.ts';
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

const parsedChains = new Map<string, X509Certificate[]>();

/** The PEM's certificates, parsed once per distinct text (repeated probes send the same chain). */
function parseCertificates(pem: string): X509Certificate[] {
  const hit = parsedChains.get(pem);
  if (hit) return hit;
  const chain = (pem.match(PEM_CERT) ?? []).map((block) => new X509Certificate(block));
  parsedChains.set(pem, chain);
  if (parsedChains.size > 64) parsedChains.delete(parsedChains.keys().next().value!);
  return chain;
}

interface InputProblem {
  /** `url_invalid`, `ca_unreadable`, or a problem code of the certificate engine (shared/pki/problems.ts). */
  code: string;
  /** True when the run cannot go on (the TLS stack would refuse the input). */
  fatal: boolean;
  message: string;
}

interface CheckedInputs {
  url: URL | null;
  chain: X509Certificate[];
  /** The private key PEM to hand to TLS, once the engine has checked it. */
  key: string | null;
  problems: InputProblem[];
  /** The inputs step's evidence about the client certificate (the caller adds `problems`). */
  details: Omit<ProbeInputsDetails, 'problems'>;
}

export function checkUrl(raw: string): { url: URL } | { problem: InputProblem } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: { code: 'url_invalid', fatal: true, message: `"${raw.slice(0, 200)}" is not a URL (expected https://host[:port]/path)` } };
  }
  if (url.protocol !== 'https:') {
    return { problem: { code: 'url_invalid', fatal: true, message: `the probe speaks TLS: use an https:// URL, not ${url.protocol}//` } };
  }
  if (url.username || url.password) {
    return { problem: { code: 'url_invalid', fatal: true, message: 'the URL must not contain a user name or password' } };
  }
  return { url };
}

/** `RSA-2048`, `P-256`, `Ed25519`: the names the key ring uses. */
function shortKeyName(key: KeyDescription): string {
  if (key.kind === 'RSA' || key.kind === 'RSA-PSS') return `RSA-${key.bits}`;
  return key.curve ?? key.text;
}

/** How long a credentials report is reused for the same certificate and key. */
const REPORT_TTL_MS = 60_000;
const REPORT_CACHE_SIZE = 64;
const reports = new Map<string, { at: number; report: Promise<ClientCredentialsReport> }>();

/**
 * Partners re-run the same probe many times, often several at once; the full engine check
 * (chain, signatures, key match) costs milliseconds. Concurrent and repeated runs share one
 * check. Reports hold no key material; the cache key is a hash.
 */
function cachedCheck(client: ClientCredentials, now: Date): Promise<ClientCredentialsReport> {
  const id = createHash('sha256').update(client.certificatePem).update('\0').update(client.privateKeyPem).digest('base64');
  const hit = reports.get(id);
  if (hit && now.getTime() - hit.at < REPORT_TTL_MS && now.getTime() >= hit.at) return hit.report;
  const report = checkClientCredentials(client.certificatePem, client.privateKeyPem, now);
  reports.delete(id);
  reports.set(id, { at: now.getTime(), report });
  report.catch(() => reports.delete(id));
  if (reports.size > REPORT_CACHE_SIZE) reports.delete(reports.keys().next().value!);
  return report;
}

/**
 * Problems the server should judge, not the harness: a probe with an expired or serverAuth-only
 * certificate still runs, so a partner (or a trainer) sees how the server rejects it.
 */
const SERVER_JUDGES = new Set(['cert_expired', 'cert_not_yet_valid', 'expires_soon', 'eku_missing_client_auth', 'key_usage_no_signature']);
/** Chain remarks that are normal for a client certificate (servers hold the root). */
const QUIET = new Set(['chain_leaf_only', 'chain_root_not_included']);

/**
 * Checks the client certificate and key with the shared certificate engine (the same checks
 * the workshop shows), then loads them for Node's TLS stack.
 */
export async function checkClient(client: ClientCredentials | undefined, now = new Date()): Promise<Pick<CheckedInputs, 'chain' | 'key' | 'problems' | 'details'>> {
  if (!client) return { chain: [], key: null, problems: [], details: { clientCertificate: null } };
  const report = await cachedCheck(client, now);
  const problems: InputProblem[] = report.problems
    .filter((p) => !QUIET.has(p.code))
    .map((p) => ({ code: p.code, fatal: p.severity === 'error' && !SERVER_JUDGES.has(p.code), message: p.where && !p.message.includes(p.where) ? `${p.message} (${p.where})` : p.message }));
  const details: Omit<ProbeInputsDetails, 'problems'> = { notes: report.notes.map((n) => n.message) };
  if (report.leaf) {
    details.clientCertificate = {
      subject: report.leaf.subject,
      issuer: report.leaf.issuer,
      serialNumber: report.leaf.serial,
      notBefore: report.leaf.notBefore,
      notAfter: report.leaf.notAfter,
      fingerprint256: report.leaf.fingerprints.sha256,
      extendedKeyUsage: report.leaf.extendedKeyUsage?.usages ?? 'any (no EKU extension)',
    };
    details.chainToSend = report.certificates.map((c) => c.subject);
  }
  if (problems.some((p) => p.fatal)) return { chain: [], key: null, problems, details };

  // The engine accepted both; OpenSSL reads the same PEM text (PKCS#8, PKCS#1 or SEC1) itself.
  let chain: X509Certificate[];
  try {
    chain = parseCertificates(client.certificatePem);
  } catch (err) {
    problems.push({ code: 'pem_malformed', fatal: true, message: `the TLS stack cannot load the certificate: ${(err as Error).message}` });
    return { chain: [], key: null, problems, details };
  }
  if (chain.length === 0 || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(client.privateKeyPem)) {
    problems.push({ code: 'pem_required', fatal: true, message: 'the TLS stack takes PEM: convert DER, PKCS#12 or JSON input to a PEM certificate and key first (the workshop exports them)' });
    return { chain: [], key: null, problems, details };
  }
  const key = client.privateKeyPem;
  if (report.key) details.keyType = shortKeyName(report.key.key);
  const leaf = chain[0]!;
  details.daysLeft = Math.floor((Date.parse(leaf.validTo) - now.getTime()) / 86_400_000);
  return { chain, key, problems, details };
}

export function checkCaBundle(pem: string | undefined): { cas: string[]; problem?: InputProblem } {
  if (pem === undefined || pem.trim() === '') return { cas: [] };
  try {
    const certs = parseCertificates(pem);
    if (certs.length === 0) return { cas: [], problem: { code: 'ca_unreadable', fatal: true, message: 'the CA bundle contains no -----BEGIN CERTIFICATE----- block' } };
    return { cas: certs.map((c) => c.toString()) };
  } catch {
    return { cas: [], problem: { code: 'ca_unreadable', fatal: true, message: 'the CA bundle PEM is malformed' } };
  }
}
