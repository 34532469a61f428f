// "Check my work": a lesson's check against the learner's own runs (the run history's
// transcripts). The verdict names the first condition the closest run did not meet, so a wrong
// answer says what is still wrong rather than only "not yet".
import type { LabTarget } from '../../../../shared/protocol/index.ts';
import type { TranscriptRun } from '../../../../shared/transcript/transcript.ts';
import type { EvidenceCondition, LessonCheck } from './format.ts';

export type Verdict =
  | { solved: true; runId: string; met: string[] }
  | { solved: false; unmet: string; met: string[]; runId: string | null };

/** The run's target as origin + path, without query or trailing slash. */
function normalize(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return url.replace(/[?#].*$/, '').replace(/\/+$/, '');
  }
}

/** The URL a check's target stands for; null when the lab does not have that target. */
export function resolveTarget(target: string, labTargets: readonly LabTarget[]): string | null {
  const m = /^lab:([a-z][a-z-]*)$/.exec(target);
  if (!m) return normalize(target);
  const t = labTargets.find((x) => x.id === m[1]);
  return t ? normalize(t.url) : null;
}

function valueAt(details: unknown, path: string): unknown {
  let v: unknown = details;
  for (const key of path.split('.')) {
    if (v === null || v === undefined) return undefined;
    if (typeof v === 'string' || Array.isArray(v)) {
      v = key === 'length' ? v.length : Array.isArray(v) && /^\d+$/.test(key) ? v[Number(key)] : undefined;
      continue;
    }
    if (typeof v !== 'object' || !Object.hasOwn(v, key)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function holds(c: EvidenceCondition, v: unknown): boolean {
  if (c.exists !== undefined) return (v !== undefined && v !== null) === c.exists;
  if (c.equals !== undefined) return v === c.equals;
  if (c.contains !== undefined) {
    const needle = c.contains.toLowerCase();
    if (typeof v === 'string') return v.toLowerCase().includes(needle);
    if (Array.isArray(v)) return v.some((x) => typeof x === 'string' && x.toLowerCase().includes(needle));
    if (v && typeof v === 'object') return Object.entries(v).some(([k, x]) => `${k}: ${String(x)}`.toLowerCase().includes(needle));
    return false;
  }
  if (c.atLeast !== undefined) {
    const n = typeof v === 'number' ? v : typeof v === 'string' || Array.isArray(v) ? v.length : NaN;
    return n >= c.atLeast;
  }
  return false;
}

function describeEvidence(c: EvidenceCondition): string {
  if (c.says) return c.says;
  const where = `${c.step ? `step ${c.step}: ` : ''}${c.path}`;
  if (c.exists !== undefined) return `${where} ${c.exists ? 'is present' : 'is absent'}`;
  if (c.equals !== undefined) return `${where} is ${JSON.stringify(c.equals)}`;
  if (c.contains !== undefined) return `${where} contains "${c.contains}"`;
  return `${where} is at least ${c.atLeast}`;
}

/** Each condition of a check, in the order they are judged, with a sentence for people. */
function conditions(check: LessonCheck): { says: string; test: (run: TranscriptRun) => boolean }[] {
  const list: { says: string; test: (run: TranscriptRun) => boolean }[] = [];
  if (check.outcome) list.push({ says: `the run's outcome is ${check.outcome}`, test: (r) => r.outcome === check.outcome });
  for (const code of check.diagnoses ?? []) list.push({ says: `the run noted ${code}`, test: (r) => r.diagnoses.includes(code) });
  for (const code of check.withoutDiagnoses ?? []) list.push({ says: `the run did not end with ${code}`, test: (r) => !r.diagnoses.includes(code) });
  for (const c of check.evidence ?? []) {
    list.push({
      says: describeEvidence(c),
      test: (r) => r.steps.some((s) => (!c.step || s.id === c.step) && holds(c, valueAt(s.details, c.path))),
    });
  }
  return list;
}

/**
 * Judges `check` against `runs` (newest first). Solved when one run of the kind and target meets
 * every condition; otherwise the closest run (most conditions met, newest on a tie) names the
 * first condition it missed.
 */
export function judge(check: LessonCheck, runs: readonly TranscriptRun[], labTargets: readonly LabTarget[]): Verdict {
  const url = resolveTarget(check.target, labTargets);
  const what = `${check.kind === 'probe' ? 'a probe' : 'a token flow'} of ${check.target}`;
  if (url === null) return { solved: false, runId: null, met: [], unmet: `the lab on this relay has no target ${check.target}: start the relay with its lab` };
  const mine = runs.filter((r) => r.kind === check.kind && normalize(r.target) === url && r.outcome !== 'unfinished');
  if (!mine.length) {
    // Runs elsewhere are the usual near miss (the broken tenant, another URL): say where they went.
    const other = runs.find((r) => r.kind === check.kind && r.outcome !== 'unfinished');
    const went = other ? ` (your last ${check.kind === 'probe' ? 'probe' : 'token flow'} went to ${normalize(other.target)})` : ': set it up, then press Run';
    return { solved: false, runId: null, met: [], unmet: `no finished run of ${what} since the lesson was set up${went}` };
  }
  const list = conditions(check);
  let best: { run: TranscriptRun; met: string[]; unmet: string } | null = null;
  for (const run of mine) {
    const met: string[] = [];
    let unmet: string | null = null;
    for (const c of list) {
      if (c.test(run)) met.push(c.says);
      else unmet ??= c.says;
    }
    const base = [`${what} was run`, ...met];
    if (unmet === null) return { solved: true, runId: run.runId, met: base };
    if (!best || base.length > best.met.length) best = { run, met: base, unmet };
  }
  return { solved: false, runId: best!.run.runId, met: best!.met, unmet: best!.unmet };
}
