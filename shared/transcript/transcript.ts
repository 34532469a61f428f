// The transcript: one finished run as a file that travels — attached to a ticket, opened in
// another browser, compared with a passing run, turned into a report. It holds every event as
// the relay sent it (already redacted), when each arrived, the scenario without its secrets, and
// where the run was made (harness, Node and OpenSSL versions, platform, the relay's clock).
// Format: docs/transcripts.md. Pure: the app and the CLI write and read it with this code.
import { EVIDENCE_VERSION, PROTOCOL_VERSION, type RunEvent, type RunKind, type RunOutcome, type Step } from '../protocol/index.ts';
import { MASK, redactDeep, scrubDeep } from '../redact.ts';
import { HarnessError } from '../errors.ts';

const TRANSCRIPT_FORMAT = 'mtls-harness-transcript';
export const TRANSCRIPT_VERSION = 1;

/** Largest transcript file read, in characters: a run's events are bounded far below this. */
export const MAX_TRANSCRIPT_CHARS = 16 * 1024 * 1024;
/** Most events one transcript may hold (a run sends tens; an inbound listener a few hundred). */
const MAX_TRANSCRIPT_EVENTS = 10_000;

export interface TranscriptEnvironment {
  /** The harness release that ran the relay. */
  harness: string;
  /** Node.js and OpenSSL versions of the process that made the connections. */
  node: string;
  openssl: string;
  /** e.g. "linux x64". */
  platform: string;
}

export interface TranscriptEvent {
  /** Milliseconds after the run started (run.started = 0) when the event arrived. */
  t: number;
  event: RunEvent;
}

export interface Transcript {
  format: typeof TRANSCRIPT_FORMAT;
  version: typeof TRANSCRIPT_VERSION;
  /** Version of the protocol the events follow (docs/protocol.md). */
  protocolVersion: number;
  /** Version of the step evidence in them (EVIDENCE_VERSION); absent in files written before it was recorded, which are version 1. */
  evidenceVersion?: number;
  /** A name for people: the scenario's name, or what the run targeted. */
  name: string;
  /** Who recorded it: `cli` (harness run / probe) or `app` (the browser). */
  recordedBy: 'cli' | 'app';
  /** The relay's clock when the run started (ISO 8601, UTC). */
  startedAt: string;
  /** Where the run was made. */
  environment: TranscriptEnvironment;
  /** The scenario that makes this run again, without secret values (sources only). */
  scenario?: unknown;
  events: TranscriptEvent[];
}

/** What a transcript says about its run, read from its events. */
export interface TranscriptRun {
  runId: string;
  kind: RunKind;
  target: string;
  /** Each step's last state, in the order steps first appeared. */
  steps: Step[];
  outcome: RunOutcome | 'unfinished';
  diagnoses: string[];
  durationMs: number | undefined;
}

export class TranscriptError extends HarnessError<'transcript_invalid'> {
  /** The field at fault, dotted ("events[3].event.type"), or "" for the file as a whole. */
  readonly field: string;
  constructor(field: string, message: string) {
    super('transcript_invalid', field ? `${field}: ${message}` : message);
    this.field = field;
  }
}

/**
 * A transcript from events as they arrived. Everything passes through the same redaction as
 * the relay's events, and `secrets` (values the run was given) are scrubbed once more, so a
 * transcript is safe to attach whatever its events held.
 */
export function makeTranscript(input: {
  name: string;
  recordedBy: 'cli' | 'app';
  startedAt: Date;
  environment: TranscriptEnvironment;
  scenario?: unknown;
  events: TranscriptEvent[];
  secrets?: readonly string[];
}): Transcript {
  const clean = <T>(v: T): T => scrubDeep(redactDeep(v), input.secrets ?? []);
  return {
    format: TRANSCRIPT_FORMAT,
    version: TRANSCRIPT_VERSION,
    protocolVersion: PROTOCOL_VERSION,
    evidenceVersion: EVIDENCE_VERSION,
    name: clean(input.name),
    recordedBy: input.recordedBy,
    startedAt: input.startedAt.toISOString(),
    environment: input.environment,
    ...(input.scenario === undefined ? {} : { scenario: clean(scenarioWithoutSecrets(input.scenario)) }),
    events: input.events.map((e) => ({ t: Math.max(0, Math.round(e.t * 10) / 10), event: clean(e.event) })),
  };
}

/**
 * A scenario with inline secret values replaced by a mask: the sources (`env`, `file`, `lab`,
 * `generate`) say where a secret comes from and stay, so the file still makes the run again.
 */
function scenarioWithoutSecrets(scenario: unknown): unknown {
  if (!isObj(scenario) || !isObj(scenario.secrets)) return scenario;
  const secrets: Record<string, unknown> = {};
  for (const [name, source] of Object.entries(scenario.secrets)) {
    secrets[name] = isObj(source) && 'value' in source ? { value: MASK } : source;
  }
  return { ...scenario, secrets };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const STATUSES = new Set(['running', 'ok', 'warn', 'fail', 'skipped']);
const OUTCOMES = new Set(['pass', 'fail', 'error']);
const KINDS = new Set(['probe', 'flow', 'inbound']);

function need(cond: unknown, field: string, message: string): asserts cond {
  if (!cond) throw new TranscriptError(field, message);
}

function checkStep(v: unknown, field: string): void {
  need(isObj(v), field, 'must be an object');
  for (const k of ['id', 'phase', 'title'] as const) need(typeof v[k] === 'string', `${field}.${k}`, 'must be a string');
  need(typeof v.status === 'string' && STATUSES.has(v.status), `${field}.status`, `must be one of ${[...STATUSES].join(', ')}`);
  need(typeof v.startMs === 'number', `${field}.startMs`, 'must be a number');
  need(v.durationMs === undefined || typeof v.durationMs === 'number', `${field}.durationMs`, 'must be a number');
  need(v.summary === undefined || typeof v.summary === 'string', `${field}.summary`, 'must be a string');
  need(v.details === undefined || isObj(v.details), `${field}.details`, 'must be an object');
  if (v.diagnosis !== undefined) {
    const d = v.diagnosis;
    need(isObj(d) && typeof d.code === 'string' && typeof d.summary === 'string', `${field}.diagnosis`, 'must have a code and a summary');
    need(Array.isArray(d.evidence) && d.evidence.every((e) => typeof e === 'string'), `${field}.diagnosis.evidence`, 'must be a list of strings');
    need(isObj(d.fix) && typeof d.fix.client === 'string' && typeof d.fix.server === 'string', `${field}.diagnosis.fix`, 'must have client and server');
  }
}

function checkEvent(v: unknown, field: string): void {
  need(isObj(v), field, 'must be an object');
  need(typeof v.runId === 'string', `${field}.runId`, 'must be a string');
  switch (v.type) {
    case 'run.started':
      need(typeof v.kind === 'string' && KINDS.has(v.kind), `${field}.kind`, `must be one of ${[...KINDS].join(', ')}`);
      need(typeof v.target === 'string', `${field}.target`, 'must be a string');
      return;
    case 'step':
      checkStep(v.step, `${field}.step`);
      return;
    case 'run.finished':
      need(typeof v.outcome === 'string' && OUTCOMES.has(v.outcome), `${field}.outcome`, `must be one of ${[...OUTCOMES].join(', ')}`);
      need(Array.isArray(v.diagnoses) && v.diagnoses.every((c) => typeof c === 'string'), `${field}.diagnoses`, 'must be a list of codes');
      need(typeof v.durationMs === 'number', `${field}.durationMs`, 'must be a number');
      return;
    default:
      throw new TranscriptError(`${field}.type`, `"${String(v.type)}" is not a run event (run.started, step, run.finished)`);
  }
}

/**
 * Reads a transcript file. Anything else — a scenario, a newer version, a truncated or foreign
 * file — is a TranscriptError naming the field or the version.
 */
export function parseTranscript(text: string): Transcript {
  if (text.length > MAX_TRANSCRIPT_CHARS) throw new TranscriptError('', `the file is larger than ${MAX_TRANSCRIPT_CHARS / 1024 / 1024} MiB; a transcript is far smaller`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new TranscriptError('', `not JSON (${(err as Error).message}); the file may be truncated`);
  }
  need(isObj(v), '', 'a transcript is a JSON object');
  if (v.format !== TRANSCRIPT_FORMAT) {
    if (v.kind === 'probe' || v.kind === 'flow' || v.kind === 'inbound') throw new TranscriptError('format', 'this is a scenario, not a transcript: open it as a scenario (or run it with harness run)');
    throw new TranscriptError('format', `must be "${TRANSCRIPT_FORMAT}"; this is not a transcript of this harness`);
  }
  need(typeof v.version === 'number' && Number.isInteger(v.version), 'version', 'must be a whole number');
  if (v.version > TRANSCRIPT_VERSION) throw new TranscriptError('version', `${v.version} is newer than this harness reads (${TRANSCRIPT_VERSION}); update the harness to open it`);
  need(v.version === TRANSCRIPT_VERSION, 'version', `${v.version} is not a transcript version (${TRANSCRIPT_VERSION})`);
  need(typeof v.protocolVersion === 'number', 'protocolVersion', 'must be a number');
  if (v.evidenceVersion !== undefined) {
    need(typeof v.evidenceVersion === 'number' && Number.isInteger(v.evidenceVersion) && v.evidenceVersion >= 1, 'evidenceVersion', 'must be a whole number from 1');
    if (v.evidenceVersion > EVIDENCE_VERSION) throw new TranscriptError('evidenceVersion', `${v.evidenceVersion} is newer than this harness reads (${EVIDENCE_VERSION}); update the harness to open it`);
  }
  need(typeof v.name === 'string', 'name', 'must be a string');
  need(v.recordedBy === 'cli' || v.recordedBy === 'app', 'recordedBy', 'must be "cli" or "app"');
  need(typeof v.startedAt === 'string' && !Number.isNaN(Date.parse(v.startedAt)), 'startedAt', 'must be an ISO 8601 time');
  const env = v.environment;
  need(isObj(env), 'environment', 'must be an object');
  for (const k of ['harness', 'node', 'openssl', 'platform'] as const) need(typeof env[k] === 'string', `environment.${k}`, 'must be a string');
  need(Array.isArray(v.events), 'events', 'must be a list');
  need(v.events.length <= MAX_TRANSCRIPT_EVENTS, 'events', `more than ${MAX_TRANSCRIPT_EVENTS} events`);
  need(v.events.length > 0, 'events', 'is empty: the run has no events');
  v.events.forEach((e, i) => {
    need(isObj(e) && typeof e.t === 'number' && e.t >= 0, `events[${i}].t`, 'must be a number of milliseconds ≥ 0');
    checkEvent(e.event, `events[${i}].event`);
  });
  const first = (v.events[0] as TranscriptEvent).event;
  need(first.type === 'run.started', 'events[0].event.type', 'the first event must be run.started');
  return v as unknown as Transcript;
}

/** The run a transcript recorded: each step's final state, the outcome and diagnoses. */
export function readRun(transcript: Transcript): TranscriptRun {
  const started = transcript.events[0]!.event as Extract<RunEvent, { type: 'run.started' }>;
  const steps = new Map<string, Step>();
  let finished: Extract<RunEvent, { type: 'run.finished' }> | undefined;
  for (const { event } of transcript.events) {
    if (event.type === 'step') steps.set(event.step.id, event.step);
    else if (event.type === 'run.finished') finished = event;
  }
  return {
    runId: started.runId,
    kind: started.kind,
    target: started.target,
    steps: [...steps.values()],
    outcome: finished?.outcome ?? 'unfinished',
    diagnoses: finished?.diagnoses ?? [],
    durationMs: finished?.durationMs,
  };
}

/** The file name to offer for a transcript: name and time, nothing else. */
export function transcriptFileName(t: Pick<Transcript, 'name' | 'startedAt'>, ext = 'transcript.json'): string {
  const slug = t.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48) || 'run';
  return `${slug}-${t.startedAt.replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z')}.${ext}`;
}
