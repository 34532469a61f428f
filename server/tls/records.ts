// The TLS record layer (RFC 8446 §5, RFC 5246 §6.2), read incrementally: TCP chunks are cut
// anywhere, records may carry several handshake messages, and one handshake message may span
// several records. Nothing here decrypts; protected records come out as they are.
import { copyBytes } from './bytes.ts';
import { TlsTapError } from './errors.ts';

export const CONTENT_TYPE = {
  changeCipherSpec: 20,
  alert: 21,
  handshake: 22,
  applicationData: 23,
  heartbeat: 24,
} as const;

const RECORD_HEADER_LENGTH = 5;

/** 2^14 plaintext + 2048 bytes of expansion: the largest record TLS 1.2 allows (1.3 allows less). */
const MAX_RECORD_LENGTH = 16384 + 2048;

/** No real handshake message comes near this (OpenSSL caps certificate lists at 100 KiB by default). */
const MAX_HANDSHAKE_MESSAGE_LENGTH = 1 << 20;

export interface TlsRecord {
  contentType: number;
  /** The record header's legacy_record_version, e.g. 0x0303. */
  legacyVersion: number;
  /** The 5 header bytes: TLS 1.3 uses them as the AEAD additional data. */
  header: Uint8Array;
  fragment: Uint8Array;
}

export interface HandshakeMessage {
  type: number;
  body: Uint8Array;
}

interface AlertMessage {
  level: number;
  description: number;
}

const EMPTY = new Uint8Array(0);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Splits a byte stream into records. Throws TlsTapError('not_tls') on a header TLS cannot produce. */
export class RecordSplitter {
  private pending: Uint8Array = EMPTY;

  push(chunk: Uint8Array): TlsRecord[] {
    const bytes = concat(this.pending, chunk);
    const records: TlsRecord[] = [];
    let offset = 0;
    while (bytes.length - offset >= RECORD_HEADER_LENGTH) {
      const contentType = bytes[offset]!;
      const legacyVersion = (bytes[offset + 1]! << 8) | bytes[offset + 2]!;
      const length = (bytes[offset + 3]! << 8) | bytes[offset + 4]!;
      checkHeader(contentType, legacyVersion, length, bytes.subarray(offset, offset + RECORD_HEADER_LENGTH));
      const end = offset + RECORD_HEADER_LENGTH + length;
      if (end > bytes.length) break;
      records.push({
        contentType,
        legacyVersion,
        header: bytes.subarray(offset, offset + RECORD_HEADER_LENGTH),
        fragment: bytes.subarray(offset + RECORD_HEADER_LENGTH, end),
      });
      offset = end;
    }
    // Copy the tail so a partial record does not pin the whole chunk it arrived in.
    this.pending = offset === bytes.length ? EMPTY : copyBytes(bytes.subarray(offset));
    return records;
  }

  /** Bytes of an incomplete record still waiting for the rest. */
  get buffered(): number {
    return this.pending.length;
  }
}

function checkHeader(contentType: number, legacyVersion: number, length: number, header: Uint8Array): void {
  const knownType = contentType >= CONTENT_TYPE.changeCipherSpec && contentType <= CONTENT_TYPE.heartbeat;
  if (!knownType || legacyVersion >> 8 !== 3 || length > MAX_RECORD_LENGTH) {
    const text = printable(header);
    throw new TlsTapError(
      'not_tls',
      `not a TLS record: header ${hex(header)}${text ? ` ("${text}")` : ''}` +
        (!knownType ? `; content type ${contentType} is not a TLS content type` : legacyVersion >> 8 !== 3 ? `; version 0x${legacyVersion.toString(16).padStart(4, '0')} is not TLS` : `; length ${length} exceeds ${MAX_RECORD_LENGTH}`),
    );
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** The header as text when it is all printable ASCII, which is how a plain-HTTP peer shows itself. */
function printable(bytes: Uint8Array): string | null {
  for (const b of bytes) if (b < 0x20 || b > 0x7e) return null;
  return String.fromCharCode(...bytes);
}

/** Joins handshake-record fragments and cuts them into whole handshake messages. */
export class HandshakeReassembler {
  private pending: Uint8Array = EMPTY;

  push(fragment: Uint8Array): HandshakeMessage[] {
    const bytes = concat(this.pending, fragment);
    const messages: HandshakeMessage[] = [];
    let offset = 0;
    while (bytes.length - offset >= 4) {
      const type = bytes[offset]!;
      const length = (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
      if (length > MAX_HANDSHAKE_MESSAGE_LENGTH) {
        throw new TlsTapError('too_large', `handshake message type ${type} declares ${length} bytes (limit ${MAX_HANDSHAKE_MESSAGE_LENGTH})`);
      }
      const end = offset + 4 + length;
      if (end > bytes.length) break;
      // Copy: message bodies may be kept (certificates) and must not pin socket buffers.
      messages.push({ type, body: copyBytes(bytes.subarray(offset + 4, end)) });
      offset = end;
    }
    this.pending = offset === bytes.length ? EMPTY : copyBytes(bytes.subarray(offset));
    return messages;
  }

  /** True while part of a message has been seen but not the rest. */
  get midMessage(): boolean {
    return this.pending.length > 0;
  }
}

/** Alerts are two bytes; TLS 1.2 allows them to be split across records, so keep an odd byte. */
export class AlertReassembler {
  private pending: Uint8Array = EMPTY;

  push(fragment: Uint8Array): AlertMessage[] {
    const bytes = concat(this.pending, fragment);
    const alerts: AlertMessage[] = [];
    let offset = 0;
    for (; offset + 2 <= bytes.length; offset += 2) {
      alerts.push({ level: bytes[offset]!, description: bytes[offset + 1]! });
    }
    this.pending = offset === bytes.length ? EMPTY : copyBytes(bytes.subarray(offset));
    return alerts;
  }
}
