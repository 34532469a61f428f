// The tap must be invisible to the TLS socket: errors (same object, same code), end, close,
// destroy and backpressure behave as over the plain socket, and nothing is left open.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { tapConnection } from './tap.ts';
import { createTappedSocket } from './tapped-socket.ts';
import { connectionOutcome } from './testing/connect.ts';
import { makeTapPki, type TapPki } from '../testing/test-pki.ts';

let pki: TapPki;
before(async () => {
  pki = await makeTapPki();
});
after(async () => {
  await pki?.remove();
});

interface Listening {
  port: number;
  /** Resolves once every accepted connection has closed, then stops listening. */
  closed(): Promise<void>;
}

/** Everything a test opened, so a failing test cannot keep the process alive. */
const opened = new Set<net.Server | net.Socket>();
after(() => {
  for (const handle of opened) {
    if (handle instanceof net.Socket) handle.destroy();
    else handle.close();
  }
});

async function listen(server: net.Server): Promise<Listening> {
  opened.add(server);
  server.on('connection', (socket: net.Socket) => opened.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    closed: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function tlsServer(onSecure: (socket: tls.TLSSocket) => void, options: tls.TlsOptions = {}): tls.Server {
  return tls.createServer({ key: pki.serverViaIntermediate.key, cert: pki.serverChainPem, ...options }, onSecure);
}

async function connectedSocket(port: number, options: net.NetConnectOpts = { port }): Promise<net.Socket> {
  const socket = net.connect({ ...options, port, host: '127.0.0.1' } as net.NetConnectOpts);
  opened.add(socket);
  await new Promise((resolve) => socket.once('connect', resolve));
  return socket;
}

function closed(socket: net.Socket): Promise<void> {
  return socket.destroyed && socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

const clientOptions = () => ({ servername: 'localhost', ca: pki.serverCa.cert });

describe('errors', { timeout: 10_000 }, () => {
  test('a reset during the handshake surfaces on the TLS socket as the net.Socket error itself (ECONNRESET)', async () => {
    const server = await listen(net.createServer((peer) => peer.once('data', () => peer.resetAndDestroy())));
    const socket = await connectedSocket(server.port);
    let netError: Error | undefined;
    socket.on('error', (e) => (netError = e));
    const tlsSocket = tapConnection(socket).connect(clientOptions());
    const tlsError = await new Promise<NodeJS.ErrnoException>((resolve) => tlsSocket.once('error', resolve));
    assert.equal(tlsError.code, 'ECONNRESET');
    assert.equal(tlsError, netError);
    await closed(tlsSocket);
    assert.equal(socket.destroyed, true);
    assert.deepEqual(await connectionOutcome(server.port, clientOptions(), 'plain'), { secureConnect: false, received: '', errorCode: 'ECONNRESET' });
    await server.closed();
  });

  test('a reset after the handshake surfaces as ECONNRESET too, as over a plain socket', async () => {
    const context = tls.createSecureContext({ key: pki.serverViaIntermediate.key, cert: pki.serverChainPem });
    const server = await listen(
      net.createServer((raw) => {
        const peer = new tls.TLSSocket(raw, { isServer: true, secureContext: context });
        peer.on('error', () => {});
        peer.on('secure', () => peer.write('before the reset', () => setTimeout(() => raw.resetAndDestroy(), 20)));
      }),
    );
    const expected = { secureConnect: true, received: 'before the reset', errorCode: 'ECONNRESET' };
    assert.deepEqual(await connectionOutcome(server.port, clientOptions(), 'plain'), expected);
    assert.deepEqual(await connectionOutcome(server.port, clientOptions(), 'tap'), expected);
    await server.closed();
  });

  test('a tee that throws does not disturb the connection', async () => {
    const server = await listen(tlsServer((peer) => peer.end('fine')));
    const socket = await connectedSocket(server.port);
    const { duplex, restoreHalfOpenPolicy } = createTappedSocket(socket, {
      inbound: () => {
        throw new Error('tee bug');
      },
      outbound: () => {
        throw new Error('tee bug');
      },
    });
    const tlsSocket = tls.connect({ ...clientOptions(), socket: duplex });
    restoreHalfOpenPolicy(tlsSocket);
    let received = '';
    tlsSocket.on('data', (chunk: Buffer) => (received += chunk));
    await closed(tlsSocket);
    assert.equal(received, 'fine');
    await server.closed();
  });
});

describe('end, close and destroy', { timeout: 10_000 }, () => {
  test('the server ending: the client sees data, end, close, and the net.Socket is closed', async () => {
    const server = await listen(tlsServer((peer) => peer.end('bye')));
    const socket = await connectedSocket(server.port);
    const tlsSocket = tapConnection(socket).connect(clientOptions());
    const events: string[] = [];
    for (const name of ['secureConnect', 'data', 'end', 'error']) tlsSocket.on(name, () => events.push(name));
    await closed(tlsSocket);
    assert.deepEqual(events, ['secureConnect', 'data', 'end']);
    await closed(socket);
    await server.closed();
  });

  test('the client ending: the server gets end after the data, everything closes', async () => {
    let serverGot = '';
    let resolveEnd!: () => void;
    const serverSawEnd = new Promise<void>((resolve) => (resolveEnd = resolve));
    const server = await listen(
      tlsServer((peer) => {
        peer.on('data', (chunk: Buffer) => (serverGot += chunk));
        peer.on('end', () => {
          resolveEnd();
          peer.end();
        });
      }),
    );
    const socket = await connectedSocket(server.port);
    const tlsSocket = tapConnection(socket).connect(clientOptions());
    await new Promise((resolve) => tlsSocket.once('secureConnect', resolve));
    tlsSocket.end('last words');
    await serverSawEnd;
    assert.equal(serverGot, 'last words');
    await closed(tlsSocket);
    await closed(socket);
    await server.closed();
  });

  test('destroying the TLS socket closes the net.Socket and the server sees the close', async () => {
    let resolveServerClose!: () => void;
    const serverSawClose = new Promise<void>((resolve) => (resolveServerClose = resolve));
    const server = await listen(
      tlsServer((peer) => {
        peer.on('error', () => {});
        peer.on('close', () => resolveServerClose());
      }),
    );
    const socket = await connectedSocket(server.port);
    const tlsSocket = tapConnection(socket).connect(clientOptions());
    await new Promise((resolve) => tlsSocket.once('secureConnect', resolve));
    let tlsError: Error | undefined;
    tlsSocket.on('error', (e) => (tlsError = e));
    tlsSocket.destroy();
    await closed(socket);
    await serverSawClose;
    assert.equal(tlsError, undefined);
    await server.closed();
  });

  for (const allowHalfOpen of [false, true]) {
    test(`the TLS socket keeps the net.Socket's allowHalfOpen (${allowHalfOpen})`, async () => {
      const server = await listen(tlsServer((peer) => peer.end()));
      const socket = await connectedSocket(server.port, { port: server.port, allowHalfOpen });
      const tlsSocket = tapConnection(socket).connect(clientOptions());
      assert.equal(tlsSocket.allowHalfOpen, allowHalfOpen);
      if (allowHalfOpen) tlsSocket.once('end', () => tlsSocket.end());
      await closed(tlsSocket);
      await closed(socket);
      await server.closed();
    });
  }
});

describe('data', { timeout: 20_000 }, () => {
  const size = 4 * 1024 * 1024;

  test('server to client: 4 MiB with a slow reader arrives intact', async () => {
    const payload = randomBytes(size);
    const server = await listen(tlsServer((peer) => peer.end(payload)));
    const socket = await connectedSocket(server.port);
    const tlsSocket = tapConnection(socket).connect(clientOptions());
    const hash = createHash('sha256');
    let received = 0;
    tlsSocket.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      received += chunk.length;
      // Stall now and then so backpressure reaches the net.Socket.
      if (received % (512 * 1024) < chunk.length) {
        tlsSocket.pause();
        setTimeout(() => tlsSocket.resume(), 10);
      }
    });
    await closed(tlsSocket);
    assert.equal(received, size);
    assert.equal(hash.digest('hex'), createHash('sha256').update(payload).digest('hex'));
    await server.closed();
  });

  test('a stalled reader stops the reading from the network (backpressure reaches the net.Socket)', async () => {
    const payload = randomBytes(size);
    const server = await listen(tlsServer((peer) => peer.end(payload)));
    const socket = await connectedSocket(server.port);
    const tap = tapConnection(socket);
    const tlsSocket = tap.connect(clientOptions());
    await new Promise((resolve) => tlsSocket.once('secureConnect', resolve));
    tlsSocket.pause();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(socket.isPaused(), true, 'the net.Socket was paused');
    assert.ok(tap.duplex.readableLength < 256 * 1024, `only a little is buffered in the tap (${tap.duplex.readableLength} bytes)`);
    let received = 0;
    tlsSocket.on('data', (chunk: Buffer) => (received += chunk.length));
    tlsSocket.resume();
    await closed(tlsSocket);
    assert.equal(received, size);
    await server.closed();
  });

  test('while a chunk waits its turn with the scheduler, the net.Socket is paused; 4 MiB arrive intact and in order', async () => {
    const payload = randomBytes(size);
    const server = await listen(net.createServer((peer) => peer.end(payload)));
    const socket = await connectedSocket(server.port);
    // A scheduler like the relay's under load: every other task waits for the test to let it
    // run, and nothing overtakes a waiting task.
    const held: (() => void)[] = [];
    let n = 0;
    const deliver = (task: () => void) => {
      if (!held.length && n++ % 2 === 0) {
        task();
        return true;
      }
      held.push(task);
      return false;
    };
    const { duplex } = createTappedSocket(socket, { inbound: () => {}, outbound: () => {} }, deliver);
    const hash = createHash('sha256');
    let received = 0;
    duplex.on('data', (chunk: Buffer) => { hash.update(chunk); received += chunk.length; });
    const ended = new Promise((resolve) => duplex.once('end', resolve));
    let pausedWhileHeld = 0;
    let done = false;
    void ended.then(() => { done = true; });
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (held.length && socket.isPaused()) pausedWhileHeld++;
      held.splice(0).forEach((task) => task());
    }
    assert.equal(received, size);
    assert.equal(hash.digest('hex'), createHash('sha256').update(payload).digest('hex'));
    assert.ok(pausedWhileHeld > 0, 'the socket was paused while a chunk was held');
    duplex.destroy();
    await server.closed();
  });

  test('client to server: 4 MiB arrives intact', async () => {
    const payload = randomBytes(size);
    const server = await listen(
      tlsServer((peer) => {
        const hash = createHash('sha256');
        peer.on('data', (chunk: Buffer) => hash.update(chunk));
        peer.on('end', () => peer.end(hash.digest('hex')));
      }),
    );
    const socket = await connectedSocket(server.port);
    const tlsSocket = tapConnection(socket).connect(clientOptions());
    let reply = '';
    tlsSocket.on('data', (chunk: Buffer) => (reply += chunk));
    tlsSocket.end(payload);
    await closed(tlsSocket);
    assert.equal(reply, createHash('sha256').update(payload).digest('hex'));
    await server.closed();
  });
});
