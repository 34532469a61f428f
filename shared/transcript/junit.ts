// JUnit XML for CI: one <testcase> per scenario run (a server check: one per case, and one for
// its grade), so a pipeline shows which integration broke and why. A run fails its test case when it did not end as its scenario expected (or, with
// no expectation, when it did not pass); a run that could not finish is an <error>.
import type { Step } from '../protocol/index.ts';
import { readRun } from './transcript.ts';
import type { ReportEntry } from './report-html.ts';

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes text for XML and drops the characters XML 1.0 cannot hold at all. */
function escapeXml(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '').replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

const seconds = (ms: number | undefined) => ((ms ?? 0) / 1000).toFixed(3);

function stepLine(s: Step): string {
  return `${s.status.padEnd(7)} ${s.title}${s.summary ? ` — ${s.summary}` : ''}${s.durationMs !== undefined ? ` (${Math.round(s.durationMs)} ms)` : ''}`;
}

export function renderJunit(entries: ReportEntry[], opts: { suiteName?: string; timestamp?: Date } = {}): string {
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  let total = 0;
  const cases = entries.map(({ transcript, expectation, group }) => {
    const run = readRun(transcript);
    total += run.durationMs ?? 0;
    const steps = run.steps.map(stepLine).join('\n');
    const failing = run.steps.find((s) => s.status === 'fail' && s.diagnosis);
    const detail = failing?.diagnosis ? `${failing.diagnosis.code}: ${failing.diagnosis.summary}\nFix on your side: ${failing.diagnosis.fix.client}\nFix on the server: ${failing.diagnosis.fix.server}\n\n${steps}` : steps;
    let verdict = '';
    // A server check's inconclusive case is skipped even when its run could not finish (a key
    // this OpenSSL will not send): the check's judgement, not the run's end, is the result.
    if (expectation?.undecided) {
      skipped += 1;
      verdict = `<skipped message="${escapeXml(expectation.message)}"/>`;
    } else if (run.outcome === 'error' || run.outcome === 'unfinished') {
      errors += 1;
      verdict = `<error message="${escapeXml(`run ${run.outcome === 'error' ? 'could not finish' : 'has no end'}${run.diagnoses.length ? `: ${run.diagnoses.join(', ')}` : ''}`)}" type="${escapeXml(run.diagnoses[0] ?? run.outcome)}">${escapeXml(detail)}</error>`;
    } else if (expectation ? !expectation.met : run.outcome !== 'pass') {
      failures += 1;
      const message = expectation ? `expectation not met: ${expectation.message}` : `run failed: ${run.diagnoses.join(', ') || 'no diagnosis'}`;
      verdict = `<failure message="${escapeXml(message)}" type="${escapeXml(run.diagnoses[0] ?? 'fail')}">${escapeXml(detail)}</failure>`;
    }
    return `    <testcase classname="${escapeXml(group ?? `harness.${run.kind}`)}" name="${escapeXml(transcript.name)}" time="${seconds(run.durationMs)}">
      ${verdict}
      <system-out>${escapeXml(`${run.kind} ${run.target}\n${steps}`)}</system-out>
    </testcase>`;
  });
  const name = escapeXml(opts.suiteName ?? 'mtls-harness');
  const ts = (opts.timestamp ?? new Date()).toISOString().replace(/\.\d{3}Z$/, '');
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="${name}" tests="${entries.length}" failures="${failures}" errors="${errors}" time="${seconds(total)}">
  <testsuite name="${name}" tests="${entries.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${seconds(total)}" timestamp="${ts}">
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}
