// `harness diff A.json B.json [--json]`: two transcripts compared step by step — what differs
// and what it means ("run B sent 1 certificate, run A 2: B's intermediate … is missing").
// Give the passing run as A. Exit 0 when the runs match (timings aside), 1 when they differ,
// 2 when a file is not a transcript.
import { parseArgs } from 'node:util';
import { compareTranscripts, formatComparison } from '../../shared/transcript/compare.ts';
import { TranscriptError } from '../../shared/transcript/transcript.ts';
import { readTranscriptFile } from './show.ts';
import type { Io } from './run.ts';

const USAGE = 'usage: harness diff A.transcript.json B.transcript.json [--json]\n';

export async function diff(argv: string[], io: Io): Promise<number> {
  let values: { json: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean', default: false } }, strict: true }));
  } catch (err) {
    io.stderr(`harness diff: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (positionals.length !== 2) {
    io.stderr(`harness diff: give two transcript files (the passing run first)\n${USAGE}`);
    return 2;
  }
  const read = async (file: string) => {
    try {
      return await readTranscriptFile(file);
    } catch (err) {
      if (err instanceof TranscriptError) throw new TranscriptError('', `${file}: ${err.message}`);
      throw err;
    }
  };
  try {
    const [a, b] = await Promise.all(positionals.map(read));
    const c = compareTranscripts(a!, b!);
    io.stdout(values.json ? `${JSON.stringify(c, null, 2)}\n` : formatComparison(c));
    return c.same ? 0 : 1;
  } catch (err) {
    if (err instanceof TranscriptError) {
      io.stderr(`harness diff: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
