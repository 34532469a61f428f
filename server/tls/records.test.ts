// Record and handshake framing on hand-made bytes: cuts anywhere, several messages per record,
// one message over several records, split alerts, and refusal of what is not TLS.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TlsTapError } from './errors.ts';
import { AlertReassembler, HandshakeReassembler, RecordSplitter } from './records.ts';

const record = (type: number, fragment: number[]) => [type, 3, 3, fragment.length >> 8, fragment.length & 0xff, ...fragment];
const message = (type: number, body: number[]) => [type, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff, ...body];

test('records come out whole however the stream is cut', () => {
  const stream = Uint8Array.from([...record(22, [1, 2, 3]), ...record(21, [2, 40]), ...record(23, [])]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const splitter = new RecordSplitter();
    const records = [...splitter.push(stream.subarray(0, cut)), ...splitter.push(stream.subarray(cut))];
    assert.deepEqual(
      records.map((r) => [r.contentType, r.legacyVersion, [...r.fragment]]),
      [
        [22, 0x0303, [1, 2, 3]],
        [21, 0x0303, [2, 40]],
        [23, 0x0303, []],
      ],
    );
    assert.equal(splitter.buffered, 0);
    assert.deepEqual([...records[0]!.header], [22, 3, 3, 0, 3]);
  }
});

test('refuses what cannot be a TLS record header, naming the bytes', () => {
  for (const [bytes, reason] of [
    ['HTTP/1.1 200 OK', /"HTTP\/".*content type 72/],
    [[22, 2, 0, 0, 1], /version 0x0200/],
    [[22, 3, 3, 0x48, 0x01], /length 18433/],
  ] as const) {
    const input = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : Uint8Array.from(bytes);
    assert.throws(() => new RecordSplitter().push(input), (e: unknown) => e instanceof TlsTapError && e.code === 'not_tls' && reason.test(e.message));
  }
});

test('handshake messages: several in one fragment, one across many', () => {
  const a = message(2, [9, 9]);
  const b = message(11, Array.from({ length: 300 }, (_, i) => i & 0xff));
  const c = message(14, []);
  const bytes = [...a, ...b, ...c];
  for (const pieceSize of [1, 4, 5, 100, bytes.length]) {
    const reassembler = new HandshakeReassembler();
    const messages = [];
    for (let i = 0; i < bytes.length; i += pieceSize) messages.push(...reassembler.push(Uint8Array.from(bytes.slice(i, i + pieceSize))));
    assert.deepEqual(
      messages.map((m) => [m.type, m.body.length]),
      [
        [2, 2],
        [11, 300],
        [14, 0],
      ],
      `pieces of ${pieceSize}`,
    );
    assert.equal(reassembler.midMessage, false);
  }
});

test('a handshake message declaring more than 1 MiB is refused before buffering it', () => {
  assert.throws(() => new HandshakeReassembler().push(Uint8Array.from([11, 0x20, 0, 0])), (e: unknown) => e instanceof TlsTapError && e.code === 'too_large');
});

test('alerts split across records are joined', () => {
  const alerts = new AlertReassembler();
  assert.deepEqual(alerts.push(Uint8Array.from([2, 48, 2])), [{ level: 2, description: 48 }]);
  assert.deepEqual(alerts.push(Uint8Array.from([116])), [{ level: 2, description: 116 }]);
});
