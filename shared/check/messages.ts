// The server check's part of the protocol (the messages themselves are in shared/protocol/):
//   client → relay  { type: 'check.start', id, kind?: 'mtls', check: MtlsCheckRequest }
//                   { type: 'check.start', id, kind: 'jwt', jwt: SignedJwtCheckRequest } (the
//                   JWT check: assertions signed in the browser, jwt-plan.ts; no key) and
//                   { type: 'check.start', id, kind: 'resource', resource: ResourceCheckRequest }
//                   (its API half), the same events back with the case ids of their catalogues.
//   relay → client  { type: 'check.started', id, checkId, target, cases: CheckCaseInfo[] }
//                   then per case: run.started (kind 'probe', with caseId) · step… · run.finished
//                   carried as { type: 'check.step', checkId, caseId, step }
//                   and { type: 'check.case', checkId, caseId, result: CheckCaseResult }
//                   then { type: 'check.finished', checkId, report: CheckReport }
//   cancelling: { type: 'run.cancel', id, runId: checkId } cancels every case still running.
// Nothing private travels back: case certificates are public; their keys stay in the relay. The
// JWT check's key and client secret, its assertions and the access token are scrubbed from every
// step; a case shows its assertion's header and claims only.
import type { Step } from '../protocol/evidence.ts';
import type { Expectation, Grade } from './cases.ts';
import type { CaseVerdict, Observed } from './judge.ts';
import type { CaseFix } from './install.ts';
import type { GradeCap } from './grade.ts';

export interface CheckCaseInfo {
  caseId: string;
  title: string;
  expect: Expectation;
  /** Subject and issuer of the certificate the case sends (none for no_certificate). */
  certificate: { subject: string; issuer: string; serialNumber: string; chainLength: number } | null;
  /** JWT check: the header and claims of the assertion the case sends (never its signature). */
  assertion?: { header: Record<string, unknown>; claims: Record<string, unknown> };
}

export interface CheckCaseResult extends CheckCaseInfo {
  verdict: CaseVerdict;
  observed: Observed;
  reason: string;
  evidence: string[];
  fix: CaseFix;
  /** The probe's outcome and diagnoses; absent when the case was judged without a run. */
  outcome?: 'pass' | 'fail' | 'error';
  diagnoses?: string[];
  durationMs: number;
  /** The case's full timeline (final state of each step). */
  steps: Step[];
}

export interface CheckReport {
  target: string;
  grade: Grade | null;
  caps: GradeCap[];
  summary: string;
  cases: CheckCaseResult[];
  durationMs: number;
}

/** What to install on the server for a test CA: the CA and CRL files and both snippets. */
export interface CheckInstallKit {
  files: { name: string; pem: string; what: string }[];
  apache: string;
  nginx: string;
  notes: string[];
}
