// Records a run's events as they are emitted, with when each arrived, and turns them into a
// transcript: what `harness run --transcript` and `harness probe --transcript` write.
import { performance } from 'node:perf_hooks';
import type { ServerMessage } from '../../shared/protocol/index.ts';
import { makeTranscript, type Transcript, type TranscriptEvent } from '../../shared/transcript/transcript.ts';
import { runEnvironment } from './environment.ts';

export class TranscriptRecorder {
  readonly #events: TranscriptEvent[] = [];
  #t0 = 0;
  #startedAt = new Date();

  /** Pass every event the run emits (already redacted); other messages are ignored. */
  record(msg: ServerMessage): void {
    if (msg.type === 'run.started') {
      this.#t0 = performance.now();
      this.#startedAt = new Date();
      this.#events.length = 0;
    }
    if (msg.type === 'run.started' || msg.type === 'step' || msg.type === 'run.finished') {
      this.#events.push({ t: performance.now() - this.#t0, event: msg });
    }
  }

  transcript(name: string, opts: { scenario?: unknown; secrets?: readonly string[] } = {}): Transcript {
    return makeTranscript({
      name,
      recordedBy: 'cli',
      startedAt: this.#startedAt,
      environment: runEnvironment(),
      events: this.#events,
      ...(opts.scenario === undefined ? {} : { scenario: opts.scenario }),
      ...(opts.secrets ? { secrets: opts.secrets } : {}),
    });
  }
}
