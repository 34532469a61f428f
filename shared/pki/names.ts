// Distinguished names: parsed from DER, shown on one line most-specific first (`CN=…, O=…, C=…`,
// RFC 4514 order and escaping with OpenSSL's attribute names, what
// `openssl x509 -nameopt RFC2253,sep_comma_plus_space` prints), and compared the way OpenSSL
// matches an issuer to a subject: case-insensitively, with runs of spaces folded.
import { children, readTlv, oidOf, TAG, type Tlv } from './der.ts';
import { DN_ATTRIBUTES } from './oids.ts';

interface NameAttribute {
  oid: string;
  /** Short name (`CN`, `O`, `emailAddress`) or the dotted OID when it has none. */
  type: string;
  value: string;
}

/** The RDNs of a Name in encoded order (usually C first, CN last); each RDN is usually one attribute. */
export type ParsedName = NameAttribute[][];

const STRING_TAGS = {
  utf8: 0x0c,
  printable: 0x13,
  t61: 0x14,
  ia5: 0x16,
  visible: 0x1a,
  universal: 0x1c,
  bmp: 0x1e,
  numeric: 0x12,
} as const;

function decodeString(bytes: Uint8Array, tlv: Tlv): string {
  const content = bytes.subarray(tlv.contentStart, tlv.contentEnd);
  switch (tlv.tag) {
    case STRING_TAGS.utf8:
      return new TextDecoder().decode(content);
    case STRING_TAGS.bmp: {
      let s = '';
      for (let i = 0; i + 1 < content.length; i += 2) s += String.fromCharCode((content[i]! << 8) | content[i + 1]!);
      return s;
    }
    case STRING_TAGS.universal: {
      let s = '';
      const view = new DataView(content.buffer, content.byteOffset, content.byteLength);
      for (let i = 0; i + 3 < content.length; i += 4) s += String.fromCodePoint(view.getUint32(i));
      return s;
    }
    case STRING_TAGS.printable:
    case STRING_TAGS.ia5:
    case STRING_TAGS.visible:
    case STRING_TAGS.numeric:
    case STRING_TAGS.t61:
      return String.fromCharCode(...content);
    default:
      // RFC 4514: a value of another type is shown as # and the hex of its DER.
      return `#${Array.from(bytes.subarray(tlv.start, tlv.end), (b) => b.toString(16).padStart(2, '0')).join('')}`;
  }
}

/** Parses a DER Name (the SEQUENCE at `tlv`, or at the start of `bytes`). Throws DerError when damaged. */
export function parseName(bytes: Uint8Array, tlv: Tlv = readTlv(bytes)): ParsedName {
  return children(bytes, tlv).map((rdn) =>
    children(bytes, rdn).map((atv) => {
      const [typeTlv, valueTlv] = children(bytes, atv);
      if (!typeTlv || typeTlv.tag !== TAG.oid || !valueTlv) return { oid: '', type: '?', value: '' };
      const oid = oidOf(bytes, typeTlv);
      return { oid, type: DN_ATTRIBUTES[oid] ?? oid, value: decodeString(bytes, valueTlv) };
    }),
  );
}

function escapeValue(value: string): string {
  if (value.startsWith('#') && /^#[0-9a-f]+$/.test(value)) return value;
  let out = value.replace(/[\\,+"<>;]/g, (c) => `\\${c}`);
  if (/^[ #]/.test(out)) out = `\\${out}`;
  if (/ $/.test(out)) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** `CN=client, O=Acme\, Inc., C=US`: most specific first, as Apache's SSL_CLIENT_S_DN and RFC 4514. */
export function formatName(name: ParsedName): string {
  // OpenSSL reverses the flat attribute list, so a multi-valued RDN comes out reversed as well.
  return [...name]
    .reverse()
    .map((rdn) => [...rdn].reverse().map((a) => `${a.type}=${escapeValue(a.value)}`).join('+'))
    .join(', ');
}

/**
 * Node's `X509Certificate.subject`/`.issuer` (one attribute per line, in encoded order: C first)
 * as RFC 4514, most specific first: the one order the harness shows names in.
 */
export function rfc4514FromNodeDn(dn: string): string {
  return dn.split('\n').reverse().join(', ');
}

/** A DER Name (e.g. @peculiar/x509's `subjectName.toArrayBuffer()`) as RFC 4514. */
export function rfc4514FromDer(der: Uint8Array): string {
  return formatName(parseName(der));
}

/** A comparison key: equal for names OpenSSL would match as issuer and subject. */
export function nameKey(name: ParsedName): string {
  return JSON.stringify(name.map((rdn) => rdn.map((a) => [a.oid, a.value.trim().replace(/\s+/g, ' ').toLowerCase()]).sort()));
}

/** The last (most specific) CN, if any. */
export function commonName(name: ParsedName): string | undefined {
  return name.flat().filter((a) => a.type === 'CN').at(-1)?.value;
}
