// The JWT / token-endpoint check: sign one assertion per case with the key registered at the
// server (by hand where a JWT library rightly refuses: alg none, HS256 keyed with the public
// key), send each as a normal token flow (its full timeline streamed with the case id), judge
// each case from the token endpoint's answer and grade the server. The valid case goes first and
// the replay right after it; the rest run a few at a time.
import { createHmac, createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWTHeaderParameters } from 'jose';
import type { FlowRequest, FlowTls } from '../../shared/flows/flow-request.ts';
import { JWT_CASES, jwtCasesFor, type JwtCaseId, type JwtCheckKind } from '../../shared/check/jwt-cases.ts';
import { judgeTokenCase } from '../../shared/check/jwt-judge.ts';
import { inconclusive, type CaseJudgement } from '../../shared/check/judge.ts';
import { gradeCheck, JWT_CATALOGUE } from '../../shared/check/grade.ts';
import type { CheckCaseInfo, CheckCaseResult, CheckReport } from '../../shared/check/messages.ts';
import { CheckInputError } from '../../shared/check/request.ts';
import { checkJwtRequest, type JwtCheckRequest } from '../../shared/check/jwt-request.ts';
import { redactUrl, scrubDeep, secretValues } from '../../shared/redact.ts';
import type { RunningLab } from '../lab/lab.ts';
import { LOCAL_POLICY, type OutboundPolicy } from '../net/outbound-guard.ts';
import { checkTargetAllowed } from './prepare.ts';
import type { CheckContext } from './run-check.ts';
import { CallbackRegistry } from '../flows/callbacks.ts';
import { flowSecrets, runFlow, type FlowResult } from '../flows/run-flow.ts';
import { validateCheckLimits, type CheckLimits } from './limits.ts';

/** Lifetime of the assertions that must pass: well inside the usual five-minute policies. */
const VALID_LIFETIME_SEC = 120;
/** How far the time cases are off: beyond any sane clock tolerance, inside a 5-minute lifetime limit. */
const SKEW_SEC = 180;
const LONG_LIFETIME_SEC = 86_400;
const WRONG_AUDIENCE = 'https://wrong-audience.harness-check.invalid/token';
const WRONG_ISSUER = 'harness-check-wrong-issuer';
const WRONG_SUBJECT = 'harness-check-wrong-subject';
const UNKNOWN_KID = 'harness-check-unknown-kid';
const CRIT_EXTENSION = 'urn:harness-check:critical';

/** As the mTLS check's context, but the lab itself (its clients' keys are known to the check). */
export type JwtCheckContext = Omit<CheckContext, 'lab'> & {
  /** The built-in lab, when running: trusted for its own targets, its clients' keys known. */
  lab?: RunningLab | null;
};

interface SigningKey {
  key: KeyObject;
  alg: string;
  /** SPKI PEM of the public key: the "secret" of the algorithm-confusion case. */
  publicPem: string;
}

export interface PreparedJwtCheck {
  req: JwtCheckRequest;
  url: URL;
  signing: SigningKey;
  limits: CheckLimits;
}

function algorithmOf(key: KeyObject): string {
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
export function prepareJwtCheck(raw: unknown, opts: { policy?: OutboundPolicy; limits?: Partial<CheckLimits> } = {}): PreparedJwtCheck {
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

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** By hand: a JWT library refuses to make these, which is the point. */
function handMade(header: Record<string, unknown>, claims: Record<string, unknown>, sign: (input: string) => string): string {
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `${input}.${sign(input)}`;
}

export interface PlannedJwtCase {
  id: JwtCaseId;
  token: string;
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** One assertion per case; each differs from the valid one in one property (and its jti). */
export async function planJwtCases(p: PreparedJwtCheck): Promise<PlannedJwtCase[]> {
  const { req, signing } = p;
  const now = Math.floor(Date.now() / 1000);
  const iss = req.kind === 'private_key_jwt' ? req.clientId : req.issuer ?? req.clientId;
  const sub = req.kind === 'private_key_jwt' ? req.clientId : req.subject ?? req.clientId;
  const aud = req.audience ?? req.tokenUrl;
  const jti = () => randomBytes(16).toString('base64url');
  const header = (extra: Record<string, unknown> = {}) => ({ alg: signing.alg, typ: 'JWT', ...(req.kid ? { kid: req.kid } : {}), ...extra });
  const claims = (extra: Record<string, unknown> = {}) => ({ iss, sub, aud, iat: now, exp: now + VALID_LIFETIME_SEC, jti: jti(), ...extra });
  const sign = async (h: Record<string, unknown>, c: Record<string, unknown>, key: KeyObject | CryptoKey = signing.key, opts: { crit?: Record<string, boolean> } = {}) =>
    new SignJWT(c).setProtectedHeader(h as JWTHeaderParameters).sign(key, opts);

  const out = new Map<JwtCaseId, PlannedJwtCase>();
  const add = async (id: JwtCaseId, h: Record<string, unknown>, c: Record<string, unknown>, make?: () => Promise<string> | string) => {
    out.set(id, { id, header: h, claims: c, token: make ? await make() : await sign(h, c) });
  };
  const validClaims = claims();
  await add('valid', header(), validClaims);
  out.set('replayed_jti', { ...out.get('valid')!, id: 'replayed_jti' });
  await add('expired', header(), claims({ iat: now - 900, exp: now - 600 }));
  await add('nbf_future', header(), claims({ nbf: now + SKEW_SEC, exp: now + SKEW_SEC + VALID_LIFETIME_SEC / 2 }));
  await add('iat_future', header(), claims({ iat: now + SKEW_SEC, exp: now + SKEW_SEC + VALID_LIFETIME_SEC / 2 }));
  await add('long_lifetime', header(), claims({ exp: now + LONG_LIFETIME_SEC }));
  const noExp: Record<string, unknown> = claims();
  delete noExp.exp;
  await add('missing_exp', header(), noExp);
  await add('wrong_aud', header(), claims({ aud: WRONG_AUDIENCE }));
  await add('wrong_iss', header(), claims({ iss: WRONG_ISSUER }));
  await add('wrong_sub', header(), claims({ sub: WRONG_SUBJECT }));
  await add('unknown_kid', header({ kid: UNKNOWN_KID }), claims());
  const badSig = claims();
  await add('bad_signature', header(), badSig, async () => {
    const [h, c, s] = (await sign(header(), badSig)).split('.') as [string, string, string];
    const sig = Buffer.from(s, 'base64url');
    sig[sig.length >> 1]! ^= 0x01;
    return `${h}.${c}.${sig.toString('base64url')}`;
  });
  const noneHeader = { alg: 'none', typ: 'JWT' };
  const noneClaims = claims();
  await add('alg_none', noneHeader, noneClaims, () => handMade(noneHeader, noneClaims, () => ''));
  const hsHeader = { alg: 'HS256', typ: 'JWT', ...(req.kid ? { kid: req.kid } : {}) };
  const hsClaims = claims();
  await add('hs256_public_key', hsHeader, hsClaims, () => handMade(hsHeader, hsClaims, (input) => createHmac('sha256', signing.publicPem).update(input).digest('base64url')));
  // Another key of the same kind, carried in the header; no kid, so only the jwk names a key.
  const other = await generateKeyPair(signing.alg === 'EdDSA' ? 'Ed25519' : signing.alg, { extractable: true });
  const { kty, n, e, crv, x, y } = (await exportJWK(other.publicKey)) as Record<string, string>;
  const jwkHeader = { alg: signing.alg, typ: 'JWT', jwk: { kty, ...(n ? { n, e } : {}), ...(crv ? { crv, x, ...(y ? { y } : {}) } : {}) } };
  const jwkClaims = claims();
  await add('embedded_jwk', jwkHeader, jwkClaims, () => sign(jwkHeader, jwkClaims, other.privateKey));
  const critHeader = header({ crit: [CRIT_EXTENSION], [CRIT_EXTENSION]: true });
  const critClaims = claims();
  await add('unknown_crit', critHeader, critClaims, () => sign(critHeader, critClaims, signing.key, { crit: { [CRIT_EXTENSION]: true } }));
  return jwtCasesFor(req.kind).map((id) => out.get(id)!);
}

/** The case as the normal token flow of its kind, carrying the pre-built JWT. */
export function caseFlow(req: JwtCheckRequest, token: string): FlowRequest {
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
  const plans = await planJwtCases(p);
  // Nothing the user gave as a secret, and no assertion that must pass, reaches an event.
  const secrets = secretValues({ privateKeyPems: [p.req.privateKeyPem], extra: [...(p.req.clientSecret ? [p.req.clientSecret] : []), ...plans.map((c) => c.token)] });
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
      const request = caseFlow(p.req, plan.token);
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
  await pool(plans.filter((c) => !ordered.includes(c)), p.limits.checkConcurrency, runCase);
  const cases = plans.map((plan) => results.get(plan.id)!);
  const target = `${redactUrl(p.url.href)} (${p.req.kind})`;
  const grade = gradeCheck(target, cases.map((c) => ({ id: c.caseId, verdict: c.verdict, reason: c.reason })), [], JWT_CATALOGUE);
  return { target, grade: grade.grade, caps: grade.caps, summary: grade.summary, cases, durationMs: Math.round(performance.now() - t0) };
}
