// The observer on its own: a live handshake recorded byte for byte and replayed cut every which
// way, with the keylog lines early or late, must read the same; garbage must never throw.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import fc from 'fast-check';
import type { TlsObservation } from './observation.ts';
import { TlsHandshakeObserver } from './observer.ts';
import { createTappedSocket } from './tapped-socket.ts';
import { connectThroughTap } from './testing/connect.ts';
import { makeTapPki, type TapPki } from '../testing/test-pki.ts';

interface Recording {
  /** Chunks as they crossed the socket, in order. */
  chunks: { from: 'client' | 'server'; bytes: Uint8Array }[];
  keylog: Buffer[];
}

let pki: TapPki;
const recordings = new Map<string, Recording>();

/** Runs one real handshake (client certificate requested and sent) and keeps every byte. */
async function record(version: 'TLSv1.2' | 'TLSv1.3'): Promise<Recording> {
  const server = tls.createServer(
    { key: pki.serverViaIntermediate.key, cert: pki.serverChainPem, requestCert: true, ca: [pki.clientCa.cert, pki.secondClientCa.cert], minVersion: version, maxVersion: version },
    (peer) => peer.end('done'),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const recording: Recording = { chunks: [], keylog: [] };
  const { duplex, restoreHalfOpenPolicy } = createTappedSocket(socket, {
    inbound: (bytes) => recording.chunks.push({ from: 'server', bytes: new Uint8Array(bytes) }),
    outbound: (bytes) => recording.chunks.push({ from: 'client', bytes: new Uint8Array(bytes) }),
  });
  const tlsSocket = tls.connect({ socket: duplex, servername: 'localhost', ca: pki.serverCa.cert, cert: pki.clientRsa.cert, key: pki.clientRsa.key });
  restoreHalfOpenPolicy(tlsSocket);
  tlsSocket.on('keylog', (line) => recording.keylog.push(line));
  tlsSocket.resume();
  await new Promise((resolve) => tlsSocket.once('close', resolve));
  await new Promise((resolve) => server.close(resolve));
  return recording;
}

/** Feeds a recording to a fresh observer, cutting each chunk into pieces of `pieceSize` bytes. */
function replay(recording: Recording, { pieceSize, keylog }: { pieceSize: number; keylog: 'first' | 'last' }) {
  const observer = new TlsHandshakeObserver();
  if (keylog === 'first') recording.keylog.forEach((line) => observer.keylog(line));
  for (const { from, bytes } of recording.chunks) {
    for (let i = 0; i < bytes.length; i += pieceSize) {
      const piece = bytes.subarray(i, i + pieceSize);
      if (from === 'client') observer.clientBytes(piece);
      else observer.serverBytes(piece);
    }
  }
  if (keylog === 'last') recording.keylog.forEach((line) => observer.keylog(line));
  return observer.observation();
}

/** Problems must come from the parser's own checks, never from a crash inside it. */
function assertOnlyTapErrors(o: TlsObservation): void {
  assert.doesNotMatch(o.parseProblem?.message ?? '', /^unexpected/);
  assert.doesNotMatch(o.decryptionFailed ?? '', /unexpected/);
}

before(async () => {
  pki = await makeTapPki();
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) recordings.set(version, await record(version));
});
after(async () => {
  await pki?.remove();
});

describe('replayed handshakes', () => {
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    test(`${version}: any chunking and keylog timing reads the same`, () => {
      const recording = recordings.get(version)!;
      const reference = replay(recording, { pieceSize: Infinity, keylog: 'last' });
      assert.equal(reference.version, version);
      assert.equal(reference.certificateRequested, true);
      assert.equal(reference.acceptableCAs.length, 2);
      assert.deepEqual(reference.clientChainDer, [pki.clientRsa.der]);
      assert.deepEqual(reference.serverChainDer, [pki.serverViaIntermediate.der, pki.serverIntermediate.der]);
      assert.equal(reference.decryptionFailed, undefined);
      for (const pieceSize of [1, 2, 3, 5, 7, 64, 1000]) {
        for (const keylog of ['first', 'last'] as const) {
          assert.deepEqual(replay(recording, { pieceSize, keylog }), reference, `pieces of ${pieceSize}, keylog ${keylog}`);
        }
      }
    });
  }

  test('TLS 1.3 without the keylog: says why the encrypted part is missing', () => {
    const recording = recordings.get('TLSv1.3')!;
    const observer = new TlsHandshakeObserver();
    for (const { from, bytes } of recording.chunks) (from === 'client' ? observer.clientBytes(bytes) : observer.serverBytes(bytes));
    const o = observer.observation();
    assert.equal(o.version, 'TLSv1.3');
    assert.equal(o.certificateRequested, false);
    assert.match(o.decryptionFailed ?? '', /SERVER_HANDSHAKE_TRAFFIC_SECRET.*attach\(\)/);
  });

  test('TLS 1.3 with a wrong secret: decryption fails with a reason, nothing throws', () => {
    const recording = recordings.get('TLSv1.3')!;
    const observer = new TlsHandshakeObserver();
    for (const line of recording.keylog) {
      const [label, random] = line.toString().trim().split(' ');
      observer.keylog(`${label} ${random} ${randomBytes(48).toString('hex')}`);
    }
    for (const { from, bytes } of recording.chunks) (from === 'client' ? observer.clientBytes(bytes) : observer.serverBytes(bytes));
    assert.match(observer.observation().decryptionFailed ?? '', /failed authentication/);
  });

  test('keylog lines of another connection are ignored', () => {
    const recording = recordings.get('TLSv1.3')!;
    const observer = new TlsHandshakeObserver();
    const [first] = recording.chunks;
    observer.clientBytes(first!.bytes);
    for (const line of recordings.get('TLSv1.3')!.keylog) {
      const [label, , secret] = line.toString().trim().split(' ');
      observer.keylog(`${label} ${randomBytes(32).toString('hex')} ${secret}`);
    }
    for (const { from, bytes } of recording.chunks.slice(1)) (from === 'client' ? observer.clientBytes(bytes) : observer.serverBytes(bytes));
    assert.match(observer.observation().decryptionFailed ?? '', /still wait/);
  });
});

describe('garbage never throws', () => {
  test('a peer answering in plain HTTP: parse problem recorded, TLS error as usual', async () => {
    const server = net.createServer((peer) => peer.once('data', () => peer.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const result = await connectThroughTap((server.address() as AddressInfo).port, {});
    server.close();
    assert.equal(result.secureConnect, false);
    assert.ok(result.error, 'the TLS socket reports the failure');
    assert.equal(result.observation.parseProblem?.from, 'server');
    assert.equal(result.observation.parseProblem?.code, 'not_tls');
    assert.match(result.observation.parseProblem?.message ?? '', /"HTTP\/"/);
    assert.equal(result.observation.certificateRequested, false);
  });

  test('random bytes in either direction, random keylog lines', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ from: fc.constantFrom('client', 'server'), bytes: fc.uint8Array({ maxLength: 300 }) }), { maxLength: 20 }),
        fc.array(fc.string()),
        (chunks, lines) => {
          const observer = new TlsHandshakeObserver();
          lines.forEach((line) => observer.keylog(line));
          for (const { from, bytes } of chunks) (from === 'client' ? observer.clientBytes(bytes) : observer.serverBytes(bytes));
          assertOnlyTapErrors(observer.observation());
        },
      ),
      { numRuns: 500 },
    );
  });

  test('well-framed records around random handshake bodies, after a real TLS 1.3 start', () => {
    const recording = recordings.get('TLSv1.3')!;
    const record = (type: number, body: Uint8Array) => Uint8Array.from([type, 3, 3, body.length >> 8, body.length & 0xff, ...body]);
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            from: fc.constantFrom('client', 'server'),
            type: fc.constantFrom(20, 21, 22, 23, 24),
            messageType: fc.constantFrom(1, 2, 4, 8, 11, 12, 13, 15, 20, 22, 24),
            body: fc.uint8Array({ maxLength: 200 }),
          }),
          { maxLength: 10 },
        ),
        fc.boolean(),
        (records, realStart) => {
          const observer = new TlsHandshakeObserver();
          recording.keylog.forEach((line) => observer.keylog(line));
          if (realStart) for (const { from, bytes } of recording.chunks.slice(0, 2)) (from === 'client' ? observer.clientBytes(bytes) : observer.serverBytes(bytes));
          for (const { from, type, messageType, body } of records) {
            const fragment = type === 22 ? Uint8Array.from([messageType, 0, body.length >> 8, body.length & 0xff, ...body]) : body;
            const bytes = record(type, fragment);
            if (from === 'client') observer.clientBytes(bytes);
            else observer.serverBytes(bytes);
          }
          assertOnlyTapErrors(observer.observation());
        },
      ),
      { numRuns: 500 },
    );
  });
});
