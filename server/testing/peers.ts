// Real peers for tests: openssl s_server, and small listeners that misbehave on purpose.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

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

/** Starts `openssl s_server` with the given extra arguments and waits until it accepts. */
export async function opensslServer(args: string[]): Promise<Peer & { output(): string }> {
  const port = await freePort();
  const child: ChildProcess = spawn('openssl', ['s_server', '-accept', String(port), '-naccept', '1000', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`openssl s_server did not start: ${out}`)), 10_000);
    const check = () => {
      if (out.includes('ACCEPT')) { clearTimeout(timer); resolve(); }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`openssl s_server exited ${code}: ${out}`)); });
  });
  return {
    port,
    output: () => out,
    close: () => new Promise<void>((ok) => {
      if (child.exitCode !== null) return ok();
      child.once('exit', () => ok());
      child.kill('SIGKILL');
    }),
  };
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
