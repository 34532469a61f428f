// The JWT / token-endpoint check: one assertion per case (shared/check/jwt-plan.ts), signed here
// with the PEM the CLI read, or signed in the browser and sent with the request (the app), each
// sent as a normal token flow (its full timeline streamed with the case id), each case judged
// from the token endpoint's answer and the server graded. The valid case goes first and the
// replay right after it; the rest run a few at a time.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { FlowRequest, FlowTls } from '../../shared/flows/flow-request.ts';
import { JWT_CASES, type JwtCheckKind } from '../../shared/check/jwt-cases.ts';
import { planJwtCases, plansFromAssertions, type CaseSigningKey, type PlannedJwtCase } from '../../shared/check/jwt-plan.ts';
import { judgeTokenCase } from '../../shared/check/jwt-judge.ts';
import { inconclusive, type CaseJudgement } from '../../shared/check/judge.ts';
import { gradeCheck, JWT_CATALOGUE } from '../../shared/check/grade.ts';
import type { CheckCaseInfo, CheckCaseResult, CheckReport } from '../../shared/check/messages.ts';
import { CheckInputError } from '../../shared/check/request.ts';
import { checkJwtRequest, checkSignedJwtFields, type JwtCheckRequest, type SignedJwtCheckRequest } from '../../shared/check/jwt-request.ts';
import { redactUrl, scrubDeep, secretValues } from '../../shared/redact.ts';
import type { RunningLab } from '../lab/lab.ts';
import { LOCAL_POLICY, type OutboundPolicy } from '../net/outbound-guard.ts';
import { checkTargetAllowed } from './prepare.ts';
import type { CheckContext } from './run-check.ts';
import { CallbackRegistry } from '../flows/callbacks.ts';
import { flowSecrets, runFlow, type FlowResult } from '../flows/run.ts';
import { validateCheckLimits, type CheckLimits } from './limits.ts';

/** As the mTLS check's context, but the lab itself (its clients' keys are known to the check). */
type JwtCheckContext = Omit<CheckContext, 'lab'> & {
  /** The built-in lab, when running: trusted for its own targets, its clients' keys known. */
  lab?: RunningLab | null;
};

/** What a check needs besides its assertions: the request without any key. */
type JwtRequestFields = Omit<JwtCheckRequest, 'privateKeyPem'>;

interface PreparedJwtCheck {
  req: JwtCheckRequest;
  url: URL;
  signing: CaseSigningKey;
  limits: CheckLimits;
}

function algorithmOf(key: KeyObject): CaseSigningKey['alg'] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'rsa-pss':
      return 'PS256';
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return 'ES256';
      if (curve === 'secp384r1') return 'ES384';
      throw new CheckInputError('privateKeyPem', `EC curve ${String(curve)} is not supported: use P-256 or P-384`);
    }
    case 'ed25519':
      return 'EdDSA';
    default:
      throw new CheckInputError('privateKeyPem', `${String(key.asymmetricKeyType)} keys are not supported: use RSA, EC P-256/P-384 or Ed25519`);
  }
}

/** Every field checked, the key loaded, the URL allowed by the outbound guard — before anything is signed or sent. */
function prepareJwtCheck(raw: unknown, opts: { policy?: OutboundPolicy; limits?: Partial<CheckLimits> } = {}): PreparedJwtCheck {
  const limits = validateCheckLimits(opts.limits);
  const { tokenURL: url, ...req } = checkJwtRequest(raw);
  const policy = opts.policy ?? LOCAL_POLICY;
  checkTargetAllowed(url, policy, 'tokenUrl');
  let key: KeyObject;
  try {
    key = createPrivateKey(req.privateKeyPem);
  } catch {
    // Never quote the key or the library's message about it.
    throw new CheckInputError('privateKeyPem', 'is not a readable, unencrypted PEM private key');
  }
  const alg = algorithmOf(key);
  const publicPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
  return { req, url, signing: { key, alg, publicPem }, limits };
}

interface PreparedSignedJwtCheck {
  req: Omit<SignedJwtCheckRequest, 'assertions'>;
  url: URL;
  plans: PlannedJwtCase[];
  limits: CheckLimits;
}

/** A check whose assertions were signed in the browser: every field and assertion checked, the URL allowed — before anything is sent. */
function prepareSignedJwtCheck(raw: unknown, opts: { policy?: OutboundPolicy; limits?: Partial<CheckLimits> } = {}): PreparedSignedJwtCheck {
  const limits = validateCheckLimits(opts.limits);
  const { tokenURL: url, ...req } = checkSignedJwtFields(raw);
  checkTargetAllowed(url, opts.policy ?? LOCAL_POLICY, 'tokenUrl');
  const plans = plansFromAssertions(req.kind, (raw as Record<string, unknown>).assertions);
  return { req, url, plans, limits };
}

/** The case as the normal token flow of its kind, carrying the pre-built JWT. */
function caseFlow(req: JwtRequestFields, token: string): FlowRequest {
  const tls: FlowTls = { ...(req.caPem !== undefined ? { caPem: req.caPem } : {}), ...(req.trustLab !== undefined ? { trustLab: req.trustLab } : {}) };
  const kinds: Record<JwtCheckKind, () => FlowRequest> = {
    exchange: () => ({ kind: 'jwt-exchange', tokenUrl: req.tokenUrl, clientId: req.clientId, clientSecret: req.clientSecret!, jwt: token, tls }),
    'jwt-bearer': () => ({ kind: 'jwt-bearer', tokenUrl: req.tokenUrl, assertion: token, tls }),
    private_key_jwt: () => ({ kind: 'client-credentials', tokenUrl: req.tokenUrl, clientAuth: { method: 'private_key_jwt', clientId: req.clientId, clientAssertions: [token] }, tls }),
  };
  return kinds[req.kind]();
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export async function runJwtCheck(raw: JwtCheckRequest, ctx: JwtCheckContext): Promise<CheckReport> {
  const t0 = performance.now();
  const p = prepareJwtCheck(raw, { ...(ctx.policy ? { policy: ctx.policy } : {}), ...(ctx.checkLimits ? { limits: ctx.checkLimits } : {}) });
  const { privateKeyPem, ...req } = p.req;
  return runPlannedJwtCheck(req, p.url, await planJwtCases(req, p.signing), p.limits, [privateKeyPem], ctx, t0);
}

/** The app's JWT check: the browser signed the assertions; no key reaches the relay. */
export async function runSignedJwtCheck(raw: SignedJwtCheckRequest, ctx: JwtCheckContext): Promise<CheckReport> {
  const t0 = performance.now();
  const p = prepareSignedJwtCheck(raw, { ...(ctx.policy ? { policy: ctx.policy } : {}), ...(ctx.checkLimits ? { limits: ctx.checkLimits } : {}) });
  return runPlannedJwtCheck(p.req, p.url, p.plans, p.limits, [], ctx, t0);
}

async function runPlannedJwtCheck(req: JwtRequestFields, url: URL, plans: PlannedJwtCase[], limits: CheckLimits, privateKeyPems: string[], ctx: JwtCheckContext, t0: number): Promise<CheckReport> {
  // Nothing the user gave as a secret, and no assertion that must pass, reaches an event.
  const secrets = secretValues({ privateKeyPems, extra: [...(req.clientSecret ? [req.clientSecret] : []), ...plans.map((c) => c.token)] });
  const clean = <T>(v: T): T => scrubDeep(v, secrets);
  const infos = new Map(plans.map((c): [string, CheckCaseInfo] => [c.id, { caseId: c.id, title: JWT_CASES[c.id].title, expect: JWT_CASES[c.id].expect, certificate: null, assertion: { header: c.header, claims: c.claims } }]));
  ctx.onStarted?.([...infos.values()]);
  const callbacks = new CallbackRegistry();
  const results = new Map<string, CheckCaseResult>();
  const runCase = async (plan: PlannedJwtCase) => {
    const started = performance.now();
    const entry = JWT_CASES[plan.id];
    let judgement: CaseJudgement;
    let flow: FlowResult | undefined;
    if (ctx.signal?.aborted) {
      judgement = inconclusive('the check was cancelled');
    } else if (plan.id === 'replayed_jti' && results.get('valid')?.observed !== 'accepted') {
      judgement = inconclusive('the valid assertion was not accepted, so refusing it again proves nothing about replays');
    } else {
      const request = caseFlow(req, plan.token);
      const own = flowSecrets(request);
      const scrub = <T>(v: T): T => scrubDeep(clean(v), own);
      flow = await runFlow(request, {
        limits: ctx.limits,
        relayOrigin: 'http://127.0.0.1',
        callbacks,
        lab: ctx.lab ?? null,
        sendUnsignedJwts: true,
        ...(ctx.policy ? { policy: ctx.policy } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        ...(ctx.owner ? { owner: ctx.owner } : {}),
        onStep: (s) => ctx.onStep?.(plan.id, scrub(s)),
      });
      flow = { ...flow, steps: scrub(flow.steps) };
      judgement = judgeTokenCase(entry.expect, flow);
    }
    const result: CheckCaseResult = {
      ...infos.get(plan.id)!,
      ...judgement,
      fix: { text: entry.fix.text, apache: [], nginx: [] },
      ...(flow ? { outcome: flow.outcome, diagnoses: flow.diagnoses } : {}),
      durationMs: Math.round(performance.now() - started),
      steps: flow?.steps ?? [],
    };
    results.set(plan.id, result);
    ctx.onCase?.(result);
  };
  // The replay must follow the valid assertion's acceptance, and come before it expires.
  const ordered = plans.filter((c) => c.id === 'valid' || c.id === 'replayed_jti');
  for (const plan of ordered) await runCase(plan);
  await pool(plans.filter((c) => !ordered.includes(c)), limits.checkConcurrency, runCase);
  const cases = plans.map((plan) => results.get(plan.id)!);
  const target = `${redactUrl(url.href)} (${req.kind})`;
  const grade = gradeCheck(target, cases.map((c) => ({ id: c.caseId, verdict: c.verdict, reason: c.reason })), [], JWT_CATALOGUE);
  return { target, grade: grade.grade, caps: grade.caps, summary: grade.summary, cases, durationMs: Math.round(performance.now() - t0) };
}
