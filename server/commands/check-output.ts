// How a server check reads on a terminal, the same for `harness check` and for a `server-check`
// scenario of `harness run`: a line per case as it is judged, the fixes of the cases not
// enforced, the summary line a partner pastes into a ticket, and whether the grade is enough.
import { GRADES, type Grade } from '../../shared/check/cases.ts';
import type { CheckCaseResult, CheckReport } from '../../shared/check/messages.ts';

/** Which check printed it: the fix of an mTLS case names Apache and nginx directives. */
export type CheckMode = 'mtls' | 'jwt' | 'resource';

const VERDICT_WORD: Record<CheckCaseResult['verdict'], string> = { enforced: '✓ enforced    ', not_enforced: '✗ NOT ENFORCED', inconclusive: '? inconclusive' };
/** Width of the case id column: the longest id of each catalogue. */
const ID_WIDTH: Record<CheckMode, number> = { mtls: 25, jwt: 22, resource: 26 };

export function caseLine(mode: CheckMode, c: CheckCaseResult): string {
  return `${VERDICT_WORD[c.verdict]}  ${c.caseId.padEnd(ID_WIDTH[mode])} ${c.reason}\n`;
}

function fixLines(mode: CheckMode, c: CheckCaseResult): string {
  return mode === 'mtls' ? `${c.fix.text}\n  fix (Apache): ${c.fix.apache.join(' · ')}\n  fix (nginx):  ${c.fix.nginx.join(' · ')}` : c.fix.text;
}

/** After the cases: each case not enforced with its fix, then the summary. */
export function finishedText(mode: CheckMode, report: CheckReport): string {
  const fixes = report.cases.filter((x) => x.verdict === 'not_enforced').map((c) => `\n${c.caseId}: ${fixLines(mode, c)}\n`);
  return `${fixes.join('')}\n${report.summary}\n`;
}

/** A grade at least as good as the one required; no grade never is. */
export function meetsGrade(grade: Grade | null, require: Grade): boolean {
  return grade !== null && GRADES.indexOf(grade) <= GRADES.indexOf(require);
}

/** The check's events as `--json` prints them: without each case's timeline. */
export function withoutSteps<T extends CheckCaseResult>(c: T): Omit<T, 'steps'> & { steps: undefined } {
  return { ...c, steps: undefined };
}
