// `openssl s_server` as a real peer and `openssl s_client` as the oracle for what a server
// sends. Servers listen on a free port the kernel picks (-accept 0); every one started is
// tracked so an `after` hook can kill them all, even when a test fails half-way.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface OpenSslServer {
  port: number;
  /** Everything s_server printed so far (stdout and stderr). */
  output(): string;
  stop(): void;
}

const running = new Set<ChildProcess>();

/** Starts `openssl s_server -accept 0 -www <args>` and resolves once it listens. */
export function startOpenSslServer(args: string[]): Promise<OpenSslServer> {
  const child = spawn('openssl', ['s_server', '-accept', '0', '-www', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const server = {
    output: () => output,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      running.delete(child);
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`s_server did not start:\n${output}`)), 5000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      server.stop();
      reject(error);
    };
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const accept = /^ACCEPT .*:(\d+)$/m.exec(output);
      if (accept) {
        clearTimeout(timer);
        resolve({ ...server, port: Number(accept[1]) });
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', fail);
    child.on('exit', (code) => fail(new Error(`s_server exited with ${code}:\n${output}`)));
  });
}

/** Kills every s_server still running; for `after` hooks. */
export function stopAllOpenSslServers(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  running.clear();
}

process.on('exit', stopAllOpenSslServers);

export interface SClientView {
  /** Lines under "Acceptable client certificate CA names", as printed. */
  acceptableCAs: string[];
  /** The "Requested Signature Algorithms" line split on ':' (OpenSSL's names). */
  requestedSignatureAlgorithms: string[];
  /** DER of each certificate -showcerts printed, in the order the server sent them. */
  chainDer: Uint8Array[];
  raw: string;
}

/** Runs `openssl s_client -showcerts` against the port with stdin closed and reads what it saw. */
export async function sClient(port: number, args: string[] = []): Promise<SClientView> {
  const { stdout } = await run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-showcerts', ...args], { timeout: 10_000 }).catch(
    // s_client exits non-zero when the server rejects it after the handshake; its output still holds the answer.
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
  );
  const lines = stdout.split('\n');
  const start = lines.indexOf('Acceptable client certificate CA names');
  const acceptableCAs: string[] = [];
  if (start >= 0) {
    for (const line of lines.slice(start + 1)) {
      if (/^(---|Client Certificate Types:|Requested Signature Algorithms:)/.test(line)) break;
      acceptableCAs.push(line);
    }
  }
  const sigalgs = /^Requested Signature Algorithms: (.*)$/m.exec(stdout);
  const chainDer = [...stdout.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => new Uint8Array(new X509Certificate(m[0]).raw));
  return { acceptableCAs, requestedSignatureAlgorithms: sigalgs ? sigalgs[1]!.split(':') : [], chainDer, raw: stdout };
}
