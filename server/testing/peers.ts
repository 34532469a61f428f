// Real peers for tests: `openssl s_server` (and `openssl s_client` as the oracle for what a
// server sends), and small listeners that misbehave on purpose. s_server listens on a port the
// kernel picks (-accept 0, read back from its ACCEPT line), so no other process can take it
// between choosing and binding. A server left running does not hold the test process open (the
// child and its pipes are unref'd) and is killed when that process exits, even when a test
// fails half-way.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** How long s_server may take to print its ACCEPT line. */
const OPENSSL_START_TIMEOUT_MS = 10_000;

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((ok) => srv.close(() => ok()));
  return port;
}

export interface Peer {
  port: number;
  close(): Promise<void>;
}

export interface OpenSslServer extends Peer {
  /** Everything s_server printed so far (stdout and stderr). */
  output(): string;
}

const running = new Set<ChildProcess>();

function kill(child: ChildProcess): Promise<void> {
  running.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  // Held open again until it is gone: whoever awaits the close needs the exit to arrive.
  child.ref();
  return new Promise<void>((ok) => {
    child.once('exit', () => ok());
    child.kill('SIGKILL');
  });
}

process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `openssl s_server -accept 0 <args>` and resolves once it listens. Pass `-www` for a
 * server that answers a request with a status page and closes.
 */
export function opensslServer(args: string[]): Promise<OpenSslServer> {
  const child = spawn('openssl', ['s_server', '-accept', '0', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  child.unref();
  for (const pipe of [child.stdin, child.stdout, child.stderr]) (pipe as unknown as net.Socket).unref();
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`openssl s_server did not start:\n${output}`)), OPENSSL_START_TIMEOUT_MS);
    let started = false;
    const fail = (error: Error) => {
      clearTimeout(timer);
      void kill(child);
      if (!started) reject(error);
    };
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const accept = started ? null : /^ACCEPT .*:(\d+)$/m.exec(output);
      if (accept) {
        started = true;
        clearTimeout(timer);
        resolve({ port: Number(accept[1]), output: () => output, close: () => kill(child) });
      }
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    child.on('error', fail);
    child.on('exit', (code) => fail(new Error(`openssl s_server exited with ${code}:\n${output}`)));
  });
}

interface SClientView {
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

/** A TCP listener that runs `onConnection` for each socket: silence, garbage, plain HTTP… */
export async function rawServer(onConnection: (socket: net.Socket) => void): Promise<Peer> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onConnection(s);
    // Read whatever arrives (unless the handler did): a paused socket never sees the client's
    // FIN, and its descriptor would outlive the test.
    if (s.listenerCount('data') === 0) s.resume();
  });
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () => new Promise<void>((ok) => {
      for (const s of sockets) s.destroy();
      srv.close(() => ok());
    }),
  };
}
