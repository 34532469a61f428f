// `harness serve` as a real process for cluster tests and benchmarks: hosted behind a proxy
// (--public-url), with a relay id and a shared lab directory. Resolves once it prints where it
// listens; `exited` tells how it ended.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface RelayProcess {
  id: string;
  port: number;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** stdout and stderr so far (hosted mode logs JSON lines to stderr). */
  output(): string;
}

export interface RelayProcessOptions {
  publicUrl: string;
  labDir: string;
  secret: string;
  metricsToken?: string;
  /** 0 (default): a free port. */
  port?: number;
  /** `NAME=VALUE` limits (server/defaults.ts). */
  limits?: string[];
}

export async function startRelayProcess(id: string, opts: RelayProcessOptions): Promise<RelayProcess> {
  const args = ['bin/harness.js', 'serve', '--host', '127.0.0.1', '--port', String(opts.port ?? 0), '--lab-port', '0',
    '--public-url', opts.publicUrl, '--relay-id', id, '--lab-dir', opts.labDir, ...(opts.limits ?? []).flatMap((l) => ['--limit', l])];
  const env = { ...process.env, HARNESS_ACCESS_SECRET: opts.secret, ...(opts.metricsToken ? { HARNESS_METRICS_TOKEN: opts.metricsToken } : {}) };
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr!.on('data', (d) => { out += String(d); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) => child.once('exit', (code, signal) => ok({ code, signal })));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += String(d);
      const m = /Listening: 127\.0\.0\.1:(\d+) as relay /.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exited.then(() => reject(new Error(`relay ${id} exited before listening: ${out}`)));
  });
  return { id, port, child, exited, output: () => out };
}
