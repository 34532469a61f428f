// The protected-resource half of the JWT check: given an access token the authorization server
// issued (and, for a certificate-bound token, its certificate), call the API with the token as
// issued (must pass), a tampered copy, an unsigned copy, and — for a bound token (RFC 8705) — no
// certificate and another certificate. Each call is a normal probe with its timeline, judged like
// an mTLS case (401/403 refuse), graded with the resource catalogue.
import { createHash, X509Certificate } from 'node:crypto';
import type { ClientCredentials, ProbeRequest } from '../../shared/protocol/index.ts';
import type { ResourceCheckRequest } from '../../shared/check/jwt-request.ts';

export type { ResourceCheckRequest };
import { RESOURCE_CASES, type ResourceCaseId } from '../../shared/check/jwt-cases.ts';
import { judgeCase } from '../../shared/check/judge.ts';
import { gradeCheck, RESOURCE_CATALOGUE } from '../../shared/check/grade.ts';
import type { CheckCaseInfo, CheckCaseResult, CheckReport } from '../../shared/check/messages.ts';
import { CheckInputError, checkTarget } from '../../shared/check/request.ts';
import { decodeJwt } from '../../shared/jwt/decode.ts';
import { redactUrl, scrubDeep, secretValues } from '../../shared/redact.ts';
import { LOCAL_POLICY, type OutboundPolicy } from '../net/outbound-guard.ts';
import { checkTargetAllowed } from './prepare.ts';
import type { CheckContext } from './run-check.ts';
import { runProbe } from '../probe/run-probe.ts';
import { leafKeys, mintLeaf } from './mint.ts';


/** What the mTLS check's engine takes, less its limits (the resource check runs its few cases in turn). */
type ResourceCheckContext = Omit<CheckContext, 'checkLimits'>;

const b64json = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
/** Tolerated: the claim the tampered copy changes, on top of whatever the token says. */
const TAMPER_CLAIM = 'harness_check_tampered';

interface Planned {
  id: ResourceCaseId;
  token: string;
  client?: ClientCredentials;
}

function thumbprint(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');
}

/** Every field checked, the binding matched to the certificate, before anything is sent. */
function prepare(req: ResourceCheckRequest, policy: OutboundPolicy): { url: URL; bound: boolean; header: Record<string, unknown>; claims: Record<string, unknown> } {
  if (!req || typeof req !== 'object') throw new CheckInputError('check', 'must be an object');
  const url = checkTarget(req.url);
  checkTargetAllowed(url, policy, 'url');
  const d = typeof req.accessToken === 'string' ? decodeJwt(req.accessToken) : undefined;
  if (!d?.ok) throw new CheckInputError('accessToken', `must be a signed JWT access token (the check alters its claims and header)${d && !d.ok ? `: ${d.message}` : ''}`);
  const cnf = (d.jwt.claims as Record<string, unknown>).cnf as Record<string, unknown> | undefined;
  const bound = typeof cnf?.['x5t#S256'] === 'string';
  if (req.client !== undefined) {
    const c = req.client as Partial<ClientCredentials>;
    if (typeof c.certificatePem !== 'string' || typeof c.privateKeyPem !== 'string') throw new CheckInputError('client', 'give the certificate and its private key (PEM)');
    let thumb: string;
    try {
      thumb = thumbprint(c.certificatePem);
    } catch {
      throw new CheckInputError('client.certificatePem', 'is not a readable PEM certificate');
    }
    if (bound && thumb !== cnf!['x5t#S256']) throw new CheckInputError('client.certificatePem', 'is not the certificate the token is bound to (its SHA-256 thumbprint differs from cnf x5t#S256)');
  } else if (bound) {
    throw new CheckInputError('client', 'the token is certificate-bound (cnf x5t#S256): give the certificate and key it was issued to');
  }
  if (req.caPem !== undefined && typeof req.caPem !== 'string') throw new CheckInputError('caPem', 'must be a PEM bundle');
  return { url, bound, header: d.jwt.header as Record<string, unknown>, claims: d.jwt.claims as Record<string, unknown> };
}

export async function runResourceCheck(req: ResourceCheckRequest, ctx: ResourceCheckContext): Promise<CheckReport> {
  const t0 = performance.now();
  const { url, bound, header, claims } = prepare(req, ctx.policy ?? LOCAL_POLICY);
  const [h, , sig] = req.accessToken.split('.') as [string, string, string];
  const tampered = `${h}.${b64json({ ...claims, [TAMPER_CLAIM]: true })}.${sig}`;
  const unsigned = `${b64json({ ...header, alg: 'none' })}.${b64json(claims)}.`;
  const plans: Planned[] = [
    { id: 'valid', token: req.accessToken, ...(req.client ? { client: req.client } : {}) },
    { id: 'tampered', token: tampered, ...(req.client ? { client: req.client } : {}) },
    { id: 'alg_none', token: unsigned, ...(req.client ? { client: req.client } : {}) },
  ];
  if (bound) {
    const other = await mintLeaf('self', { subject: [{ CN: ['harness-check-other-client'] }], keys: await leafKeys('P-256') });
    plans.push({ id: 'bound_without_certificate', token: req.accessToken }, { id: 'bound_other_certificate', token: req.accessToken, client: { certificatePem: other.certificatePem, privateKeyPem: other.privateKeyPem } });
  }
  const secrets = secretValues({ privateKeyPems: req.client ? [req.client.privateKeyPem] : [], extra: [req.accessToken, tampered, unsigned] });
  const clean = <T>(v: T): T => scrubDeep(v, secrets);
  const infos = plans.map((p): CheckCaseInfo => ({ caseId: p.id, title: RESOURCE_CASES[p.id].title, expect: RESOURCE_CASES[p.id].expect, certificate: null }));
  ctx.onStarted?.(infos);
  const cases: CheckCaseResult[] = [];
  // One after the other: five calls, and the valid one first tells whether the rest mean anything.
  for (const [i, plan] of plans.entries()) {
    const started = performance.now();
    const probeReq: ProbeRequest = {
      url: url.href,
      method: 'GET',
      headers: { authorization: `Bearer ${plan.token}` },
      ...(plan.client ? { client: plan.client } : {}),
      ...(req.caPem !== undefined ? { caPem: req.caPem } : {}),
      ...(req.trustLab !== undefined ? { trustLab: req.trustLab } : {}),
    };
    const probe = await runProbe(probeReq, { limits: ctx.limits, ...(ctx.lab ? { lab: ctx.lab } : {}), ...(ctx.policy ? { policy: ctx.policy } : {}), ...(ctx.signal ? { signal: ctx.signal } : {}), ...(ctx.owner ? { owner: ctx.owner } : {}), onStep: (s) => ctx.onStep?.(plan.id, clean(s)) });
    const entry = RESOURCE_CASES[plan.id];
    const result: CheckCaseResult = {
      ...infos[i]!,
      ...judgeCase(entry.expect, probe),
      fix: { text: entry.fix.text, apache: [], nginx: [] },
      outcome: probe.outcome,
      diagnoses: probe.diagnoses,
      durationMs: Math.round(performance.now() - started),
      steps: clean(probe.steps),
    };
    cases.push(result);
    ctx.onCase?.(result);
  }
  const target = redactUrl(url.href);
  const grade = gradeCheck(target, cases.map((c) => ({ id: c.caseId, verdict: c.verdict, reason: c.reason })), [], RESOURCE_CATALOGUE);
  return { target, grade: grade.grade, caps: grade.caps, summary: grade.summary, cases, durationMs: Math.round(performance.now() - t0) };
}
