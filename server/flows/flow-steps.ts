// What every token flow shares: its steps (recorded like the probe's), the inputs check, one
// HTTP call per step with the exact request and response shown (secrets masked), the verdict,
// and an early stop that skips the steps not reached. Each flow file is the story of its kind;
// the mechanics live here.
import type { Diagnosis, RunOutcome, StepStatus } from '../../shared/protocol/index.ts';
import type { FlowTls } from '../../shared/flows/flow-request.ts';
import { diagnosis, type DiagnosisCode } from '../../shared/diagnoses.ts';
import { MASK, basicCredential, cleanDeep, isSecretField, isSecretHeader, isSecretName, redactDeep, redactForm, redactHeaders, redactText, redactUrl, secretValues } from '../../shared/redact.ts';
import { curlFor, envName, type EnvRef } from '../../shared/flows/curl.ts';
import { decodeJwt, describeTimes, type DecodedJwt } from '../../shared/jwt/decode.ts';
import { StepRecorder, type OpenStep, type PlannedStep } from '../run/recorder.ts';
import { checkCaBundle, checkClient } from '../run/inputs.ts';
import { oneLineDn } from '../net/dial.ts';
import { requestHeaders } from '../net/http-exchange.ts';
import { formatBody } from '../../shared/format-body.ts';
import type { CallConnection, DetailsOf, FlowInputsDetails, FlowVerdictDetails, HttpCallEvidence, ProbePhase, ShownHttpRequest, ShownJwt } from '../../shared/protocol/index.ts';
import { CallFailure, httpCall, type CallResult, type CallTls } from '../net/http-call.ts';
import type { FlowContext, FlowResult } from './context.ts';
import { HarnessError } from '../../shared/errors.ts';

/** Thrown to end a flow at a failed step; the runner turns it into the verdict. */
export class FlowStopped extends HarnessError<DiagnosisCode> {}

export interface FlowRequestSpec {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** Form fields, sent application/x-www-form-urlencoded in this order. */
  form?: [string, string][];
  body?: string;
  /** Basic authentication (client_secret_basic): RFC 6749 §2.3.1 form-encodes both parts. */
  basic?: { user: string; password: string };
}

interface DisplayOptions {
  /** Form fields or headers that are secret under a custom name (e.g. an edited jwt_token field). */
  secretNames?: string[];
}

export interface JwtInput {
  label: string;
  token: string;
}

export interface HttpStepResult {
  res: CallResult;
  details: HttpCallEvidence;
  json: unknown;
}

const FORM = 'application/x-www-form-urlencoded';

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function decodedForDisplay(jwt: DecodedJwt): ShownJwt {
  return { header: jwt.header, claims: jwt.claims, times: describeTimes(jwt.claims), signature: MASK };
}

export class FlowRun {
  readonly ctx: FlowContext;
  readonly rec: StepRecorder;
  /** Values learnt during the run (tokens, codes, verifiers) scrubbed from every event. */
  readonly #secrets = new Set<string>();
  #scrub: string[] = [];
  #curls: { step: string; command: string }[] = [];
  /** Names the user marked secret for this run (the flow's `secretNames`). */
  secretNames: readonly string[] = [];
  callTls: CallTls = { chain: [], key: null, bundle: [], trustLab: true, verifyServer: true };

  constructor(ctx: FlowContext) {
    this.ctx = ctx;
    this.rec = new StepRecorder((step) => ctx.onStep(cleanDeep(step, this.#scrub)), performance.now());
  }

  /** A secret the run obtained (not one the request carried: the session scrubs those). */
  secret(value: string | undefined): void {
    if (!value) return;
    // With its encodings (form, JSON, XML), longest first so a value is masked whole.
    for (const v of secretValues({ extra: [value] })) this.#secrets.add(v);
    this.#scrub = [...this.#secrets].sort((a, b) => b.length - a.length);
  }

  /** The steps this flow expects to run, so the ones not reached can be shown as skipped. */
  plan(steps: readonly PlannedStep[]): void {
    this.rec.plan(steps);
  }

  start<P extends ProbePhase>(id: string, phase: P, title: string, summary?: string): OpenStep<P> {
    return this.rec.start(id, phase, title, summary);
  }

  /** Fails `step` with a diagnosis and stops the flow. */
  stop<P extends ProbePhase>(step: OpenStep<P>, code: DiagnosisCode, evidence: string[], opts: { summary?: string; details?: DetailsOf<P>; title?: string } = {}): never {
    const d = diagnosis(code, evidence, opts.summary);
    step.finish('fail', { summary: d.summary, diagnosis: d, ...(opts.details ? { details: opts.details } : {}), ...(opts.title ? { title: opts.title } : {}) });
    throw new FlowStopped(code, d.summary);
  }

  /** Finishes a step that worked but with a remark worth a diagnosis (the run still passes). */
  warn<P extends ProbePhase>(step: OpenStep<P>, code: DiagnosisCode, evidence: string[], opts: { summary?: string; details?: DetailsOf<P>; title?: string } = {}): Diagnosis {
    const d = diagnosis(code, evidence, opts.summary);
    step.finish('warn', { summary: d.summary, diagnosis: d, ...(opts.details ? { details: opts.details } : {}), ...(opts.title ? { title: opts.title } : {}) });
    return d;
  }

  /**
   * The inputs step: URLs, the client certificate and CA bundle (with the probe's checks), and
   * each JWT decoded. Stops the flow on anything the run cannot use.
   */
  async inputs(opts: { urls: [string, string | undefined][]; tls?: FlowTls; jwts?: JwtInput[]; details?: Partial<FlowInputsDetails>; summary?: string; problems?: string[] }): Promise<void> {
    const step = this.start('inputs', 'inputs', 'Inputs');
    const problems: string[] = [...(opts.problems ?? [])];
    const warnings: string[] = [];
    const urls: Record<string, string> = {};
    for (const [field, raw] of opts.urls) {
      if (raw === undefined) continue;
      urls[field] = redactUrl(raw, this.secretNames);
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        problems.push(`${field}: "${raw.slice(0, 200)}" is not a URL`);
        continue;
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push(`${field}: ${url.protocol}// is not HTTP; use https://`);
      else if (url.protocol === 'http:') warnings.push(`${field} is plain http://: OAuth requires TLS for every endpoint`);
      if (url.username || url.password) problems.push(`${field}: the URL must not contain a user name or password`);
    }
    const client = await checkClient(opts.tls?.client);
    for (const p of client.problems) (p.fatal ? problems : warnings).push(`${p.code}: ${p.message}`);
    const ca = checkCaBundle(opts.tls?.caPem);
    if (ca.problem) problems.push(`${ca.problem.code}: ${ca.problem.message}`);
    const lab = this.ctx.lab;
    this.callTls = {
      chain: client.chain,
      key: client.key,
      ...(opts.tls?.client ? { certificatePem: opts.tls.client.certificatePem } : {}),
      bundle: ca.cas,
      ...(lab ? { lab: lab.trust } : {}),
      trustLab: opts.tls?.trustLab !== false,
      verifyServer: opts.tls?.verifyServer !== false,
      problems: client.problems.map((p) => ({ code: p.code, message: p.message })),
    };
    const jwts: Record<string, ShownJwt> = {};
    let malformed: string | undefined;
    for (const j of opts.jwts ?? []) {
      const d = decodeJwt(j.token, { allowUnsigned: this.ctx.sendUnsignedJwts === true });
      if (d.ok) jwts[j.label] = decodedForDisplay(d.jwt);
      else {
        jwts[j.label] = { problem: d.code, message: d.message };
        malformed ??= `${j.label}: ${d.message}`;
      }
    }
    const details: FlowInputsDetails = {
      ...opts.details,
      urls,
      ...(opts.tls?.client ? { clientCertificate: client.details.clientCertificate, chainToSend: client.details.chainToSend, keyType: client.details.keyType } : {}),
      trust: ca.cas.length ? 'CA bundle given for this flow' : `system store${lab && this.callTls.trustLab ? ' (lab CA for lab targets)' : ''}`,
      verifyServer: this.callTls.verifyServer,
      ...(Object.keys(jwts).length ? { jwts } : {}),
      problems,
      warnings,
    };
    if (malformed) this.stop(step, 'jwt_malformed', [malformed], { details });
    if (problems.length) this.stop(step, 'input_invalid', problems, { summary: problems[0], details });
    const leaf = client.chain[0];
    const summary = [opts.summary, leaf ? `client certificate ${oneLineDn(leaf.subject)}` : undefined, ...warnings].filter(Boolean).join(' · ');
    step.finish(warnings.length ? 'warn' : 'ok', { summary: summary || 'ready', details });
  }

  /** Shows a request as it goes on the wire, secrets masked. */
  #names(opts: DisplayOptions): string[] {
    return [...(opts.secretNames ?? []), ...this.secretNames];
  }

  #displayRequest(req: FlowRequestSpec, headers: Record<string, string>, body: string | undefined, opts: DisplayOptions): ShownHttpRequest {
    const names = this.#names(opts);
    const secretNames = new Set(names.map((n) => n.toLowerCase()));
    const shownHeaders = redactHeaders(headers, names);
    for (const name of Object.keys(shownHeaders)) if (secretNames.has(name.toLowerCase())) shownHeaders[name] = MASK;
    let shownBody: string | undefined;
    if (req.form) {
      shownBody = redactForm(body ?? '').split('&').map((pair) => {
        const name = decodeURIComponent(pair.split('=')[0] ?? '');
        return secretNames.has(name.toLowerCase()) ? `${pair.split('=')[0]}=${MASK}` : pair;
      }).join('&');
    } else if (body !== undefined) {
      const json = parseJson(body);
      shownBody = json === undefined ? redactText(body) : JSON.stringify(redactDeep(json));
    }
    return { method: req.method, url: redactUrl(req.url.toString(), names), headers: shownHeaders, ...(shownBody !== undefined ? { body: shownBody } : {}) };
  }

  #curl(req: FlowRequestSpec, opts: DisplayOptions): string {
    const names = this.#names(opts);
    const secretNames = new Set(names.map((n) => n.toLowerCase()));
    const isSecret = (name: string) => isSecretField(name) || isSecretHeader(name) || name === 'code' || secretNames.has(name.toLowerCase());
    const value = (name: string, v: string): string | EnvRef => {
      if (name.toLowerCase() === 'authorization') {
        const scheme = v.match(/^(\w+)\s/)?.[1];
        return scheme?.toLowerCase() === 'bearer' ? { env: 'ACCESS_TOKEN', prefix: `${scheme} ` } : { env: 'AUTHORIZATION' };
      }
      return isSecret(name) ? { env: envName(name) } : v;
    };
    return curlFor({
      method: req.method,
      url: redactUrl(req.url.toString(), names),
      headers: Object.entries(req.headers ?? {}).map(([n, v]) => [n, value(n, v)]),
      ...(req.form ? { form: req.form.map(([n, v]) => [n, value(n, v)]) } : {}),
      ...(req.basic ? { basic: { user: req.basic.user, password: { env: 'CLIENT_SECRET' } } } : {}),
      ...(req.body !== undefined ? { body: true } : {}),
      clientCertificate: this.callTls.chain.length > 0,
      caFile: this.callTls.bundle.length > 0 || (this.callTls.lab !== undefined && this.callTls.trustLab && this.callTls.lab.endpoints.includes(`${req.url.hostname}:${req.url.port}`)),
      insecure: !this.callTls.verifyServer,
    });
  }

  /**
   * One HTTP call shown on `step`: the request as sent and the response as received, with the
   * connection and timings. A call that gets no HTTP answer fails the step with the transport
   * diagnosis and stops the flow; any HTTP answer is returned for the flow to judge.
   */
  async http(step: OpenStep<'discovery' | 'exchange' | 'token' | 'call'>, req: FlowRequestSpec, opts: DisplayOptions = {}): Promise<HttpStepResult> {
    const headers: Record<string, string> = { ...req.headers };
    let body = req.body;
    if (req.form) {
      body = new URLSearchParams(req.form).toString();
      headers['content-type'] = FORM;
      headers.accept ??= 'application/json';
    }
    if (req.basic) headers.authorization = `Basic ${basicCredential(req.basic.user, req.basic.password)}`;
    const outgoing = { method: req.method, url: req.url, headers, ...(body !== undefined ? { body } : {}) };
    const request = this.#displayRequest(req, requestHeaders(outgoing), body, opts);
    const curl = this.#curl({ ...req, headers: { ...req.headers, ...(req.form ? { 'content-type': FORM } : {}) } }, opts);
    this.#curls.push({ step: step.id, command: curl });
    let res: CallResult;
    try {
      res = await httpCall(outgoing, this.callTls, { limits: this.ctx.limits, ...(this.ctx.signal ? { signal: this.ctx.signal } : {}), ...(this.ctx.policy ? { policy: this.ctx.policy } : {}), ...(this.ctx.owner ? { owner: this.ctx.owner } : {}) });
    } catch (err) {
      if (!(err instanceof CallFailure)) throw err;
      this.stop(step, err.code, err.evidence, { details: { request, ...(err.connection ? { connection: this.#connection(err.connection) } : {}), error: redactText(err.message), curl } });
    }
    const contentType = String(res.headers['content-type'] ?? '');
    const json = contentType.includes('json') || res.body.trim().startsWith('{') ? parseJson(res.body) : undefined;
    const names = this.#names(opts);
    // A form-encoded answer (GitHub's token endpoint by default) carries opaque tokens the
    // request did not: learnt here so every later echo of them is scrubbed too.
    if (json === undefined && (contentType.includes('x-www-form-urlencoded') || /^[\w.~-]+=/.test(res.body))) {
      for (const [k, v] of new URLSearchParams(res.body)) if (isSecretName(k, names)) this.secret(v);
    }
    const shown = formatBody(res.body, contentType, this.ctx.limits.maxResponseBodyBytes, names);
    const response = {
      status: res.status,
      headers: redactHeaders(res.headers as Record<string, string | string[]>, names),
      body: shown.text,
      ...(shown.note ? { bodyNote: shown.note } : {}),
      bytes: res.bytes,
      truncated: res.truncated,
    };
    return { res, json, details: { request, response, connection: this.#connection(res.connection), timings: res.timings, curl } };
  }

  #connection(c: CallResult['connection']): CallConnection {
    return { ...c };
  }

  /** Skips planned steps not reached and sends the verdict. */
  verdict(outcome: RunOutcome, summary: string, code?: DiagnosisCode, details: Partial<FlowVerdictDetails> = {}): FlowResult {
    this.rec.skipUnreached('not reached');
    const v = this.start('verdict', 'verdict', outcome === 'pass' ? 'Verdict: pass' : 'Verdict: fail');
    const warnings = this.rec.diagnoses().filter((d) => this.#statusOf(d.code) === 'warn').map((d) => d.code);
    v.finish(outcome === 'pass' ? (warnings.length ? 'warn' : 'ok') : 'fail', {
      summary: outcome === 'pass' && warnings.length ? `${summary} (with warnings: ${warnings.join(', ')})` : summary,
      details: { ...(code ? { diagnosis: code } : {}), ...details, reproduce: { curl: this.#curls }, totalMs: this.rec.elapsed() },
    });
    return { outcome, diagnoses: this.rec.diagnoses().map((d) => d.code), durationMs: this.rec.elapsed(), steps: this.rec.steps() };
  }

  #statusOf(code: string): StepStatus | undefined {
    return this.rec.steps().find((s) => s.diagnosis?.code === code)?.status;
  }

  cancelled(): FlowResult {
    this.rec.skipRunning('cancelled');
    return { outcome: 'error', diagnoses: this.rec.diagnoses().map((d) => d.code), durationMs: this.rec.elapsed(), steps: this.rec.steps() };
  }
}

