// The life every run shares, whoever started it (the WebSocket session, `harness probe`,
// `harness run`): run.started, the run's steps with its secrets scrubbed, run.finished. What
// differs between callers (run slots, metrics, printing) stays with them; what must not differ
// (which events, in which order, scrubbed how) lives here once.
import { randomUUID } from 'node:crypto';
import type { RunEvent, RunKind, RunOutcome, Step } from '../../shared/protocol/index.ts';
import { cleanDeep, redactText, scrubDeep } from '../../shared/redact.ts';

/** What a run ends with: its run.finished. */
export interface RunResult {
  outcome: RunOutcome;
  diagnoses: string[];
  durationMs: number;
}

/** What a run's work gets: its id, where to send steps and when to stop. */
export interface RunContext {
  runId: string;
  signal: AbortSignal;
  onStep(step: Step): void;
}

export interface EnvelopeOptions {
  /** The request's id, echoed by run.started. */
  requestId: string;
  /** Default: a new random one (newRunId). */
  runId?: string;
  kind: RunKind;
  /** What run.started names, as it may be shown (a URL already through redactUrl). */
  target: string;
  /** Values the request carries (credentials, key lines): scrubbed from every event, whatever echoes them. */
  secrets: readonly string[];
  /**
   * All of the request's values, `secrets` among them, made when the run first waits rather than
   * when it starts: a PEM key's lines in all their encodings cost a few hundred microseconds, and
   * a hundred runs whose frames arrive in one read would each pay that before the last of them is
   * announced. What a run reports before it first waits (its start, read with its frame) is
   * scrubbed with `secrets` alone: it has not read what the rest are made from yet.
   */
  secretsOnceWaiting?(): readonly string[];
  /** Every event of the run, what it reports redacted and scrubbed. */
  send(event: RunEvent): void;
  /** Stops the run (cancel, timeout). Default: nothing stops it. */
  signal?: AbortSignal;
  /** Sees each step as the run reported it, before scrubbing (metrics, the authorization URL). */
  observeStep?(step: Step): void;
  /**
   * Set where a fault in the run (a bug, not a failed check) must not take anything else down:
   * the fault is handed here, its message scrubbed, and the run finishes with outcome `error`.
   * Unset, the fault is thrown to the caller.
   */
  onFault?(message: string): void;
  /**
   * Events that end a run stopped from outside (the relay shut down) in place of its own
   * run.finished; asked only once the signal has fired. Undefined: the run's own ending.
   */
  interrupted?(elapsedMs: number): RunEvent[] | undefined;
}

export function newRunId(): string {
  // 48 random bits as 12 hex digits. randomUUID draws from a cached pool; randomBytes would ask
  // the system each time, on every run's start.
  const u = randomUUID();
  return `r${u.slice(0, 8)}${u.slice(9, 13)}`;
}

/** Runs `work` between run.started and run.finished; returns what the run finished with. */
export async function runInEnvelope<T extends RunResult>(opts: EnvelopeOptions, work: (ctx: RunContext) => Promise<T>): Promise<T | RunResult> {
  const runId = opts.runId ?? newRunId();
  const { send } = opts;
  const signal = opts.signal ?? new AbortController().signal;
  let secrets = opts.secrets;
  let later = opts.secretsOnceWaiting;
  let waited = false;
  const values = (): readonly string[] => {
    if (waited && later) {
      secrets = later();
      later = undefined;
    }
    return secrets;
  };
  // What the run reports is cleaned; ids, kinds and outcomes are the relay's own (a request id
  // must come back exactly as sent, whatever a secret happens to equal).
  send({ type: 'run.started', id: opts.requestId, runId, kind: opts.kind, target: scrubDeep(redactText(opts.target), values()) });
  const t0 = performance.now();
  try {
    const working = work({
      runId,
      signal,
      onStep: (step) => {
        opts.observeStep?.(step);
        send({ type: 'step', runId, step: cleanDeep(step, values()) });
      },
    });
    waited = true;
    const result = await working;
    const ending = signal.aborted ? opts.interrupted?.(performance.now() - t0) : undefined;
    if (ending) for (const event of ending) send(event);
    else send({ type: 'run.finished', runId, outcome: result.outcome, diagnoses: result.diagnoses, durationMs: result.durationMs });
    return result;
  } catch (err) {
    if (!opts.onFault) throw err;
    waited = true;
    opts.onFault(scrubDeep(err instanceof Error ? err.message : String(err), values()));
    const result: RunResult = { outcome: 'error', diagnoses: [], durationMs: Math.round(performance.now() - t0) };
    send({ type: 'run.finished', runId, ...result });
    return result;
  }
}
