import type { RunEvent, RunOutcome, Step } from '../../../../shared/protocol/index.ts';
import type { Transcript } from '../../../../shared/transcript/transcript.ts';

type RunState = 'starting' | 'running' | 'finished' | 'interrupted';

/**
 * One run as the relay reported it. Everything the timeline shows comes from `apply()`:
 * steps are added in the order they first arrive and replaced when the same id comes again.
 */
export class RunTimeline {
  readonly target: string;
  readonly method: string;
  /** The client certificate presented, as the selector described it; null for none. */
  readonly clientLabel: string | null;
  /**
   * What the header says about the run after the target. Probes leave it out and show the
   * client certificate; token flows say who authenticates and how.
   */
  readonly detail: string | null;
  /** The request body as the user gave it; the relay's events report only its size. */
  readonly requestBody: string | null;
  /** Set when this timeline replays a transcript instead of following a live run. */
  readonly recorded: Transcript | null;

  runId = $state<string | null>(null);
  steps = $state<Step[]>([]);
  outcome = $state<RunOutcome | null>(null);
  diagnoses = $state<string[]>([]);
  durationMs = $state<number | null>(null);
  /** Set when the run ended without run.finished: it never started or the relay went away. */
  problem = $state<string | null>(null);

  /** The steps shown as lines; the relay's closing `verdict` step feeds the verdict line instead. */
  lines: Step[] = $derived(this.steps.filter((s) => s.phase !== 'verdict'));
  verdictStep: Step | undefined = $derived(this.steps.find((s) => s.phase === 'verdict'));

  state: RunState = $derived(
    this.outcome !== null ? 'finished' : this.problem !== null ? 'interrupted' : this.runId === null ? 'starting' : 'running',
  );

  constructor(init: { target: string; method: string; clientLabel: string | null; detail?: string | null; requestBody?: string | null; recorded?: Transcript | null }) {
    this.target = init.target;
    this.method = init.method;
    this.clientLabel = init.clientLabel;
    this.detail = init.detail ?? null;
    this.requestBody = init.requestBody ?? null;
    this.recorded = init.recorded ?? null;
  }

  /** A recorded run, shown exactly as its events arrived live. */
  static fromTranscript(transcript: Transcript): RunTimeline {
    const first = transcript.events[0]!.event;
    const kind = first.type === 'run.started' ? first.kind : 'probe';
    const timeline = new RunTimeline({
      target: first.type === 'run.started' ? first.target : '',
      method: kind === 'probe' ? 'Probe' : kind === 'flow' ? 'Token flow' : 'Inbound client',
      clientLabel: null,
      detail: `recorded ${transcript.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} by the ${transcript.recordedBy === 'app' ? 'app' : 'command line'}`,
      recorded: transcript,
    });
    for (const { event } of transcript.events) timeline.apply(event);
    if (timeline.outcome === null) timeline.interrupt('The transcript ends before the run did.');
    return timeline;
  }

  get active(): boolean {
    return this.state === 'starting' || this.state === 'running';
  }

  apply(event: RunEvent): void {
    if (event.type === 'run.started') {
      this.runId = event.runId;
      return;
    }
    if (event.runId !== this.runId) return;
    if (event.type === 'step') {
      const index = this.steps.findIndex((s) => s.id === event.step.id);
      if (index === -1) this.steps.push(event.step);
      else this.steps[index] = event.step;
      return;
    }
    this.outcome = event.outcome;
    this.diagnoses = event.diagnoses;
    this.durationMs = event.durationMs;
  }

  /** The run could not be followed to its end; keeps what arrived. */
  interrupt(reason: string): void {
    if (this.outcome === null) this.problem = reason;
  }
}
