// The `harness` command as a user runs it, for tests: bin/harness.js in a child Node process,
// with its exit code and both outputs once it ends.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const HARNESS_BIN = fileURLToPath(new URL('../../bin/harness.js', import.meta.url));

/** Long enough for a `harness run` of several scenarios on a loaded machine; a hang still fails. */
const CLI_TIMEOUT_MS = 90_000;
/** Transcripts and JSON event streams can be large. */
const CLI_MAX_BUFFER_BYTES = 16 * 1024 * 1024;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `harness <args>` with `env` over this process's environment. */
export function harness(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [HARNESS_BIN, ...args], { env: { ...process.env, ...env }, timeout: CLI_TIMEOUT_MS, maxBuffer: CLI_MAX_BUFFER_BYTES }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}
