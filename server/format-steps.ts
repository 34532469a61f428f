// Human-readable rendering of step events for the terminal: one line per finished step,
// the diagnosis and its fixes under a failing one. The JSON mode prints the events as they are.
import type { RunOutcome, Step } from '../shared/protocol/index.ts';

const ICON: Record<Step['status'], string> = { running: '…', ok: '✓', warn: '!', fail: '✗', skipped: '–' };
const WORD: Record<Step['status'], string> = { running: 'running', ok: 'ok', warn: 'warn', fail: 'FAIL', skipped: 'skipped' };

function ms(v: number | undefined): string {
  return v === undefined ? '' : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
}

export function formatStep(step: Step): string {
  const head = `${ICON[step.status]} ${WORD[step.status].padEnd(7)} ${step.title.padEnd(16)} ${step.summary ?? ''}`;
  const lines = [`${head}${step.durationMs !== undefined ? `  (${ms(step.durationMs)})` : ''}`];
  const d = step.diagnosis;
  if (d && step.status !== 'ok') {
    lines.push(`    ${d.code}: ${d.summary}`);
    for (const e of d.evidence) lines.push(`      evidence: ${e}`);
    lines.push(`      fix (your side):   ${d.fix.client}`);
    lines.push(`      fix (server side): ${d.fix.server}`);
  }
  if (step.id === 'tls' && step.details) {
    const det = step.details as { serverChain?: { subject: string }[]; sentChain?: string[]; acceptableCAs?: string[]; certificateRequested?: boolean };
    // The summary of a finished handshake says it already; a failed step's summary is the diagnosis.
    if (det.certificateRequested !== undefined && !step.summary?.includes('asked for a client certificate')) lines.push(`    server asked for a client certificate: ${det.certificateRequested ? 'yes' : 'no'}`);
    if (det.acceptableCAs?.length) lines.push(`    acceptable CAs: ${det.acceptableCAs.join(' · ')}`);
    if (det.serverChain?.length) lines.push(`    server chain: ${det.serverChain.map((c) => c.subject).join(' ← ')}`);
    if (det.sentChain?.length) lines.push(`    sent: ${det.sentChain.join(' ← ')}`);
  }
  return `${lines.join('\n')}\n`;
}

export function formatFinished(outcome: RunOutcome, diagnoses: string[], durationMs: number): string {
  const word = outcome === 'pass' ? 'PASSED' : outcome === 'fail' ? 'FAILED' : 'ERROR';
  return `${word}${diagnoses.length ? ` — ${diagnoses.join(', ')}` : ''} in ${ms(durationMs)}\n`;
}

/**
 * Prints a run's steps as the terminal shows them: each once, in the order they began, in its
 * final state. A probe revises its TLS step after the request (a TLS 1.3 server refuses the
 * certificate after the handshake; nginx answers in HTTP), so from the TLS step on a probe's
 * steps wait for the run's end; the ones before it, and a flow's, print as they finish.
 */
export class StepPrinter {
  readonly #write: (s: string) => void;
  readonly #holdFrom: ReadonlySet<Step['phase']>;
  readonly #latest = new Map<string, Step>();
  readonly #printed = new Set<string>();
  #holding = false;

  constructor(write: (s: string) => void, kind: 'probe' | 'flow' | 'inbound') {
    this.#write = write;
    this.#holdFrom = new Set<Step['phase']>(kind === 'probe' ? ['tls'] : []);
  }

  step(step: Step): void {
    if (this.#printed.has(step.id)) return; // a revision of a step already shown (only before the hold)
    this.#latest.set(step.id, step);
    if (this.#holdFrom.has(step.phase)) this.#holding = true;
    if (!this.#holding) this.#flush(false);
  }

  /** The run finished: print what is left, a step still running included (it never finished). */
  end(): void {
    this.#flush(true);
  }

  #flush(final: boolean): void {
    for (const [id, step] of this.#latest) {
      if (this.#printed.has(id)) continue;
      if (step.status === 'running' && !final) return; // later steps wait, to keep the order
      this.#printed.add(id);
      if (step.status !== 'running') this.#write(formatStep(step));
    }
  }
}
