// The mTLS server check: mint one certificate per case from the user's test CA, run each case
// as a normal probe (its full timeline streamed with the case id), a few at a time, judge each
// case and grade the server.
import tls from 'node:tls';
import { createHash, X509Certificate } from 'node:crypto';
import type { ClientCredentials, Step } from '../../shared/protocol/index.ts';
import { x509 } from '../../shared/pki/issue.ts';
import { caseEntry, CUSTOM_CASE_PREFIX, MTLS_CASES, type MtlsCaseId } from '../../shared/check/cases.ts';
import { inconclusive, judgeCase, type CaseJudgement } from '../../shared/check/judge.ts';
import { gradeCheck } from '../../shared/check/grade.ts';
import { caseFix, installSnippets } from '../../shared/check/install.ts';
import type { CheckCaseInfo, CheckCaseResult, CheckReport } from '../../shared/check/messages.ts';
import type { MtlsCheckRequest } from '../../shared/check/request.ts';
import { redactUrl } from '../../shared/redact.ts';
import type { Limits } from '../defaults.ts';
import type { LabTrust } from '../net/dial.ts';
import type { Owner } from '../net/fair-share.ts';
import type { OutboundPolicy } from '../net/outbound-guard.ts';
import { runProbe } from '../probe/run-probe.ts';
import { deepCas, leafKeys, mintLeaf, mintStrangerRoot, pemOf, revokedSerial, type Minted } from './mint.ts';
import { leafIssuer, leafIssuerDer, prepareCheck, type PreparedCheck } from './prepare.ts';
import type { CheckLimits } from './limits.ts';
import { ContextHold } from '../net/tls-contexts.ts';

const DAY = 86_400_000;

export interface CheckContext {
  limits: Limits;
  checkLimits?: Partial<CheckLimits>;
  lab?: LabTrust;
  policy?: OutboundPolicy;
  signal?: AbortSignal;
  /** Whose check it is, for the fair share of the event loop (the session). */
  owner?: Owner;
  /** Every case is known (its certificate minted) before the first probe starts. */
  onStarted?(cases: CheckCaseInfo[]): void;
  onStep?(caseId: string, step: Step): void;
  onCase?(result: CheckCaseResult): void;
}

export interface PlannedCase {
  id: string;
  client?: ClientCredentials;
  /** Set when the harness knows before running that it cannot send the certificate. */
  cannotSend?: string;
  /** What the case's info shows of its certificate, read once when it was minted. */
  certificate?: CheckCaseInfo['certificate'];
  /** The cache entry's hold on the TLS contexts its cases were sent with (built-in cases only). */
  hold?: ContextHold;
}

function subjectFor(p: PreparedCheck, wrong = false): { subject: x509.JsonName; dnsNames?: string[] } {
  if ('cnEquals' in p.rule) {
    const cn = wrong ? `wrong-${p.rule.cnEquals}`.slice(0, 64) : p.rule.cnEquals;
    return { subject: [{ CN: [cn] }] };
  }
  const dns = wrong ? `wrong.${p.rule.sanDnsEquals}`.slice(-253).replace(/^[.-]+/, '') : p.rule.sanDnsEquals;
  return { subject: [{ CN: [dns.slice(0, 64)] }], dnsNames: [dns] };
}

function asClient(m: Minted): ClientCredentials {
  return { certificatePem: m.certificatePem, privateKeyPem: m.privateKeyPem };
}

/** Whether this process's TLS stack will load the certificate and key (OpenSSL refuses weak keys at higher security levels). */
function loadable(m: Minted): string | undefined {
  try {
    tls.createSecureContext({ cert: m.certificatePem, key: m.privateKeyPem });
    return undefined;
  } catch (err) {
    return `the harness's TLS stack (OpenSSL ${process.versions.openssl}) refuses to send this certificate: ${(err as Error).message}`;
  }
}

const PLAN_CACHE_SIZE = 16;
const planCache = new Map<string, { at: number; plans: Promise<PlannedCase[]>; hold: ContextHold }>();

/** Drops a cache entry and the TLS contexts it held. */
function forget(id: string): void {
  planCache.get(id)?.hold.release();
  planCache.delete(id);
}

/**
 * Every case's certificate, minted, or reused from a check of the same CA, rule and depth less
 * than casePlanTtlMs ago. Custom cases are the user's own and never cached. A cached case's
 * TLS context (its certificate and key, parsed) is kept with it, so a check run again builds
 * none: at most one per case, dropped with the entry (PLAN_CACHE_SIZE entries, casePlanTtlMs).
 */
export async function planCases(p: PreparedCheck): Promise<PlannedCase[]> {
  const id = createHash('sha256').update(p.rootPem).update('\0').update(p.intermediatePem).update('\0').update(JSON.stringify(p.rule)).update(`\0${p.verifyDepth}`).digest('base64');
  const now = Date.now();
  let hit = planCache.get(id);
  if (!hit || now - hit.at >= p.limits.casePlanTtlMs || now < hit.at) {
    const hold = new ContextHold(Object.keys(MTLS_CASES).length);
    const entry = { at: now, plans: mintCases(p).then((plans) => plans.map((plan) => ({ ...plan, hold }))), hold };
    hit = entry;
    entry.plans.catch(() => { if (planCache.get(id) === entry) forget(id); });
    forget(id);
    planCache.set(id, entry);
    if (planCache.size > PLAN_CACHE_SIZE) forget(planCache.keys().next().value!);
    setTimeout(() => { if (planCache.get(id) === entry) forget(id); }, p.limits.casePlanTtlMs).unref();
  }
  const builtIn = await hit.plans;
  const custom = p.custom.map((c, i) => ({ id: `${CUSTOM_CASE_PREFIX}${i + 1}`, client: { certificatePem: c.certificatePem, privateKeyPem: c.privateKeyPem } }));
  return [...builtIn, ...custom];
}

/** Mints every case's certificate. Each differs from the valid one in one property only. */
async function mintCases(p: PreparedCheck): Promise<PlannedCase[]> {
  const issuer = await leafIssuer(p);
  const { intermediate } = await p.signers();
  const chain = p.verifyDepth >= 2 ? `${p.intermediatePem.trim()}\n` : '';
  // One key for every case: what differs between them is the certificate, not the key.
  const right = { ...subjectFor(p), keys: await leafKeys('P-256') };
  const now = Date.now();
  const plans: Promise<PlannedCase>[] = [];
  const add = (_id: MtlsCaseId, make: () => Promise<PlannedCase>) => plans.push(make());
  const leaf = (id: MtlsCaseId, opts: Partial<Parameters<typeof mintLeaf>[1]> = {}, by: typeof issuer | 'self' = issuer, sent = chain) =>
    add(id, async () => ({ id, client: asClient(await mintLeaf(by, { ...right, ...opts }, sent)) }));

  leaf('valid');
  // With depth 1 the leaf comes from the root: there is no intermediate to leave out.
  if (p.verifyDepth >= 2) leaf('leaf_without_intermediate', {}, issuer, '');
  add('no_certificate', async () => ({ id: 'no_certificate' }));
  leaf('expired', { notBefore: new Date(now - 30 * DAY), notAfter: new Date(now - DAY) });
  leaf('not_yet_valid', { notBefore: new Date(now + DAY), notAfter: new Date(now + 30 * DAY) });
  leaf('revoked', { serialNumber: revokedSerial(leafIssuerDer(p)) });
  leaf('wrong_subject', subjectFor(p, true));
  leaf('server_auth_only', { extendedKeyUsages: [x509.ExtendedKeyUsage.serverAuth] });
  leaf('no_digital_signature', { keyUsage: x509.KeyUsageFlags.keyEncipherment });
  add('untrusted_ca', async () => {
    const stranger = await mintStrangerRoot('CN=Harness Check Untrusted Root, O=Not Your CA');
    return { id: 'untrusted_ca', client: asClient(await mintLeaf(stranger, right)) };
  });
  leaf('self_signed', {}, 'self', '');
  add('chain_too_deep', async () => {
    // One CA more above the leaf than the depth allows: the intermediate, then depth−1 CAs below it.
    const extra = await deepCas(intermediate, p.intermediateKey, Math.max(0, p.verifyDepth - 1));
    const by = extra.at(-1) ?? intermediate;
    const sent = [...extra].reverse().map((c) => pemOf(c.certificate)).join('') + `${p.intermediatePem.trim()}\n`;
    return { id: 'chain_too_deep', client: asClient(await mintLeaf(by, right, sent)) };
  });
  add('weak_key', async () => {
    const m = await mintLeaf(issuer, { ...right, key: 'RSA-1024' }, chain);
    const cannotSend = loadable(m);
    return { id: 'weak_key', client: asClient(m), ...(cannotSend ? { cannotSend } : {}) };
  });
  const planned = (await Promise.all(plans)).map((plan) => ({ ...plan, certificate: certificateInfo(plan) }));
  // Catalogue order.
  const order = Object.keys(MTLS_CASES);
  return planned.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
}

function certificateInfo(plan: PlannedCase): CheckCaseInfo['certificate'] {
  if (!plan.client) return null;
  try {
    const blocks = plan.client.certificatePem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
    const leaf = new X509Certificate(blocks[0]!);
    return { subject: leaf.subject.replace(/\n/g, ', '), issuer: leaf.issuer.replace(/\n/g, ', '), serialNumber: leaf.serialNumber, chainLength: blocks.length };
  } catch {
    return null; // a custom case's unreadable PEM: the probe's inputs step says why
  }
}

function caseInfo(plan: PlannedCase, p: PreparedCheck): CheckCaseInfo {
  const entry = caseEntry(plan.id, p.custom)!;
  return { caseId: plan.id, title: entry.title, expect: entry.expect, certificate: plan.certificate !== undefined ? plan.certificate : certificateInfo(plan) };
}

/** Runs `work` over `items`, at most `limit` at a time, in order of start. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export async function runCheck(req: MtlsCheckRequest, ctx: CheckContext): Promise<CheckReport> {
  const t0 = performance.now();
  const p = await prepareCheck(req, { ...(ctx.policy ? { policy: ctx.policy } : {}), ...(ctx.checkLimits ? { limits: ctx.checkLimits } : {}) });
  const plans = await planCases(p);
  const snippets = installSnippets(p.rule, p.verifyDepth);
  const infos = new Map(plans.map((plan) => [plan.id, caseInfo(plan, p)]));
  ctx.onStarted?.([...infos.values()]);
  const results = new Map<string, CheckCaseResult>();
  await pool(plans, p.limits.checkConcurrency, async (plan) => {
    const started = performance.now();
    const entry = caseEntry(plan.id, p.custom)!;
    let judgement: CaseJudgement;
    let probe: Awaited<ReturnType<typeof runProbe>> | undefined;
    if (plan.cannotSend) {
      judgement = inconclusive(plan.cannotSend);
    } else if (ctx.signal?.aborted) {
      judgement = inconclusive('the check was cancelled');
    } else {
      probe = await runProbe({
        url: p.url.href,
        method: 'GET',
        ...(plan.client ? { client: plan.client } : {}),
        ...(p.caPem !== undefined ? { caPem: p.caPem } : {}),
        ...(p.trustLab !== undefined ? { trustLab: p.trustLab } : {}),
      }, { limits: ctx.limits, ...(plan.hold ? { tlsContextHold: plan.hold } : {}), ...(ctx.lab ? { lab: ctx.lab } : {}), ...(ctx.policy ? { policy: ctx.policy } : {}), ...(ctx.signal ? { signal: ctx.signal } : {}), ...(ctx.owner ? { owner: ctx.owner } : {}), onStep: (s) => ctx.onStep?.(plan.id, s) });
      judgement = judgeCase(entry.expect, probe);
    }
    const result: CheckCaseResult = {
      ...infos.get(plan.id)!,
      ...judgement,
      fix: caseFix(plan.id, snippets, p.custom)!,
      ...(probe ? { outcome: probe.outcome, diagnoses: probe.diagnoses } : {}),
      durationMs: Math.round(performance.now() - started),
      steps: probe?.steps ?? [],
    };
    results.set(plan.id, result);
    ctx.onCase?.(result);
  });
  const cases = plans.map((plan) => results.get(plan.id)!);
  const target = redactUrl(p.url.href);
  const grade = gradeCheck(target, cases.map((c) => ({ id: c.caseId, verdict: c.verdict, reason: c.reason })), p.custom);
  return { target, grade: grade.grade, caps: grade.caps, summary: grade.summary, cases, durationMs: Math.round(performance.now() - t0) };
}
