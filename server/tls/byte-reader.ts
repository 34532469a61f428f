// A bounds-checked cursor over TLS wire structures (RFC 8446 §3): fixed-width big-endian
// integers and length-prefixed vectors. Every read past the end throws a TlsTapError naming the
// structure, so a malformed message reports where it broke instead of reading garbage.
import { TlsTapError } from './errors.ts';

export class ByteReader {
  private offset = 0;

  constructor(
    private readonly bytes: Uint8Array,
    /** What is being read, for error messages, e.g. "CertificateRequest". */
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  get atEnd(): boolean {
    return this.offset >= this.bytes.length;
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.offset++]!;
  }

  u16(): number {
    this.need(2);
    const value = (this.bytes[this.offset]! << 8) | this.bytes[this.offset + 1]!;
    this.offset += 2;
    return value;
  }

  u24(): number {
    this.need(3);
    const value = (this.bytes[this.offset]! << 16) | (this.bytes[this.offset + 1]! << 8) | this.bytes[this.offset + 2]!;
    this.offset += 3;
    return value;
  }

  /** The next `length` bytes, as a view (no copy). */
  take(length: number): Uint8Array {
    this.need(length);
    const view = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return view;
  }

  /** A vector with a 1-, 2- or 3-byte length prefix, as a reader over its contents. */
  vector(lengthBytes: 1 | 2 | 3, what: string = this.what): ByteReader {
    const length = lengthBytes === 1 ? this.u8() : lengthBytes === 2 ? this.u16() : this.u24();
    return new ByteReader(this.take(length), what);
  }

  /** A vector's contents as bytes. */
  vectorBytes(lengthBytes: 1 | 2 | 3): Uint8Array {
    const length = lengthBytes === 1 ? this.u8() : lengthBytes === 2 ? this.u16() : this.u24();
    return this.take(length);
  }

  private need(length: number): void {
    if (this.offset + length > this.bytes.length) {
      throw new TlsTapError('truncated', `${this.what}: needs ${length} more byte(s) at offset ${this.offset} but only ${this.remaining} remain`);
    }
  }
}
