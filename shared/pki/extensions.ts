// X.509 v3 extensions the workshop shows, decoded straight from DER. @peculiar/x509 decodes them
// too, but throws on a whole SAN extension when one entry is an otherName; a partner's
// certificate must still be shown, with that entry named.
import { children, contentOf, oidOf, readTlv, TAG, type Tlv } from './der.ts';
import { toColonHex } from './encoding.ts';
import { formatName, parseName } from './names.ts';
import { EKU_NAMES, KEY_USAGE_BITS, type KeyUsageName } from './oids.ts';

export interface RawExtension {
  oid: string;
  critical: boolean;
  /** The extnValue OCTET STRING's content (the extension's own DER). */
  value: Uint8Array;
}

type GeneralNameType = 'DNS' | 'IP' | 'email' | 'URI' | 'DirName' | 'othername' | 'RID' | 'X400' | 'EdiParty';

export interface GeneralName {
  type: GeneralNameType;
  value: string;
}

/** OpenSSL's spelling of a general name, e.g. `DNS:example.com`, `IP Address:10.0.0.1`. */
export function formatGeneralName(name: GeneralName): string {
  return `${name.type === 'IP' ? 'IP Address' : name.type}:${name.value}`;
}

export const EXTENSION_NAMES: Record<string, string> = {
  '2.5.29.14': 'Subject Key Identifier',
  '2.5.29.15': 'Key Usage',
  '2.5.29.17': 'Subject Alternative Name',
  '2.5.29.18': 'Issuer Alternative Name',
  '2.5.29.19': 'Basic Constraints',
  '2.5.29.30': 'Name Constraints',
  '2.5.29.31': 'CRL Distribution Points',
  '2.5.29.32': 'Certificate Policies',
  '2.5.29.35': 'Authority Key Identifier',
  '2.5.29.37': 'Extended Key Usage',
  '1.3.6.1.5.5.7.1.1': 'Authority Information Access',
  '1.3.6.1.4.1.11129.2.4.2': 'CT Precertificate SCTs',
  '2.16.840.1.113730.1.13': 'Netscape Comment',
};

function ip(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length === 16) {
    // OpenSSL prints every group, upper case, without :: compression.
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16).toUpperCase());
    return groups.join(':');
  }
  return `<invalid length ${bytes.length}>`;
}

const ascii = (bytes: Uint8Array): string => String.fromCharCode(...bytes);

function parseGeneralName(bytes: Uint8Array, tlv: Tlv): GeneralName {
  const content = contentOf(bytes, tlv);
  switch (tlv.tag) {
    case 0x81:
      return { type: 'email', value: ascii(content) };
    case 0x82:
      return { type: 'DNS', value: ascii(content) };
    case 0x86:
      return { type: 'URI', value: ascii(content) };
    case 0x87:
      return { type: 'IP', value: ip(content) };
    case 0x88:
      return { type: 'RID', value: oidOf(bytes, tlv) };
    case 0xa4: {
      const inner = children(bytes, tlv)[0];
      return { type: 'DirName', value: inner ? formatName(parseName(bytes, inner)) : '' };
    }
    case 0xa0: {
      const [typeId] = children(bytes, tlv);
      return { type: 'othername', value: typeId && typeId.tag === TAG.oid ? `${oidOf(bytes, typeId) === '1.3.6.1.4.1.311.20.2.3' ? 'UPN' : oidOf(bytes, typeId)}::<value>` : '<unsupported>' };
    }
    case 0xa3:
      return { type: 'X400', value: '<unsupported>' };
    default:
      return { type: 'EdiParty', value: '<unsupported>' };
  }
}

function generalNames(bytes: Uint8Array, tlv: Tlv): GeneralName[] {
  return children(bytes, tlv).map((n) => parseGeneralName(bytes, n));
}

interface BasicConstraints {
  ca: boolean;
  pathLength?: number;
}

export function parseBasicConstraints(value: Uint8Array): BasicConstraints {
  const out: BasicConstraints = { ca: false };
  for (const f of children(value, readTlv(value))) {
    if (f.tag === 0x01) out.ca = value[f.contentStart] !== 0;
    if (f.tag === TAG.integer) {
      let n = 0;
      for (let i = f.contentStart; i < f.contentEnd; i++) n = n * 256 + value[i]!;
      out.pathLength = n;
    }
  }
  return out;
}

export function parseKeyUsage(value: Uint8Array): KeyUsageName[] {
  const tlv = readTlv(value);
  const bits = value.subarray(tlv.contentStart + 1, tlv.contentEnd);
  return KEY_USAGE_BITS.filter((_, i) => ((bits[i >> 3] ?? 0) >> (7 - (i & 7))) & 1);
}

export function parseExtendedKeyUsage(value: Uint8Array): string[] {
  return children(value, readTlv(value)).map((o) => oidOf(value, o));
}

export function ekuName(oid: string): string {
  return EKU_NAMES[oid] ?? oid;
}

export function parseSubjectKeyId(value: Uint8Array): string {
  return toColonHex(contentOf(value, readTlv(value)));
}

export function parseAuthorityKeyId(value: Uint8Array): string | undefined {
  const keyId = children(value, readTlv(value)).find((f) => f.tag === 0x80);
  return keyId ? toColonHex(contentOf(value, keyId)) : undefined;
}

export function parseSubjectAltNames(value: Uint8Array): GeneralName[] {
  return generalNames(value, readTlv(value));
}

/** The URIs (and other names) of the full names of every distribution point. */
export function parseCrlDistributionPoints(value: Uint8Array): GeneralName[] {
  const out: GeneralName[] = [];
  for (const point of children(value, readTlv(value))) {
    const dpName = children(value, point).find((f) => f.tag === 0xa0);
    const fullName = dpName ? children(value, dpName).find((f) => f.tag === 0xa0) : undefined;
    if (fullName) out.push(...generalNames(value, fullName));
  }
  return out;
}

interface AuthorityInfoAccess {
  ocsp: GeneralName[];
  caIssuers: GeneralName[];
}

export function parseAuthorityInfoAccess(value: Uint8Array): AuthorityInfoAccess {
  const out: AuthorityInfoAccess = { ocsp: [], caIssuers: [] };
  for (const description of children(value, readTlv(value))) {
    const [method, location] = children(value, description);
    if (!method || !location) continue;
    const m = oidOf(value, method);
    if (m === '1.3.6.1.5.5.7.48.1') out.ocsp.push(parseGeneralName(value, location));
    if (m === '1.3.6.1.5.5.7.48.2') out.caIssuers.push(parseGeneralName(value, location));
  }
  return out;
}

export function parseCertificatePolicies(value: Uint8Array): string[] {
  return children(value, readTlv(value)).map((p) => {
    const [id] = children(value, p);
    return id ? oidOf(value, id) : '?';
  });
}
