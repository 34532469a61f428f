// Records a run's steps with their timings and hands each change to the run's sink, so the
// UI, the CLI and tests all see the same sequence: `running`, then the final state.
import type { DetailsOf, Diagnosis, ProbePhase, Step, StepStatus } from '../../shared/protocol/index.ts';

type StepSink = (step: Step) => void;

/** A step the run expects to take, in order: id, phase, title. */
export type PlannedStep = readonly [id: string, phase: ProbePhase, title: string];

/** What a finished step may set beside its status: `details` is its phase's evidence (shared/protocol/evidence.ts). */
interface StepFields<P extends ProbePhase = ProbePhase> {
  title?: string;
  summary?: string;
  details?: DetailsOf<P>;
  diagnosis?: Diagnosis;
}

export interface OpenStep<P extends ProbePhase = ProbePhase> {
  readonly id: string;
  readonly phase: P;
  /**
   * Replace the step with its final state. Returns the step as sent. `endedAt`
   * (performance.now()) is when the work really ended, if the report comes later.
   */
  finish(status: Exclude<StepStatus, 'running'>, fields?: StepFields<P>, endedAt?: number): Step;
}

interface RecorderOptions {
  /**
   * Send a step's `running` state only once it has lasted this long: a step that ends sooner
   * arrives once, finished (nobody sees a spinner for a few milliseconds, and each event costs
   * both ends). The run's first step is always sent at once: it tells the browser work began.
   * Default 0: every step is sent as it starts (the inbound check shows connections live).
   */
  runningNoticeMs?: number;
}

export class StepRecorder {
  readonly #sink: StepSink;
  readonly #t0: number;
  readonly #steps = new Map<string, Step>();
  /** `running` notices not sent yet, by step id. */
  readonly #notices = new Map<string, NodeJS.Timeout>();
  /** Diagnoses that still hold after their step was re-issued with a more decisive one. */
  readonly #kept: Diagnosis[] = [];
  /** The steps the run expects; the ones never reached are sent as skipped (skipUnreached). */
  #plan: readonly PlannedStep[] = [];

  readonly #runningNoticeMs: number;

  constructor(sink: StepSink, t0 = performance.now(), options: RecorderOptions = {}) {
    this.#sink = sink;
    this.#t0 = t0;
    this.#runningNoticeMs = options.runningNoticeMs ?? 0;
  }

  elapsed(): number {
    return round(performance.now() - this.#t0);
  }

  get(id: string): Step | undefined {
    return this.#steps.get(id);
  }

  /** `startedAt` (performance.now()): when the work began, if it began before this report. */
  start<P extends ProbePhase>(id: string, phase: P, title: string, summary?: string, startedAt = performance.now()): OpenStep<P> {
    const started = startedAt;
    const step = { id, phase, status: 'running', title, startMs: round(started - this.#t0) } as Step;
    if (summary) step.summary = summary;
    if (this.#steps.size === 0 || this.#runningNoticeMs <= 0) {
      this.#emit(step);
    } else {
      this.#steps.set(id, step);
      this.#notices.set(id, setTimeout(() => {
        this.#notices.delete(id);
        if (this.#steps.get(id) === step) this.#sink(step);
      }, this.#runningNoticeMs));
    }
    return {
      id,
      phase,
      finish: (status, fields = {}, endedAt = performance.now()) => {
        const done = { ...step, ...fields, status, durationMs: round(endedAt - started) } as Step;
        this.#emit(done);
        return done;
      },
    };
  }

  /**
   * Re-issue an already finished step with new status (e.g. TLS 1.3 alert after secureConnect).
   * A diagnosis it replaces stays in the run's list (a pre-flight warning explains the
   * rejection) unless `replace` says it no longer holds.
   */
  amend(id: string, status: Exclude<StepStatus, 'running'>, fields: StepFields, opts: { replace?: boolean } = {}): void {
    const prev = this.#steps.get(id);
    if (!prev) return;
    // `replace`: the new diagnosis supersedes the old one, which no longer holds (a warning
    // that the server would refuse, once it has accepted).
    if (prev.diagnosis && fields.diagnosis && prev.diagnosis.code !== fields.diagnosis.code && !opts.replace) {
      this.#kept.push(prev.diagnosis);
      fields = { ...fields, diagnosis: { ...fields.diagnosis, evidence: [...fields.diagnosis.evidence, `${prev.diagnosis.code}: ${prev.diagnosis.summary}`] } };
    }
    this.#emit({ ...prev, ...fields, status, details: { ...prev.details, ...fields.details } } as Step);
  }

  /** A diagnosis that holds for the run though no step shows it (e.g. a pre-flight after a failed handshake). */
  keep(d: Diagnosis): void {
    this.#kept.push(d);
  }

  /** A step that was never reached. */
  skip(id: string, phase: ProbePhase, title: string, summary: string): void {
    this.#emit({ id, phase, status: 'skipped', title, summary, startMs: this.elapsed() } as Step);
  }

  /** The steps this run expects to take, so the ones it never reaches can be shown as skipped. */
  plan(steps: readonly PlannedStep[]): void {
    this.#plan = steps;
  }

  /** Sends every planned step that was never started as skipped, in plan order (the run stopped early). */
  skipUnreached(summary: string): void {
    for (const [id, phase, title] of this.#plan) if (!this.#steps.has(id)) this.skip(id, phase, title, summary);
  }

  /** Ends every step still running as skipped (the run was cancelled or its listener stopped). */
  skipRunning(summary: string): void {
    for (const s of this.steps()) if (s.status === 'running') this.amend(s.id, 'skipped', { summary });
  }

  /** Diagnoses of failed or warning steps, each code once, in step order. */
  diagnoses(): Diagnosis[] {
    const byCode = new Map<string, Diagnosis>();
    for (const s of this.#steps.values()) {
      if (s.diagnosis && (s.status === 'fail' || s.status === 'warn') && !byCode.has(s.diagnosis.code)) byCode.set(s.diagnosis.code, s.diagnosis);
    }
    for (const d of this.#kept) if (!byCode.has(d.code)) byCode.set(d.code, d);
    return [...byCode.values()];
  }

  steps(): Step[] {
    return [...this.#steps.values()];
  }

  #emit(step: Step): void {
    const notice = this.#notices.get(step.id);
    if (notice) {
      clearTimeout(notice);
      this.#notices.delete(step.id);
    }
    this.#steps.set(step.id, step);
    this.#sink(step);
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
