// Every evidence path a lesson's check reads names fields the step evidence really has
// (shared/protocol/evidence.ts): a path with a typo, or one left behind when a field is renamed,
// would make a lesson impossible to solve while its text still reads well.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allEvidenceFields, evidenceFromTypes, type Evidence } from '../../../../shared/testing/evidence-fields.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCatalogue, type Lesson } from './format.ts';

const DIR = join(import.meta.dirname, 'catalogue');
const CATALOGUE = readCatalogue(Object.fromEntries(readdirSync(DIR).filter((f) => f.endsWith('.json')).map((f) => [f, readFileSync(join(DIR, f), 'utf8')])));
const HEADINGS = { probe: 'Probe steps', flow: 'Token flow steps' } as const;

/** `lesson: path` for each evidence path whose fields the evidence of its kind (and step) lacks. */
function unknownPaths(lessons: readonly Lesson[], evidence: Evidence): string[] {
  const anywhere = allEvidenceFields(evidence);
  const wrong: string[] = [];
  for (const lesson of lessons) {
    const phases = evidence.phases.get(HEADINGS[lesson.check.kind])!;
    for (const c of lesson.check.evidence ?? []) {
      // A step id that is a phase of this kind reads that phase's details; another (a flow's
      // `refresh`, say) may be any of the kind's phases.
      const first = c.step && phases.has(c.step) ? phases.get(c.step)! : new Set([...phases.values()].flatMap((f) => [...f]));
      const [head, ...rest] = c.path.split('.');
      const ok = first.has(head!) && rest.every((key) => key === 'length' || /^\d+$/.test(key) || anywhere.has(key));
      if (!ok) wrong.push(`${lesson.id}: ${c.step ? `${c.step} ` : ''}${c.path}`);
    }
  }
  return wrong;
}

const evidence = evidenceFromTypes();

test('every evidence path of the shipped lessons names fields the evidence types have', () => {
  assert.deepEqual(CATALOGUE.problems, []);
  const paths = CATALOGUE.lessons.flatMap((l) => l.check.evidence ?? []);
  assert.ok(paths.length >= 10, `${paths.length} evidence paths`);
  assert.deepEqual(unknownPaths(CATALOGUE.lessons, evidence), []);
});

test('a misspelt or misplaced path is caught', () => {
  const lesson = CATALOGUE.lessons.find((l) => l.check.kind === 'probe' && l.check.evidence?.some((c) => c.path.startsWith('clientCertificate.')))!;
  assert.ok(lesson, 'a probe lesson reads clientCertificate');
  const variant = (step: string | undefined, path: string): Lesson => ({ ...lesson, check: { ...lesson.check, evidence: [{ ...(step ? { step } : {}), path, exists: true }] } });
  assert.deepEqual(unknownPaths([variant('tls', 'clientCertificate.subjct')], evidence), [`${lesson.id}: tls clientCertificate.subjct`]);
  assert.deepEqual(unknownPaths([variant('dns', 'clientCertificate.subject')], evidence), [`${lesson.id}: dns clientCertificate.subject`]);
  assert.deepEqual(unknownPaths([variant(undefined, 'nosuchfield')], evidence), [`${lesson.id}: nosuchfield`]);
});
