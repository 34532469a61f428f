// The grade of a server check, mTLS or JWT (same rules, each with its catalogue). Rules
// (docs/server-check.md):
// - Start at A. Each case not enforced caps the grade at its capIfNotEnforced; each
//   inconclusive case at its capIfInconclusive. The grade is the lowest cap.
// - The valid certificate refused: F (nothing else can be told apart from a broken setup).
// - The valid certificate neither accepted nor refused (timeout, server certificate untrusted,
//   404…): no grade; the summary says why.
import { caseEntry, GRADES, type CustomCase, type Grade } from './cases.ts';
import { jwtCaseEntry, resourceCaseEntry } from './jwt-cases.ts';
import type { CaseVerdict } from './judge.ts';

export interface JudgedCase {
  id: string;
  verdict: CaseVerdict;
  reason: string;
}

export interface GradeCap {
  caseId: string;
  grade: Grade;
  why: string;
}

interface CheckGrade {
  /** null: the valid certificate did not get through for a reason outside the check. */
  grade: Grade | null;
  caps: GradeCap[];
  counts: Record<CaseVerdict, number>;
  /** One line a partner can paste into a ticket. */
  summary: string;
}

/** What grading needs from a catalogue: the caps and the words of the summary. */
interface GradeCatalogue {
  /** Head of the summary line, e.g. "mTLS server check". */
  label: string;
  /** What the `valid` case sends, e.g. "certificate". */
  validNoun: string;
  entry(id: string): { capIfNotEnforced: Grade; capIfInconclusive: Grade; weakness: string } | undefined;
}

const mtlsCatalogue = (custom: readonly CustomCase[] = []): GradeCatalogue => ({ label: 'mTLS server check', validNoun: 'certificate', entry: (id) => caseEntry(id, custom) });
export const JWT_CATALOGUE: GradeCatalogue = { label: 'JWT check', validNoun: 'assertion', entry: jwtCaseEntry };
export const RESOURCE_CATALOGUE: GradeCatalogue = { label: 'Resource check', validNoun: 'access token', entry: resourceCaseEntry };

function lower(a: Grade, b: Grade): Grade {
  return GRADES.indexOf(a) >= GRADES.indexOf(b) ? a : b;
}

export function gradeCheck(target: string, cases: readonly JudgedCase[], custom: readonly CustomCase[] = [], catalogue: GradeCatalogue = mtlsCatalogue(custom)): CheckGrade {
  const counts: Record<CaseVerdict, number> = { enforced: 0, not_enforced: 0, inconclusive: 0 };
  const caps: GradeCap[] = [];
  for (const c of cases) {
    counts[c.verdict]++;
    const entry = catalogue.entry(c.id);
    if (!entry || c.verdict === 'enforced') continue;
    caps.push(c.verdict === 'not_enforced'
      ? { caseId: c.id, grade: entry.capIfNotEnforced, why: entry.weakness }
      : { caseId: c.id, grade: entry.capIfInconclusive, why: `not proven: ${c.reason}` });
  }
  const valid = cases.find((c) => c.id === 'valid');
  let grade: Grade | null = caps.reduce<Grade>((g, cap) => lower(g, cap.grade), 'A');
  if (valid?.verdict === 'inconclusive') grade = null;
  const total = cases.length;
  const notEnforced = caps.filter((c) => cases.find((x) => x.id === c.caseId)?.verdict === 'not_enforced');
  const open = cases.filter((c) => c.verdict === 'inconclusive').map((c) => c.id);
  const head = grade === null
    ? `${catalogue.label} of ${target}: no grade — the valid ${catalogue.validNoun} did not get through (${valid!.reason})`
    : `${catalogue.label} of ${target}: grade ${grade} — ${counts.enforced}/${total} cases as required`;
  const parts = [head];
  if (notEnforced.length) parts.push(`NOT enforced: ${notEnforced.map((c) => `${c.caseId} (${c.why})`).join('; ')}`);
  if (open.length && grade !== null) parts.push(`inconclusive: ${open.join(', ')}`);
  return { grade, caps, counts, summary: parts.join('; ') };
}
