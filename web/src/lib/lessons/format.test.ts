// The lesson format: every shipped lesson reads, and a broken file is refused naming its field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LESSON_LIMITS, LessonError, parseLesson, readCatalogue } from './format.ts';

const DIR = join(import.meta.dirname, 'catalogue');
const FILES = Object.fromEntries(readdirSync(DIR).filter((f) => f.endsWith('.json')).map((f) => [f, readFileSync(join(DIR, f), 'utf8')]));
const GOOD = JSON.parse(FILES['01-no-client-certificate.json']!) as Record<string, unknown>;

test('every lesson in the catalogue reads, with unique ids, and there are at least 10', () => {
  const { lessons, problems } = readCatalogue(FILES);
  assert.deepEqual(problems, []);
  assert.ok(lessons.length >= 10, `${lessons.length} lessons`);
  assert.equal(new Set(lessons.map((l) => l.id)).size, lessons.length);
  for (const l of lessons) assert.ok(l.hints.length >= 2 && l.solution.steps.length >= 1, l.id);
});

/** A copy of the good lesson with one change at `path` (dots; `undefined` deletes). */
function changed(path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(GOOD);
  const keys = path.split('.');
  let o = copy as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
  if (value === undefined) delete o[keys.at(-1)!];
  else o[keys.at(-1)!] = value;
  return copy;
}

const BAD: [string, unknown, string, RegExp][] = [
  ['version', 2, 'version', /must be 1/],
  ['id', 'Has Spaces', 'id', /lower-case/],
  ['title', undefined, 'title', /non-empty string/],
  ['story', 42, 'story', /non-empty string/],
  ['hints', [], 'hints', /at least 1/],
  ['hints', ['ok', 7], 'hints[1]', /non-empty string/],
  ['hints', Array(LESSON_LIMITS.items + 1).fill('h'), 'hints', /more than/],
  ['task', 'x'.repeat(LESSON_LIMITS.text + 1), 'task', /longer than/],
  ['setup.screen', 'keys', 'setup.screen', /one of probe, flows/],
  ['setup.scenario', 'lab:mtls', 'setup.scenario', /object/],
  ['setup.scenario.kind', 'flow', 'setup.screen', /flow scenario opens on the flows screen/],
  ['setup.credential', { kind: 'stolen', commonName: 'x' }, 'setup.credential.kind', /lab-signed, self-signed/],
  ['setup.credential', { kind: 'lab-signed', commonName: 'x', profile: 'root-ca' }, 'setup.credential.profile', /one of client, intermediate, intermediate-no-chain, expired, regional, revoked/],
  ['setup.credential', { kind: 'self-signed', commonName: 'x', profile: 'expired' }, 'setup.credential.profile', /lab-signed certificates only/],
  ['setup.jwtClockOffsetSec', 60, 'setup.jwtClockOffsetSec', /token-flow JWTs only/],
  ['setup.extra', true, 'setup.extra', /not a field/],
  ['solution.steps', 'do it', 'solution.steps', /array of strings/],
  ['solution.setup', undefined, 'solution.setup', /object/],
  ['check.kind', 'inbound', 'check.kind', /probe, flow/],
  ['check.target', 'mtls', 'check.target', /lab:<target id>/],
  ['check.outcome', 'passed', 'check.outcome', /pass, fail, error/],
  ['check.diagnoses', ['no_such_code'], 'check.diagnoses[0]', /not a diagnosis code/],
  ['check.withoutDiagnoses', ['constructor'], 'check.withoutDiagnoses[0]', /not a diagnosis code/],
  ['check.evidence', [{ path: 'a..b', exists: true }], 'check.evidence[0].path', /names joined by dots/],
  ['check.evidence', [{ path: 'a', exists: true, equals: 1 }], 'check.evidence[0]', /exactly one of/],
  ['check.evidence', [{ path: 'a', atLeast: '2' }], 'check.evidence[0].atLeast', /number/],
  ['check.evidence', [{ path: 'a', equals: {} }], 'check.evidence[0].equals', /string, number or boolean/],
];

for (const [path, value, field, message] of BAD) {
  test(`a lesson with a bad ${path} is refused naming ${field}`, () => {
    assert.throws(() => parseLesson(changed(path, value)), (err: unknown) => {
      assert.ok(err instanceof LessonError, String(err));
      assert.equal(err.field, field);
      assert.match(err.message, message);
      assert.ok(err.message.startsWith(`${field}: `), err.message);
      return true;
    });
  });
}

test('text that is not JSON, or too long, is refused as a whole with the parser\'s reason', () => {
  assert.throws(() => parseLesson('{"version": 1,'), (err: unknown) => err instanceof LessonError && err.field === '' && /^not JSON: /.test(err.message));
  assert.throws(() => parseLesson(' '.repeat(LESSON_LIMITS.fileChars + 1)), /longer than/);
  assert.throws(() => parseLesson('[]'), /must be an object/);
});

test('a catalogue keeps the good lessons and lists each bad file with its field', () => {
  const { lessons, problems } = readCatalogue({
    'a.json': JSON.stringify(GOOD),
    'b.json': JSON.stringify(changed('check.target', 'nowhere')),
    'c.json': JSON.stringify(GOOD),
  });
  assert.equal(lessons.length, 1);
  assert.deepEqual(problems.map((p) => p.file), ['b.json', 'c.json']);
  assert.match(problems[0]!.message, /^check\.target: /);
  assert.match(problems[1]!.message, /^id: "no-client-certificate" is already the id/);
});

test('the setup\'s scenario is read by the scenario reader, whose field is named under setup.scenario', () => {
  assert.throws(() => parseLesson(changed('setup.scenario.secrets', { key: { vault: 'x' } })), /^LessonError: setup\.scenario: secrets\.key\.vault is not a secret source/);
  assert.throws(() => parseLesson(changed('solution.setup.scenario.probe', 'lab:mtls')), /^LessonError: solution\.setup\.scenario: probe must be an object/);
});
