// `harness show FILE [--json]`: a transcript printed as `harness probe` and `harness run` print
// a live run — the steps, the diagnosis with its fixes, the outcome — marked as recorded.
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { parseTranscript, readRun, TranscriptError, type Transcript } from '../../shared/transcript/transcript.ts';
import { formatFinished, formatStep } from '../format-steps.ts';
import type { Io } from './run.ts';

const USAGE = 'usage: harness show TRANSCRIPT.json [--json]\n';

/** Reads a transcript file; a TranscriptError or a read error names the file. */
export async function readTranscriptFile(file: string): Promise<Transcript> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new TranscriptError('', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseTranscript(text);
}

function formatTranscript(t: Transcript): string {
  const run = readRun(t);
  const lines = [
    `Recorded run: ${t.name}`,
    `  recorded by the ${t.recordedBy === 'app' ? 'app' : 'command line'} at ${t.startedAt} (relay clock) with harness ${t.environment.harness}, Node ${t.environment.node}, OpenSSL ${t.environment.openssl}, ${t.environment.platform}`,
    `${run.kind === 'probe' ? 'Probe' : run.kind === 'flow' ? 'Flow' : 'Inbound'} ${run.target}`,
  ];
  let out = `${lines.join('\n')}\n`;
  for (const step of run.steps) if (step.status !== 'running') out += formatStep(step);
  out += run.outcome === 'unfinished' ? 'UNFINISHED: the transcript ends before the run did\n' : formatFinished(run.outcome, run.diagnoses, run.durationMs ?? 0);
  return out;
}

export async function show(argv: string[], io: Io): Promise<number> {
  let values: { json: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean', default: false } }, strict: true }));
  } catch (err) {
    io.stderr(`harness show: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (positionals.length !== 1) {
    io.stderr(`harness show: give exactly one transcript file\n${USAGE}`);
    return 2;
  }
  const file = positionals[0]!;
  try {
    const t = await readTranscriptFile(file);
    if (values.json) for (const { event } of t.events) io.stdout(`${JSON.stringify(event)}\n`);
    else io.stdout(formatTranscript(t));
    return readRun(t).outcome === 'pass' ? 0 : 1;
  } catch (err) {
    if (err instanceof TranscriptError) {
      io.stderr(`harness show: ${file}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
