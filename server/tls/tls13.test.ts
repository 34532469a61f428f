// TLS 1.3 key schedule and record opening checked against published vectors and Node's own
// HKDF, plus the record-level rules (sequence numbers, padding, tampering).
import assert from 'node:assert/strict';
import { createCipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { TlsTapError } from './errors.ts';
import type { TlsRecord } from './records.ts';
import { hkdfExpand, hkdfExpandLabel, Tls13RecordDecryptor } from './tls13.ts';

test('HKDF-Expand-Label gives RFC 8448 §3 server handshake key and IV', () => {
  const secret = Buffer.from('b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38', 'hex');
  assert.equal(hkdfExpandLabel('sha256', secret, 'key', new Uint8Array(0), 16).toString('hex'), '3fce516009c21727d0f2e4e86ee403bc');
  assert.equal(hkdfExpandLabel('sha256', secret, 'iv', new Uint8Array(0), 12).toString('hex'), '5d313eb2671276ee13000b30');
});

test('HKDF-Expand agrees with Node hkdf (extract then expand), over several output blocks', () => {
  for (const hash of ['sha256', 'sha384']) {
    const ikm = randomBytes(32);
    const salt = randomBytes(16);
    const info = randomBytes(10);
    const pseudoRandomKey = createHmac(hash, salt).update(ikm).digest();
    for (const length of [12, 32, 100]) {
      assert.equal(hkdfExpand(hash, pseudoRandomKey, info, length).toString('hex'), Buffer.from(hkdfSync(hash, ikm, salt, info, length)).toString('hex'));
    }
  }
});

/** Seals records the way a TLS 1.3 sender does, written independently of the decryptor. */
function seal(cipherSuite: number, secret: Buffer, sequence: number, contentType: number, content: Buffer, padding: number): TlsRecord {
  const suites: Record<number, { hash: string; cipher: string; keyLength: number; tag: number }> = {
    0x1301: { hash: 'sha256', cipher: 'aes-128-gcm', keyLength: 16, tag: 16 },
    0x1302: { hash: 'sha384', cipher: 'aes-256-gcm', keyLength: 32, tag: 16 },
    0x1303: { hash: 'sha256', cipher: 'chacha20-poly1305', keyLength: 32, tag: 16 },
  };
  const s = suites[cipherSuite]!;
  const key = hkdfExpandLabel(s.hash, secret, 'key', new Uint8Array(0), s.keyLength);
  const nonce = hkdfExpandLabel(s.hash, secret, 'iv', new Uint8Array(0), 12);
  nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ sequence) >>> 0, 8);
  const inner = Buffer.concat([content, Buffer.from([contentType]), Buffer.alloc(padding)]);
  const length = inner.length + s.tag;
  const header = Buffer.from([23, 3, 3, length >> 8, length & 0xff]);
  const cipher = createCipheriv(s.cipher as 'aes-128-gcm', key, nonce, { authTagLength: s.tag });
  cipher.setAAD(header, { plaintextLength: inner.length });
  const fragment = Buffer.concat([cipher.update(inner), cipher.final(), cipher.getAuthTag()]);
  return { contentType: 23, legacyVersion: 0x0303, header, fragment };
}

test('opens consecutive records, strips padding and finds the inner content type', () => {
  for (const suite of [0x1301, 0x1302, 0x1303]) {
    const secret = randomBytes(suite === 0x1302 ? 48 : 32);
    const decryptor = new Tls13RecordDecryptor(suite, secret);
    const messages = [Buffer.from('first'), Buffer.from([0, 0, 1]), Buffer.from('third')];
    messages.forEach((content, sequence) => {
      const opened = decryptor.decrypt(seal(suite, secret, sequence, sequence === 2 ? 21 : 22, content, sequence * 7));
      assert.deepEqual([opened.contentType, opened.content.toString('hex')], [sequence === 2 ? 21 : 22, content.toString('hex')]);
    });
    assert.equal(decryptor.recordsOpened, 3);
  }
});

test('a tampered record or the wrong secret fails with decrypt_failed', () => {
  const secret = randomBytes(32);
  const sealed = seal(0x1301, secret, 0, 22, Buffer.from('hello'), 0);
  const tampered = { ...sealed, fragment: Buffer.from(sealed.fragment) };
  tampered.fragment[0]! ^= 1;
  const isDecryptFailure = (e: unknown) => e instanceof TlsTapError && e.code === 'decrypt_failed';
  assert.throws(() => new Tls13RecordDecryptor(0x1301, secret).decrypt(tampered), isDecryptFailure);
  assert.throws(() => new Tls13RecordDecryptor(0x1301, randomBytes(32)).decrypt(sealed), isDecryptFailure);
  // Out of order (sequence 1 where 0 was used) fails too: the nonce depends on it.
  const decryptor = new Tls13RecordDecryptor(0x1301, secret);
  decryptor.decrypt(sealed);
  assert.throws(() => decryptor.decrypt(sealed), isDecryptFailure);
  assert.throws(() => new Tls13RecordDecryptor(0xc02f, secret), isDecryptFailure);
});
