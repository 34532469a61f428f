// A server check as a report people read without the app: each case becomes a transcript of
// its probe (or, for the JWT check, its token flow), judged by the case's verdict, in the same
// HTML report as any run (no scripts).
import type { RunEvent } from '../protocol.ts';
import { makeTranscript, type TranscriptEnvironment } from '../transcript/transcript.ts';
import { renderHtmlReport } from '../transcript/report-html.ts';
import type { CheckCaseResult, CheckReport } from './messages.ts';

function caseTranscript(report: CheckReport, c: CheckCaseResult, environment: TranscriptEnvironment, recordedBy: 'cli' | 'app', kind: 'probe' | 'flow') {
  const runId = c.caseId;
  const events: RunEvent[] = [
    { type: 'run.started', id: runId, runId, kind, target: report.target },
    ...c.steps.map((step) => ({ type: 'step' as const, runId, step })),
    { type: 'run.finished', runId, outcome: c.outcome ?? 'error', diagnoses: c.diagnoses ?? [], durationMs: c.durationMs },
  ];
  return makeTranscript({ name: `${c.caseId}: ${c.title}`, recordedBy, startedAt: new Date(), environment, events: events.map((event, i) => ({ t: i, event })) });
}

export function checkReportHtml(report: CheckReport, environment: TranscriptEnvironment, recordedBy: 'cli' | 'app', kind: 'probe' | 'flow' = 'probe'): string {
  return renderHtmlReport(
    report.cases.map((c) => ({ transcript: caseTranscript(report, c, environment, recordedBy, kind), expectation: { met: c.verdict === 'enforced', message: `${c.verdict.replace('_', ' ')}: ${c.reason}` } })),
    { title: `Server check: ${report.grade ? `grade ${report.grade}` : 'no grade'} — ${report.target}` },
  );
}
