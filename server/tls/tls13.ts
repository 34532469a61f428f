// TLS 1.3 record protection (RFC 8446 §5.2–5.3, §7.1, §7.3), decrypt side only: from a traffic
// secret that Node hands out on the `keylog` event, derive the record key and IV and open the
// records one by one. This is how the tap reads the CertificateRequest, the server's chain and
// the client's Certificate, which TLS 1.3 encrypts.
import { createDecipheriv, createHmac, type CipherCCMTypes, type CipherChaCha20Poly1305Types, type CipherGCMTypes } from 'node:crypto';
import { TlsTapError } from './errors.ts';
import { CONTENT_TYPE, type TlsRecord } from './records.ts';

interface Tls13Suite {
  hash: 'sha256' | 'sha384';
  cipher: CipherGCMTypes | CipherChaCha20Poly1305Types | CipherCCMTypes;
  keyLength: number;
  tagLength: number;
}

const TLS13_SUITES: Readonly<Record<number, Tls13Suite>> = {
  0x1301: { hash: 'sha256', cipher: 'aes-128-gcm', keyLength: 16, tagLength: 16 },
  0x1302: { hash: 'sha384', cipher: 'aes-256-gcm', keyLength: 32, tagLength: 16 },
  0x1303: { hash: 'sha256', cipher: 'chacha20-poly1305', keyLength: 32, tagLength: 16 },
  0x1304: { hash: 'sha256', cipher: 'aes-128-ccm', keyLength: 16, tagLength: 16 },
  0x1305: { hash: 'sha256', cipher: 'aes-128-ccm', keyLength: 16, tagLength: 8 },
};

const IV_LENGTH = 12;

export function isDecryptableTls13Suite(cipherSuite: number): boolean {
  return cipherSuite in TLS13_SUITES;
}

/** HKDF-Expand (RFC 5869 §2.3). Node's hkdf() always extracts first, which TLS 1.3 does not want here. */
export function hkdfExpand(hash: string, pseudoRandomKey: Uint8Array, info: Uint8Array, length: number): Buffer {
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let counter = 1, produced = 0; produced < length; counter++) {
    previous = createHmac(hash, pseudoRandomKey).update(previous).update(info).update(Uint8Array.of(counter)).digest();
    blocks.push(previous);
    produced += previous.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** HKDF-Expand-Label (RFC 8446 §7.1) with the "tls13 " label prefix. */
export function hkdfExpandLabel(hash: string, secret: Uint8Array, label: string, context: Uint8Array, length: number): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'ascii');
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, fullLabel.length]), fullLabel, Buffer.from([context.length]), context]);
  return hkdfExpand(hash, secret, info, length);
}

interface InnerPlaintext {
  /** The real content type, hidden inside the encryption (RFC 8446 §5.2). */
  contentType: number;
  content: Buffer;
}

/** Opens the protected records of one direction and one key epoch, counting sequence numbers. */
export class Tls13RecordDecryptor {
  private readonly suite: Tls13Suite;
  private readonly key: Buffer;
  private readonly iv: Buffer;
  private sequence = 0n;

  constructor(cipherSuite: number, trafficSecret: Uint8Array) {
    const suite = TLS13_SUITES[cipherSuite];
    if (!suite) throw new TlsTapError('decrypt_failed', `cipher suite 0x${cipherSuite.toString(16).padStart(4, '0')} is not a TLS 1.3 suite this tap can decrypt`);
    this.suite = suite;
    this.key = hkdfExpandLabel(suite.hash, trafficSecret, 'key', new Uint8Array(0), suite.keyLength);
    this.iv = hkdfExpandLabel(suite.hash, trafficSecret, 'iv', new Uint8Array(0), IV_LENGTH);
  }

  /** Records opened so far with this key. */
  get recordsOpened(): number {
    return Number(this.sequence);
  }

  decrypt(record: TlsRecord): InnerPlaintext {
    if (record.contentType !== CONTENT_TYPE.applicationData) {
      throw new TlsTapError('decrypt_failed', `record type ${record.contentType} is not a protected TLS 1.3 record`);
    }
    const { tagLength } = this.suite;
    if (record.fragment.length < tagLength + 1) throw new TlsTapError('malformed', `protected record of ${record.fragment.length} bytes is shorter than its tag`);
    const ciphertext = record.fragment.subarray(0, record.fragment.length - tagLength);
    const tag = record.fragment.subarray(record.fragment.length - tagLength);
    const plaintext = this.open(this.nonce(), record.header, ciphertext, tag);
    this.sequence++;
    return stripPadding(plaintext);
  }

  /** The per-record nonce: the IV XOR the 64-bit sequence number, right-aligned. */
  private nonce(): Buffer {
    const nonce = Buffer.from(this.iv);
    const sequence = Buffer.alloc(8);
    sequence.writeBigUInt64BE(this.sequence);
    for (let i = 0; i < 8; i++) nonce[IV_LENGTH - 8 + i]! ^= sequence[i]!;
    return nonce;
  }

  private open(nonce: Buffer, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): Buffer {
    const { cipher, tagLength } = this.suite;
    try {
      // The three AEAD families take the same calls; CCM and ChaCha20 also want the plaintext length up front.
      const decipher = createDecipheriv(cipher as CipherCCMTypes, this.key, nonce, { authTagLength: tagLength });
      decipher.setAAD(aad, { plaintextLength: ciphertext.length });
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch (error) {
      throw new TlsTapError('decrypt_failed', `record ${this.sequence} failed authentication with the logged secret (${(error as Error).message})`);
    }
  }
}

/** TLSInnerPlaintext = content || type || zeros: the type is the last non-zero byte. */
function stripPadding(plaintext: Buffer): InnerPlaintext {
  let end = plaintext.length - 1;
  while (end >= 0 && plaintext[end] === 0) end--;
  if (end < 0) throw new TlsTapError('malformed', 'protected record holds only padding, no content type');
  return { contentType: plaintext[end]!, content: plaintext.subarray(0, end) };
}
