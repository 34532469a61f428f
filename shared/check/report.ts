// A server check as a report people read without the app: each case becomes a transcript of
// its probe (or, for the JWT check, its token flow), judged by the case's verdict, in the same
// HTML report as any run (no scripts). As report entries, the same cases join the runs of
// `harness run` (HTML report, JUnit: one test case per check case and one for the grade).
import type { RunEvent } from '../protocol/index.ts';
import { makeTranscript, type Transcript, type TranscriptEnvironment } from '../transcript/transcript.ts';
import { renderHtmlReport, type ReportEntry } from '../transcript/report-html.ts';
import { GRADES, type Grade } from './cases.ts';
import type { CheckCaseResult, CheckReport } from './messages.ts';

interface TranscriptOptions {
  environment: TranscriptEnvironment;
  recordedBy: 'cli' | 'app';
  kind: 'probe' | 'flow';
  /** The transcript's name; default "caseId: title". */
  name?: string;
  startedAt?: Date;
  /** The scenario that runs the check again, without secret values. */
  scenario?: unknown;
}

function caseTranscript(report: CheckReport, c: CheckCaseResult, o: TranscriptOptions): Transcript {
  const runId = c.caseId;
  const events: RunEvent[] = [
    { type: 'run.started', id: runId, runId, kind: o.kind, target: report.target },
    ...c.steps.map((step) => ({ type: 'step' as const, runId, step })),
    { type: 'run.finished', runId, outcome: c.outcome ?? 'error', diagnoses: c.diagnoses ?? [], durationMs: c.durationMs },
  ];
  return makeTranscript({
    name: o.name ?? `${c.caseId}: ${c.title}`, recordedBy: o.recordedBy, startedAt: o.startedAt ?? new Date(), environment: o.environment,
    events: events.map((event, i) => ({ t: i, event })), ...(o.scenario !== undefined ? { scenario: o.scenario } : {}),
  });
}

export function checkReportHtml(report: CheckReport, environment: TranscriptEnvironment, recordedBy: 'cli' | 'app', kind: 'probe' | 'flow' = 'probe'): string {
  return renderHtmlReport(
    report.cases.map((c) => ({ transcript: caseTranscript(report, c, { environment, recordedBy, kind }), expectation: { met: c.verdict === 'enforced', message: `${c.verdict.replace('_', ' ')}: ${c.reason}` } })),
    { title: `Server check: ${report.grade ? `grade ${report.grade}` : 'no grade'} — ${report.target}` },
  );
}

interface CheckEntriesOptions extends Omit<TranscriptOptions, 'name'> {
  /** The scenario's name: each entry is named "caseId — name", the grade "grade — name". */
  name: string;
  require: Grade;
  /**
   * With `harness run --check` and an `expect.diagnoses` list: the cases the file expects not
   * enforced. A case then meets its expectation when it is not enforced exactly if listed.
   */
  expectedNotEnforced?: readonly string[];
}

/**
 * The check as report entries: one per case (met when enforced, or as `expectedNotEnforced`
 * says; undecided when inconclusive), then one for the grade against the grade required, whose
 * transcript holds no steps, only the outcome and the cases not enforced.
 */
export function checkReportEntries(report: CheckReport, o: CheckEntriesOptions): ReportEntry[] {
  const group = `harness.server-check.${o.name}`;
  const t0 = (o.startedAt ?? new Date()).getTime();
  const cases = report.cases.map((c): ReportEntry => {
    const notEnforced = c.verdict === 'not_enforced';
    const met = o.expectedNotEnforced ? notEnforced === o.expectedNotEnforced.includes(c.caseId) && c.verdict !== 'inconclusive' : c.verdict === 'enforced';
    return {
      // The case id first: transcripts written to a folder are named by the start of their name.
      transcript: caseTranscript(report, c, { ...o, name: `${c.caseId} — ${o.name}`, startedAt: new Date(t0) }),
      expectation: { met, message: `${c.verdict.replace('_', ' ')}: ${c.reason}`, ...(c.verdict === 'inconclusive' ? { undecided: true } : {}) },
      group,
    };
  });
  const ok = report.grade !== null && GRADES.indexOf(report.grade) <= GRADES.indexOf(o.require);
  const notEnforced = report.cases.filter((c) => c.verdict === 'not_enforced').map((c) => c.caseId);
  const runId = 'grade';
  const gradeTranscript = makeTranscript({
    name: `grade — ${o.name}`, recordedBy: o.recordedBy, startedAt: new Date(t0), environment: o.environment,
    events: [
      { t: 0, event: { type: 'run.started', id: runId, runId, kind: o.kind, target: report.target } },
      { t: report.durationMs, event: { type: 'run.finished', runId, outcome: report.grade === null ? 'error' : ok ? 'pass' : 'fail', diagnoses: notEnforced, durationMs: report.durationMs } },
    ],
    ...(o.scenario !== undefined ? { scenario: o.scenario } : {}),
  });
  return [...cases, { transcript: gradeTranscript, expectation: { met: ok, message: `${report.summary} (required: ${o.require})` }, group }];
}
