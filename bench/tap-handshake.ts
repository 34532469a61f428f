// How much the tap costs a handshake: 200 TLS 1.3 handshakes with an RSA-2048 client certificate
// through the tap, interleaved with 200 over the plain socket, against one Node TLS server in a
// child process (its own core, as a real server would be). Each handshake starts on an already
// connected socket, so TCP setup is not measured.
//
//   node --import tsx bench/tap-handshake.ts [iterations]
import { fork } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { tapConnection } from '../server/tls/tap.ts';
import { makeTapPki, type TapPki } from '../server/testing/test-pki.ts';

const SERVE = '--serve';

interface ServerConfig {
  key: string;
  cert: string;
  ca: string;
}

/** The child: a TLS 1.3 server requiring a client certificate; sends one byte once it accepted one. */
function serve(): void {
  process.once('message', (config: ServerConfig) => {
    const server = tls.createServer({ ...config, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (socket) => socket.end('k'));
    server.on('tlsClientError', () => {});
    server.listen(0, '127.0.0.1', () => process.send!((server.address() as AddressInfo).port));
  });
}

interface Timing {
  /** tls.connect() to secureConnect. */
  secureConnectMs: number;
  /** tls.connect() to the server's first byte: the server has verified the client certificate. */
  firstByteMs: number;
}

async function handshake(port: number, pki: TapPki, through: 'tap' | 'plain'): Promise<Timing> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise((resolve) => socket.once('connect', resolve));
  const options = { servername: 'localhost', ca: pki.serverCa.cert, cert: pki.clientRsa.cert, key: pki.clientRsa.key };
  const start = performance.now();
  const tap = through === 'tap' ? tapConnection(socket) : null;
  const tlsSocket = tap ? tap.connect(options) : tls.connect({ ...options, socket });
  let secureConnectMs = NaN;
  tlsSocket.once('secureConnect', () => (secureConnectMs = performance.now() - start));
  const firstByteMs = await new Promise<number>((resolve, reject) => {
    tlsSocket.once('data', () => resolve(performance.now() - start));
    tlsSocket.once('error', reject);
  });
  // As the relay will: read the observation once the handshake is over (outside the timing).
  if (tap && !tap.observation().certificateRequested) throw new Error('the tap did not see the CertificateRequest');
  tlsSocket.destroy();
  await new Promise((resolve) => socket.destroyed && socket.closed ? resolve(undefined) : socket.once('close', resolve));
  return { secureConnectMs, firstByteMs };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  return sorted[low]! + (sorted[Math.ceil(position)]! - sorted[low]!) * (position - low);
}

async function main(): Promise<void> {
  const iterations = Number(process.argv[2] ?? 200);
  const warmup = 20;
  const pki = await makeTapPki();
  const child = fork(fileURLToPath(import.meta.url), [SERVE]);
  try {
    const port = await new Promise<number>((resolve) => {
      child.once('message', (message) => resolve(message as number));
      child.send({ key: pki.serverViaIntermediate.key, cert: pki.serverChainPem, ca: pki.clientCa.cert } satisfies ServerConfig);
    });
    const results: Record<'tap' | 'plain', Timing[]> = { tap: [], plain: [] };
    for (let i = 0; i < warmup + iterations; i++) {
      // Alternate which goes first so neither always follows the other's garbage or cache state.
      const order = i % 2 === 0 ? (['plain', 'tap'] as const) : (['tap', 'plain'] as const);
      for (const through of order) {
        const timing = await handshake(port, pki, through);
        if (i >= warmup) results[through].push(timing);
      }
    }
    const row = (label: string, pick: (t: Timing) => number) => {
      const plain = results.plain.map(pick);
      const tap = results.tap.map(pick);
      const plainMedian = quantile(plain, 0.5);
      const tapMedian = quantile(tap, 0.5);
      // Each tap handshake ran next to a plain one: the median of those pairs' ratios is less
      // sensitive to the machine getting busier or quieter during the run.
      const pairedRatio = quantile(tap.map((t, i) => t / plain[i]!), 0.5);
      console.log(
        `${label.padEnd(14)} plain median ${plainMedian.toFixed(3)} ms (p90 ${quantile(plain, 0.9).toFixed(3)})   ` +
          `tap median ${tapMedian.toFixed(3)} ms (p90 ${quantile(tap, 0.9).toFixed(3)})   ` +
          `ratio of medians ${(tapMedian / plainMedian).toFixed(3)}   median paired ratio ${pairedRatio.toFixed(3)}`,
      );
    };
    console.log(`${iterations} handshakes each (after ${warmup} warm-up), TLS 1.3, RSA-2048 client certificate, Node ${process.version}`);
    row('secureConnect', (t) => t.secureConnectMs);
    row('first byte', (t) => t.firstByteMs);
  } finally {
    child.kill();
    await pki.remove();
  }
}

if (process.argv.includes(SERVE)) serve();
else await main();
