// X.501 Names (the DER DistinguishedName entries of a CertificateRequest, and certificate
// subjects) rendered exactly as OpenSSL 3 prints them by default (XN_FLAG_ONELINE, used by
// `openssl s_client` for "Acceptable client certificate CA names" and by `openssl x509 -subject`),
// so what the harness shows can be pasted next to what a partner's admin sees. Pure code: no
// node:* import, so it can move to shared/ unchanged.
import { DN_ATTRIBUTES } from '../../shared/pki/oids.ts';
import { children, oidOf, readTlv, type Tlv } from '../../shared/pki/der.ts';
import { TlsTapError } from './errors.ts';

interface NameAttribute {
  /** Dotted OID, e.g. 2.5.4.3. */
  oid: string;
  /** OpenSSL's short name (CN, O, emailAddress, …), or the dotted OID when OpenSSL has none. */
  shortName: string;
  /** The attribute value as OpenSSL prints it (escaped, quoted when needed). */
  printed: string;
}

export interface DistinguishedName {
  /** The Name exactly as it was on the wire. */
  der: Uint8Array;
  /** Relative distinguished names in wire order; multi-valued RDNs hold several attributes. */
  rdns: NameAttribute[][];
  /** As `openssl s_client` prints it: `C = US, O = Example, CN = Example Root`. */
  openssl: string;
  /**
   * RFC 4514 order, most specific first, without the spaces around `=`: `CN=Example Root, O=Example, C=US`.
   * The one way the harness shows a name (the relay, the inspector and the app alike).
   */
  normalised: string;
}


/** Bytes per character of the string types OpenSSL prints as text (a_strex.c tag2nbyte); 0 = UTF-8. */
const CHARACTER_WIDTH: Readonly<Record<number, number>> = {
  12: 0, // UTF8String
  18: 1, // NumericString
  19: 1, // PrintableString
  20: 1, // TeletexString (OpenSSL reads it as Latin-1)
  21: 1, // VideotexString
  22: 1, // IA5String
  23: 1, // UTCTime
  24: 1, // GeneralizedTime
  25: 1, // GraphicString
  26: 1, // VisibleString
  27: 1, // GeneralString
  28: 4, // UniversalString
  30: 2, // BMPString
};

const SEQUENCE = 0x30;
const SET = 0x31;
const OID = 0x06;

/** Parses a DER X.501 Name. Throws TlsTapError('malformed') if it is not one. */
export function parseDistinguishedName(der: Uint8Array): DistinguishedName {
  let rdns: NameAttribute[][];
  try {
    const name = readTlv(der);
    if (name.tag !== SEQUENCE || name.end !== der.length) throw new TlsTapError('malformed', 'a Name must be exactly one SEQUENCE');
    rdns = children(der, name).map((rdn) => {
      if (rdn.tag !== SET) throw new TlsTapError('malformed', 'a RelativeDistinguishedName must be a SET');
      return children(der, rdn).map((atv) => attribute(der, atv));
    });
  } catch (error) {
    if (error instanceof TlsTapError) throw error;
    throw new TlsTapError('malformed', `not a DER Name: ${(error as Error).message}`);
  }
  const render = (equals: string, order: NameAttribute[][]) => order.map((rdn) => rdn.map((a) => `${a.shortName}${equals}${a.printed}`).join(' + ')).join(', ');
  return { der, rdns, openssl: render(' = ', rdns), normalised: render('=', [...rdns].reverse()) };
}

function attribute(der: Uint8Array, atv: Tlv): NameAttribute {
  const parts = atv.tag === SEQUENCE ? children(der, atv) : [];
  const [type, value] = parts;
  if (parts.length !== 2 || !type || !value || type.tag !== OID) {
    throw new TlsTapError('malformed', 'an AttributeTypeAndValue must be SEQUENCE { OID, value }');
  }
  const oid = oidOf(der, type);
  return { oid, shortName: DN_ATTRIBUTES[oid] ?? oid, printed: printValue(der, value) };
}

function printValue(der: Uint8Array, value: Tlv): string {
  const width = CHARACTER_WIDTH[value.tag];
  // Values that are not strings are dumped as # and the hex of their DER (ASN1_STRFLGS_DUMP_DER).
  if (width === undefined) return `#${hexUpper(der.subarray(value.start, value.end))}`;
  return escapeValue(utf8BytesOf(der.subarray(value.contentStart, value.contentEnd), width));
}

/** The value converted to UTF-8 the way OpenSSL does before escaping (ASN1_STRFLGS_UTF8_CONVERT). */
function utf8BytesOf(content: Uint8Array, width: number): Uint8Array {
  // UTF8String is taken byte by byte (already UTF-8); so are invalid sequences, as OpenSSL does.
  if (width === 0) return content;
  const out: number[] = [];
  for (let i = 0; i + width <= content.length; i += width) {
    let codePoint = 0;
    for (let k = 0; k < width; k++) codePoint = codePoint * 256 + content[i + k]!;
    pushUtf8(out, codePoint);
  }
  return Uint8Array.from(out);
}

/** UTF8_putc: encodes any code point (surrogates included, as OpenSSL does) without validation. */
function pushUtf8(out: number[], c: number): void {
  if (c < 0x80) out.push(c);
  else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
  else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  else out.push(0xf0 | ((c >> 18) & 0x07), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
}

/**
 * RFC 2253 escaping with OpenSSL's ESC_QUOTE twist (a_strex.c do_esc_char): characters that would
 * need a backslash (, + ; < > and a leading # or leading/trailing space) are left as they are and
 * the whole value is put in double quotes; " and \ are backslash-escaped; control characters and
 * every byte above 0x7f become \XX.
 */
function escapeValue(bytes: Uint8Array): string {
  let out = '';
  let quote = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const first = i === 0;
    const last = i === bytes.length - 1;
    if (b > 0x7e || b < 0x20) out += `\\${b.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else {
      const c = String.fromCharCode(b);
      if (',+;<>'.includes(c) || (first && (c === '#' || c === ' ')) || (last && c === ' ')) quote = true;
      out += c;
    }
  }
  return quote ? `"${out}"` : out;
}

function hexUpper(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).toUpperCase().padStart(2, '0');
  return out;
}
