// Runs a real server (Apache httpd, nginx) in the foreground for tests: its own process
// group so the workers die with it, ready once every port accepts, stopped with SIGTERM and
// then SIGKILL. A config error fails the start with the server's own words.
import { spawn } from 'node:child_process';
import { readFile, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import { freePort } from './peers.ts';
import { HarnessError } from '../../shared/errors.ts';

/** How long a server may take to accept on all its ports. */
const START_TIMEOUT_MS = 10_000;
/** How long waitForLog() waits by default. */
const LOG_WAIT_MS = 2_000;
/** How long SIGTERM gets before SIGKILL. */
const STOP_GRACE_MS = 3_000;
const POLL_MS = 15;

export interface RunningDaemon {
  pid: number;
  /** stdout and stderr so far (config errors land here before the error log is open). */
  output(): string;
  /** Text of the server's error log. */
  errorLog(): Promise<string>;
  /** Byte offset of the end of the error log; pass it to errorLogSince(). */
  logMark(): Promise<number>;
  /** The error log written after `mark`: the server's reason for one connection. */
  errorLogSince(mark: number): Promise<string>;
  /**
   * The error log after `mark` once it matches `pattern`, or as it is after `timeoutMs`.
   * A server may log a failure only after the client has seen it (Apache logs a refused
   * handshake after sending the alert), so a test reading at once can be early.
   */
  waitForLog(mark: number, pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

export interface DaemonSpec {
  name: string;
  command: string;
  args: string[];
  errorLogFile: string;
  ports: number[];
}

const groups = new Set<number>();

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

// A test that crashes must not leave servers behind holding ports.
process.on('exit', () => {
  for (const pid of groups) killGroup(pid, 'SIGKILL');
});

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

async function readLog(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return '';
  }
}

export class DaemonStartError extends HarnessError<'daemon_start_failed'> {
  /** The ports could not be bound (another process took one between choosing and binding). */
  readonly portTaken: boolean;
  constructor(message: string, portTaken: boolean) {
    super('daemon_start_failed', message);
    this.portTaken = portTaken;
  }
}

export async function startDaemon(spec: DaemonSpec): Promise<RunningDaemon> {
  const child = spawn(spec.command, spec.args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) {
    const error = await new Promise<Error>((resolve) => child.once('error', resolve));
    throw new Error(`${spec.name} could not be started (${spec.command}): ${error.message}`);
  }
  groups.add(pid);
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString('utf8'); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString('utf8'); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let hasExited = false;
  void exited.then(() => { hasExited = true; });

  const stop = async () => {
    if (!groups.has(pid)) return;
    killGroup(pid, 'SIGTERM');
    const timer = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), STOP_GRACE_MS).unref());
    if (await Promise.race([exited, timer]) === 'late') killGroup(pid, 'SIGKILL');
    await exited;
    // Workers the master did not reap are still in the group.
    killGroup(pid, 'SIGKILL');
    groups.delete(pid);
  };

  const deadline = performance.now() + START_TIMEOUT_MS;
  const pending = new Set(spec.ports);
  while (pending.size) {
    if (hasExited || performance.now() > deadline) {
      const log = await readLog(spec.errorLogFile);
      await stop();
      const text = `${out}\n${log}`.trim();
      const reason = hasExited ? `exited with ${child.exitCode ?? child.signalCode}` : `did not accept on ${[...pending].join(', ')} within ${START_TIMEOUT_MS} ms`;
      throw new DaemonStartError(`${spec.name} ${reason}:\n${text}`, /Address already in use|could not bind/i.test(text));
    }
    for (const port of [...pending]) if (await accepts(port)) pending.delete(port);
    if (pending.size) await new Promise((r) => setTimeout(r, POLL_MS));
  }

  const errorLogSince = async (mark: number) => Buffer.from(await readLog(spec.errorLogFile), 'utf8').subarray(mark).toString('utf8');
  return {
    pid,
    output: () => out,
    errorLog: () => readLog(spec.errorLogFile),
    logMark: async () => {
      try {
        return (await stat(spec.errorLogFile)).size;
      } catch {
        return 0;
      }
    },
    errorLogSince,
    waitForLog: async (mark, pattern, timeoutMs = LOG_WAIT_MS) => {
      const until = performance.now() + timeoutMs;
      for (;;) {
        const text = await errorLogSince(mark);
        if (pattern.test(text) || performance.now() > until) return text;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    },
    stop,
  };
}

/**
 * Picks a free port per name, builds the config and starts the server; when a port was taken
 * in the meantime, tries again with new ports.
 */
export async function startWithPorts<K extends string>(
  names: readonly K[],
  start: (ports: Record<K, number>) => Promise<RunningDaemon>,
  attempts = 3,
): Promise<{ daemon: RunningDaemon; ports: Record<K, number> }> {
  for (let attempt = 1; ; attempt++) {
    const ports = {} as Record<K, number>;
    const used = new Set<number>();
    for (const name of names) {
      let port = await freePort();
      while (used.has(port)) port = await freePort();
      used.add(port);
      ports[name] = port;
    }
    try {
      return { daemon: await start(ports), ports };
    } catch (err) {
      if (!(err instanceof DaemonStartError && err.portTaken) || attempt >= attempts) throw err;
    }
  }
}

/** A web server started for tests from a config in its own temp dir, one port per named site. */
export interface SiteServer<K extends string> extends Omit<RunningDaemon, 'stop'> {
  dir: string;
  ports: Record<K, number>;
  /** https://127.0.0.1:PORT/path: the address it listens on, whatever "localhost" resolves to. */
  url(site: K, path?: string): string;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Starts a server whose config `start` writes for the ports picked, in `dir`, and removes
 * `dir` when it stops or fails to start.
 */
export async function startSiteServer<K extends string>(dir: string, names: readonly K[], start: (ports: Record<K, number>) => Promise<RunningDaemon>): Promise<SiteServer<K>> {
  try {
    const { daemon, ports } = await startWithPorts(names, start);
    return {
      ...daemon,
      dir,
      ports,
      url: (site, path = '/') => `https://127.0.0.1:${ports[site]}${path}`,
      stop: async () => {
        await daemon.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
