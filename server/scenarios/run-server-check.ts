// A `server-check` scenario run: the mTLS, JWT or resource check the file describes, with every
// event (check.started, check.step, check.case, check.finished) redacted and scrubbed of the
// scenario's secrets. The run passes when the grade is at least the one the file requires; its
// diagnoses are the cases not enforced, so `expect` and the multi-file summary read as for a
// probe or a flow. A field the check cannot use is a ScenarioError naming it in the file.
import type { ServerMessage } from '../../shared/protocol/index.ts';
import type { Grade } from '../../shared/check/cases.ts';
import type { CheckCaseInfo, CheckCaseResult, CheckReport } from '../../shared/check/messages.ts';
import { CheckInputError } from '../../shared/check/request.ts';
import { cleanDeep, redactUrl, secretValues } from '../../shared/redact.ts';
import type { Step } from '../../shared/protocol/index.ts';
import type { Limits } from '../defaults.ts';
import type { RunningLab } from '../lab/lab.ts';
import { runCheck } from '../check/run-check.ts';
import { runJwtCheck } from '../check/jwt-check.ts';
import { runResourceCheck } from '../check/resource-check.ts';
import { meetsGrade, type CheckMode } from '../commands/check-output.ts';
import { ScenarioError, type ResolvedServerCheck } from './scenario.ts';

/** Events of a check run from a scenario carry this check id (one check per scenario run). */
const SCENARIO_CHECK_ID = 'cli';

export interface ServerCheckOutcome {
  outcome: 'pass' | 'fail' | 'error';
  /** The cases not enforced, in the catalogue's order. */
  diagnoses: string[];
  durationMs: number;
  check: { mode: CheckMode; require: Grade; report: CheckReport };
}

/** Whatever the request carries that must not come back in an event. */
function requestSecrets(c: ResolvedServerCheck): string[] {
  const r = c.request as unknown as Record<string, unknown>;
  const pems: unknown[] = c.mode === 'mtls'
    ? [c.request.ca?.rootPrivateKeyPem, c.request.ca?.intermediatePrivateKeyPem, ...(c.request.custom ?? []).map((x) => x.privateKeyPem)]
    : c.mode === 'jwt' ? [c.request.privateKeyPem] : [c.request.client?.privateKeyPem];
  const extra = [r.clientSecret, r.accessToken].filter((v): v is string => typeof v === 'string' && v !== '');
  return secretValues({ privateKeyPems: pems.filter((p): p is string => typeof p === 'string'), extra });
}

function targetOf(c: ResolvedServerCheck): string {
  const url = c.mode === 'jwt' ? c.request.tokenUrl : c.request.url;
  return typeof url === 'string' ? redactUrl(url) : '';
}

export async function runServerCheck(resolved: { check: ResolvedServerCheck; require: Grade; secrets: string[] }, opts: { limits: Limits; lab: RunningLab | null; onEvent(msg: ServerMessage): void }): Promise<ServerCheckOutcome> {
  const { check, require } = resolved;
  const secrets = [...resolved.secrets, ...requestSecrets(check)];
  const clean = <T>(v: T): T => cleanDeep(v, secrets);
  const checkId = SCENARIO_CHECK_ID;
  const labTrust = opts.lab?.trust;
  const ctx = {
    limits: opts.limits,
    onStarted: (cases: CheckCaseInfo[]) => opts.onEvent(clean({ type: 'check.started', id: checkId, checkId, target: targetOf(check), cases })),
    onStep: (caseId: string, step: Step) => opts.onEvent(clean({ type: 'check.step', checkId, caseId, step })),
    onCase: (result: CheckCaseResult) => opts.onEvent(clean({ type: 'check.case', checkId, caseId: result.caseId, result })),
  };
  let report: CheckReport;
  try {
    if (check.mode === 'mtls') report = await runCheck(check.request, { ...ctx, ...(labTrust ? { lab: labTrust } : {}) });
    else if (check.mode === 'jwt') report = await runJwtCheck(check.request, { ...ctx, lab: opts.lab });
    else report = await runResourceCheck(check.request, { ...ctx, ...(labTrust ? { lab: labTrust } : {}) });
  } catch (err) {
    // The engines check every field before anything is minted or sent; the message starts with the field.
    if (err instanceof CheckInputError) throw new ScenarioError(`server-check.${check.mode}.${err.message}`);
    throw err;
  }
  report = clean(report);
  opts.onEvent({ type: 'check.finished', checkId, report });
  return {
    outcome: report.grade === null ? 'error' : meetsGrade(report.grade, require) ? 'pass' : 'fail',
    diagnoses: report.cases.filter((c) => c.verdict === 'not_enforced').map((c) => c.caseId),
    durationMs: report.durationMs,
    check: { mode: check.mode, require, report },
  };
}
