// The lesson format (docs/lessons.md): one JSON file per lesson, read and validated here so a
// trainer's typo is named by its field ("hints[2] must be a string") instead of breaking the
// screen. Pure: the loader, the unit tests and the Lessons screen share it.
import { isDiagnosisCode } from '../../../../shared/diagnoses.ts';
import { LAB_SIGN_PROFILES, type LabSignProfile } from '../../../../shared/protocol/index.ts';
import { parseScenario, ScenarioError, type Scenario } from '../../../../shared/flows/scenario.ts';

const LESSON_FORMAT_VERSION = 1;

/** Limits on a lesson file, so one bad file cannot flood the screen. */
export const LESSON_LIMITS = {
  fileChars: 64 * 1024, // characters of JSON per lesson file
  text: 4_000, // characters of one story, task, hint or solution step
  items: 12, // hints, solution steps, evidence conditions per lesson
} as const;

/** Screens a lesson can prepare: the probe form or a token-flow form. */
const SETUP_SCREENS = ['probe', 'flows'] as const;
type SetupScreen = (typeof SETUP_SCREENS)[number];

/**
 * A key the lesson makes in this browser before it fills the form: signed by the lab's client CA,
 * or self-signed (a certificate the lab does not trust).
 */
const CREDENTIAL_KINDS = ['lab-signed', 'self-signed'] as const;
type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

export interface LessonCredential {
  kind: CredentialKind;
  /** The certificate's common name; also the key's name in the key ring. */
  commonName: string;
  /** lab-signed only: how the lab issues it (LAB_SIGN_PROFILES: an intermediate, expired, the regional CA…); default `client`. */
  profile?: LabSignProfile;
}

/** What the lesson prepares when the learner (or the trainer) presses its button. */
export interface LessonSetup {
  screen: SetupScreen;
  /** A scenario as in examples/*.json (version, kind, probe or flow, secrets; name optional). */
  scenario: Scenario;
  /** Made in this browser and chosen as the client certificate; absent: none is chosen. */
  credential?: LessonCredential;
  /** JWT forms: sign with iat/nbf/exp shifted by this many seconds, as a wrong clock would. */
  jwtClockOffsetSec?: number;
}

const RUN_OUTCOMES = ['pass', 'fail', 'error'] as const;

/** One condition on a step's evidence: the value at `path` (dots; `length` works) of a step's details. */
export interface EvidenceCondition {
  /** Step id (inputs, tls, request, response, exchange, token, call…); absent: any step. */
  step?: string;
  path: string;
  equals?: string | number | boolean;
  contains?: string;
  /** A number at least this, or an array or string at least this long. */
  atLeast?: number;
  exists?: boolean;
  /** Said to the learner when this condition is not met. */
  says?: string;
}

/** Conditions one of the learner's runs (made since the lesson was set up) must all meet. */
export interface LessonCheck {
  kind: 'probe' | 'flow';
  /** `lab:<target id>` (see the relay's welcome) or a URL; query and trailing slash ignored. */
  target: string;
  outcome?: (typeof RUN_OUTCOMES)[number];
  /** Diagnosis codes the run must have noted. */
  diagnoses?: string[];
  /** Diagnosis codes the run must not have noted. */
  withoutDiagnoses?: string[];
  evidence?: EvidenceCondition[];
}

export interface Lesson {
  version: typeof LESSON_FORMAT_VERSION;
  id: string;
  title: string;
  /** The partner integration or failure mode it is built on, one line for the catalogue. */
  topic: string;
  story: string;
  task: string;
  hints: string[];
  setup: LessonSetup;
  solution: { steps: string[]; setup: LessonSetup };
  check: LessonCheck;
}

/** A lesson file that cannot be used; `field` names where, e.g. `check.evidence[0].path`. */
export class LessonError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'LessonError';
    this.field = field;
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const at = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);

function obj(v: unknown, path: string): Obj {
  if (!isObj(v)) throw new LessonError(path, 'must be an object');
  return v;
}

function text(o: Obj, key: string, path: string, max: number = LESSON_LIMITS.text): string {
  const v = o[key];
  const field = at(path, key);
  if (typeof v !== 'string' || !v.trim()) throw new LessonError(field, 'must be a non-empty string');
  if (v.length > max) throw new LessonError(field, `is longer than ${max} characters`);
  return v;
}

function texts(o: Obj, key: string, path: string, min: number): string[] {
  const v = o[key];
  const field = at(path, key);
  if (!Array.isArray(v)) throw new LessonError(field, 'must be an array of strings');
  if (v.length < min) throw new LessonError(field, `needs at least ${min} entr${min === 1 ? 'y' : 'ies'}`);
  if (v.length > LESSON_LIMITS.items) throw new LessonError(field, `has more than ${LESSON_LIMITS.items} entries`);
  return v.map((item, i) => {
    if (typeof item !== 'string' || !item.trim()) throw new LessonError(at(field, i), 'must be a non-empty string');
    if (item.length > LESSON_LIMITS.text) throw new LessonError(at(field, i), `is longer than ${LESSON_LIMITS.text} characters`);
    return item;
  });
}

function oneOf<T extends string>(o: Obj, key: string, path: string, allowed: readonly T[], optional = false): T | undefined {
  const v = o[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw new LessonError(at(path, key), `must be one of ${allowed.join(', ')}`);
  return v as T;
}

function onlyKeys(o: Obj, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new LessonError(at(path, k), `is not a field of this part (known: ${allowed.join(', ')})`);
}

function diagnosisCodes(o: Obj, key: string, path: string): string[] | undefined {
  if (o[key] === undefined) return undefined;
  const codes = texts(o, key, path, 0);
  codes.forEach((c, i) => {
    if (!isDiagnosisCode(c)) throw new LessonError(at(at(path, key), i), `"${c.slice(0, 60)}" is not a diagnosis code the harness knows`);
  });
  return codes;
}

function parseSetup(v: unknown, path: string): LessonSetup {
  const o = obj(v, path);
  onlyKeys(o, path, ['screen', 'scenario', 'credential', 'jwtClockOffsetSec']);
  const screen = oneOf(o, 'screen', path, SETUP_SCREENS)!;
  const scenario = obj(o.scenario, at(path, 'scenario'));
  const kind = scenario.kind;
  if (kind !== 'probe' && kind !== 'flow') throw new LessonError(at(path, 'scenario.kind'), 'must be probe or flow');
  if ((kind === 'probe') !== (screen === 'probe')) throw new LessonError(at(path, 'screen'), `a ${kind} scenario opens on the ${kind === 'probe' ? 'probe' : 'flows'} screen`);
  let parsed: Scenario;
  try {
    parsed = parseScenario(JSON.stringify({ version: 1, name: 'Lesson setup', ...scenario }));
  } catch (err) {
    // The scenario reader names its own field: "secrets.api_key must be …", "flow must be an object".
    if (err instanceof ScenarioError) throw new LessonError(at(path, 'scenario'), err.message);
    throw err;
  }
  const setup: LessonSetup = { screen, scenario: parsed };
  if (o.credential !== undefined) {
    const c = obj(o.credential, at(path, 'credential'));
    onlyKeys(c, at(path, 'credential'), ['kind', 'commonName', 'profile']);
    const commonName = text(c, 'commonName', at(path, 'credential'), 64);
    if (!/^[A-Za-z0-9 ._-]+$/.test(commonName)) throw new LessonError(at(path, 'credential.commonName'), 'may hold letters, digits, spaces and . _ - only');
    const kind = oneOf(c, 'kind', at(path, 'credential'), CREDENTIAL_KINDS)!;
    const profile = oneOf(c, 'profile', at(path, 'credential'), LAB_SIGN_PROFILES, true);
    if (profile !== undefined && kind !== 'lab-signed') throw new LessonError(at(path, 'credential.profile'), 'applies to lab-signed certificates only');
    setup.credential = profile === undefined ? { kind, commonName } : { kind, commonName, profile };
  }
  if (o.jwtClockOffsetSec !== undefined) {
    const n = o.jwtClockOffsetSec;
    if (typeof n !== 'number' || !Number.isInteger(n) || Math.abs(n) > 366 * 86_400) throw new LessonError(at(path, 'jwtClockOffsetSec'), 'must be a whole number of seconds within a year');
    if (screen !== 'flows') throw new LessonError(at(path, 'jwtClockOffsetSec'), 'applies to token-flow JWTs only (screen flows)');
    setup.jwtClockOffsetSec = n;
  }
  return setup;
}

function parseEvidence(v: unknown, path: string): EvidenceCondition {
  const o = obj(v, path);
  onlyKeys(o, path, ['step', 'path', 'equals', 'contains', 'atLeast', 'exists', 'says']);
  const c: EvidenceCondition = { path: text(o, 'path', path, 200) };
  if (!/^[A-Za-z0-9_#$-]+(\.[A-Za-z0-9_#$-]+)*$/.test(c.path)) throw new LessonError(at(path, 'path'), 'must be names joined by dots, e.g. clientCertificate.subject');
  if (o.step !== undefined) c.step = text(o, 'step', path, 64);
  if (o.says !== undefined) c.says = text(o, 'says', path);
  const tests = ['equals', 'contains', 'atLeast', 'exists'].filter((k) => o[k] !== undefined);
  if (tests.length !== 1) throw new LessonError(path, 'needs exactly one of equals, contains, atLeast, exists');
  if (o.equals !== undefined) {
    if (!['string', 'number', 'boolean'].includes(typeof o.equals)) throw new LessonError(at(path, 'equals'), 'must be a string, number or boolean');
    c.equals = o.equals as string | number | boolean;
  }
  if (o.contains !== undefined) c.contains = text(o, 'contains', path, 500);
  if (o.atLeast !== undefined) {
    if (typeof o.atLeast !== 'number' || !Number.isFinite(o.atLeast)) throw new LessonError(at(path, 'atLeast'), 'must be a number');
    c.atLeast = o.atLeast;
  }
  if (o.exists !== undefined) {
    if (typeof o.exists !== 'boolean') throw new LessonError(at(path, 'exists'), 'must be true or false');
    c.exists = o.exists;
  }
  return c;
}

function parseCheck(v: unknown, path: string): LessonCheck {
  const o = obj(v, path);
  onlyKeys(o, path, ['kind', 'target', 'outcome', 'diagnoses', 'withoutDiagnoses', 'evidence']);
  const check: LessonCheck = { kind: oneOf(o, 'kind', path, ['probe', 'flow'] as const)!, target: text(o, 'target', path, 2048) };
  if (!/^lab:[a-z][a-z-]*$/.test(check.target) && !/^https?:\/\//.test(check.target)) throw new LessonError(at(path, 'target'), 'must be lab:<target id> or an http(s) URL');
  const outcome = oneOf(o, 'outcome', path, RUN_OUTCOMES, true);
  if (outcome) check.outcome = outcome;
  const diagnoses = diagnosisCodes(o, 'diagnoses', path);
  if (diagnoses) check.diagnoses = diagnoses;
  const without = diagnosisCodes(o, 'withoutDiagnoses', path);
  if (without) check.withoutDiagnoses = without;
  if (o.evidence !== undefined) {
    if (!Array.isArray(o.evidence)) throw new LessonError(at(path, 'evidence'), 'must be an array of conditions');
    if (o.evidence.length > LESSON_LIMITS.items) throw new LessonError(at(path, 'evidence'), `has more than ${LESSON_LIMITS.items} conditions`);
    check.evidence = o.evidence.map((e, i) => parseEvidence(e, at(at(path, 'evidence'), i)));
  }
  return check;
}

/** Reads one lesson file; throws LessonError naming the first field that is wrong. */
export function parseLesson(input: string | unknown): Lesson {
  let v = input;
  if (typeof input === 'string') {
    if (input.length > LESSON_LIMITS.fileChars) throw new LessonError('', `the file is longer than ${LESSON_LIMITS.fileChars} characters`);
    try {
      v = JSON.parse(input);
    } catch (err) {
      throw new LessonError('', `not JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const o = obj(v, '');
  onlyKeys(o, '', ['version', 'id', 'title', 'topic', 'story', 'task', 'hints', 'setup', 'solution', 'check']);
  if (o.version !== LESSON_FORMAT_VERSION) throw new LessonError('version', `must be ${LESSON_FORMAT_VERSION}`);
  const id = text(o, 'id', '', 64);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) throw new LessonError('id', 'may hold lower-case letters, digits and - only');
  const solution = obj(o.solution, 'solution');
  onlyKeys(solution, 'solution', ['steps', 'setup']);
  return {
    version: LESSON_FORMAT_VERSION,
    id,
    title: text(o, 'title', '', 120),
    topic: text(o, 'topic', '', 200),
    story: text(o, 'story', ''),
    task: text(o, 'task', ''),
    hints: texts(o, 'hints', '', 1),
    setup: parseSetup(o.setup, 'setup'),
    solution: { steps: texts(solution, 'steps', 'solution', 1), setup: parseSetup(solution.setup, 'solution.setup') },
    check: parseCheck(o.check, 'check'),
  };
}

/** Every lesson of a catalogue, and each file that could not be read with its reason. */
export function readCatalogue(files: Record<string, string>): { lessons: Lesson[]; problems: { file: string; message: string }[] } {
  const lessons: Lesson[] = [];
  const problems: { file: string; message: string }[] = [];
  const seen = new Set<string>();
  for (const [file, content] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
    try {
      const lesson = parseLesson(content);
      if (seen.has(lesson.id)) throw new LessonError('id', `"${lesson.id}" is already the id of another lesson`);
      seen.add(lesson.id);
      lessons.push(lesson);
    } catch (err) {
      problems.push({ file: file.split('/').pop() ?? file, message: err instanceof Error ? err.message : String(err) });
    }
  }
  return { lessons, problems };
}
