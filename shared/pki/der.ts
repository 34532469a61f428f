// A minimal DER/BER reader: enough to tell a truncated file from a damaged one, and to tell what
// a binary blob is (certificate, key, PKCS#12, …) before handing it to a real parser. Full
// parsing stays with @peculiar/x509 and pkijs; their errors do not say "the file was cut short".
import { HarnessError } from '../errors.ts';

export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the content (past the end-of-contents octets for indefinite length). */
  end: number;
  /** Offset just past the content octets proper. */
  contentEnd: number;
}

export class DerError extends HarnessError<'der_truncated' | 'der_malformed'> {}

const MAX_DEPTH = 64;

/** Reads one TLV at `offset`, checking it fits in `bytes`; throws DerError otherwise. */
export function readTlv(bytes: Uint8Array, offset = 0, depth = 0): Tlv {
  if (depth > MAX_DEPTH) throw new DerError('der_malformed', 'ASN.1 nesting is too deep');
  let pos = offset;
  if (pos >= bytes.length) throw new DerError('der_truncated', `data ends at byte ${bytes.length} where an element was expected`);
  const tag = bytes[pos++]!;
  if ((tag & 0x1f) === 0x1f) {
    // High tag numbers are not used by anything read here, but skip them correctly.
    while (pos < bytes.length && bytes[pos]! & 0x80) pos++;
    pos++;
  }
  if (pos >= bytes.length) throw new DerError('der_truncated', `data ends at byte ${bytes.length} inside an element header`);
  const first = bytes[pos++]!;
  if (first === 0x80) {
    if (!(tag & 0x20)) throw new DerError('der_malformed', `primitive element at byte ${offset} has indefinite length`);
    let child = pos;
    for (;;) {
      if (child + 1 < bytes.length && bytes[child] === 0 && bytes[child + 1] === 0) {
        return { tag, start: offset, contentStart: pos, contentEnd: child, end: child + 2 };
      }
      if (child >= bytes.length) throw new DerError('der_truncated', `data ends at byte ${bytes.length} before the end of an indefinite-length element`);
      child = readTlv(bytes, child, depth + 1).end;
    }
  }
  let length = first;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n > 4) throw new DerError('der_malformed', `element at byte ${offset} declares an impossible length`);
    if (pos + n > bytes.length) throw new DerError('der_truncated', `data ends at byte ${bytes.length} inside an element header`);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + bytes[pos++]!;
  }
  const end = pos + length;
  if (end > bytes.length) {
    throw new DerError('der_truncated', `element at byte ${offset} declares ${length} bytes of content but only ${bytes.length - pos} follow (${end - bytes.length} missing)`);
  }
  return { tag, start: offset, contentStart: pos, contentEnd: end, end };
}

/** The direct children of a constructed element. */
export function children(bytes: Uint8Array, parent: Tlv, depth = 0): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = parent.contentStart; pos < parent.contentEnd; ) {
    const child = readTlv(bytes, pos, depth + 1);
    out.push(child);
    pos = child.end;
  }
  return out;
}

/** Splits bytes into top-level elements (a file may hold several DER certificates back to back). */
export function topLevel(bytes: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = 0; pos < bytes.length; ) {
    const tlv = readTlv(bytes, pos);
    out.push(tlv);
    pos = tlv.end;
  }
  return out;
}

export type DerKind =
  | 'certificate'
  | 'csr'
  | 'crl'
  | 'pkcs12'
  | 'pkcs7'
  | 'pkcs8'
  | 'encrypted-pkcs8'
  | 'pkcs1-rsa'
  | 'sec1-ec'
  | 'spki'
  | 'unknown';

export const TAG = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  context0: 0xa0,
  context1: 0xa1,
} as const;

function intValue(bytes: Uint8Array, tlv: Tlv | undefined): number | null {
  if (!tlv || tlv.tag !== TAG.integer || tlv.contentEnd - tlv.contentStart > 4) return null;
  let v = 0;
  for (let i = tlv.contentStart; i < tlv.contentEnd; i++) v = v * 256 + bytes[i]!;
  return v;
}

/** Decodes an OBJECT IDENTIFIER's content to dotted form. */
export function oidOf(bytes: Uint8Array, tlv: Tlv): string {
  const parts: number[] = [];
  let value = 0;
  for (let i = tlv.contentStart; i < tlv.contentEnd; i++) {
    value = value * 128 + (bytes[i]! & 0x7f);
    if (!(bytes[i]! & 0x80)) {
      if (parts.length === 0) parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';

/** What a single DER element (starting at `tlv`) most likely is, judged by its shape. */
export function classifyDer(bytes: Uint8Array, tlv: Tlv = readTlv(bytes)): DerKind {
  if (tlv.tag !== TAG.sequence) return 'unknown';
  let kids: Tlv[];
  try {
    kids = children(bytes, tlv);
  } catch {
    return 'unknown';
  }
  const [a, b, c] = kids;
  if (!a) return 'unknown';
  // Certificate, CSR and CRL share SEQUENCE { tbs SEQUENCE, algorithm SEQUENCE, signature BIT STRING }.
  if (kids.length === 3 && a.tag === TAG.sequence && b?.tag === TAG.sequence && c?.tag === TAG.bitString) {
    let tbs: Tlv[];
    try {
      tbs = children(bytes, a);
    } catch {
      return 'unknown';
    }
    const first = tbs[0];
    if (first?.tag === TAG.context0) return 'certificate';
    if (tbs.some((t) => t.tag === TAG.utcTime || t.tag === TAG.generalizedTime)) return 'crl';
    if (tbs.length === 4 && tbs[3]?.tag === TAG.context0) return 'csr';
    if (first?.tag === TAG.integer && tbs.length >= 6) return 'certificate';
    return 'unknown';
  }
  if (kids.length === 2 && a.tag === TAG.sequence && b?.tag === TAG.bitString) return 'spki';
  if (kids.length === 2 && a.tag === TAG.sequence && b?.tag === TAG.octetString) return 'encrypted-pkcs8';
  if (a.tag === TAG.oid && oidOf(bytes, a) === OID_SIGNED_DATA) return 'pkcs7';
  const version = intValue(bytes, a);
  if (version === 3 && b?.tag === TAG.sequence) return 'pkcs12';
  if ((version === 0 || version === 1) && b?.tag === TAG.sequence && c?.tag === TAG.octetString) return 'pkcs8';
  if (version === 1 && b?.tag === TAG.octetString) return 'sec1-ec';
  if (version === 0 && kids.length >= 9 && kids.every((k) => k.tag === TAG.integer)) return 'pkcs1-rsa';
  return 'unknown';
}

export const DER_KIND_NAMES: Record<DerKind, string> = {
  certificate: 'an X.509 certificate',
  csr: 'a certificate signing request',
  crl: 'a certificate revocation list',
  pkcs12: 'a PKCS#12 file',
  pkcs7: 'a PKCS#7 certificate bundle',
  pkcs8: 'a PKCS#8 private key',
  'encrypted-pkcs8': 'an encrypted PKCS#8 private key',
  'pkcs1-rsa': 'an RSA private key (PKCS#1)',
  'sec1-ec': 'an EC private key (SEC1)',
  spki: 'a public key',
  unknown: 'unrecognised data',
};

/** Encodes one DER element from its tag and content parts. */
export function encodeTlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const length = content.reduce((n, c) => n + c.length, 0);
  const lengthBytes: number[] = [];
  if (length < 0x80) lengthBytes.push(length);
  else {
    for (let n = length; n > 0; n = Math.floor(n / 256)) lengthBytes.unshift(n & 0xff);
    lengthBytes.unshift(0x80 | lengthBytes.length);
  }
  const out = new Uint8Array(1 + lengthBytes.length + length);
  out[0] = tag;
  out.set(lengthBytes, 1);
  let offset = 1 + lengthBytes.length;
  for (const c of content) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

export function encodeOid(dotted: string): Uint8Array {
  const parts = dotted.split('.').map(Number);
  const values = [parts[0]! * 40 + parts[1]!, ...parts.slice(2)];
  const bytes: number[] = [];
  for (const v of values) {
    const group: number[] = [v & 0x7f];
    for (let n = Math.floor(v / 128); n > 0; n = Math.floor(n / 128)) group.unshift((n & 0x7f) | 0x80);
    bytes.push(...group);
  }
  return encodeTlv(TAG.oid, new Uint8Array(bytes));
}

/** The content bytes of an element. */
export function contentOf(bytes: Uint8Array, tlv: Tlv): Uint8Array {
  return bytes.subarray(tlv.contentStart, tlv.contentEnd);
}

/** The whole encoding of an element (tag, length and content). */
export function elementOf(bytes: Uint8Array, tlv: Tlv): Uint8Array {
  return bytes.subarray(tlv.start, tlv.end);
}
