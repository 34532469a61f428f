// The fields of an X.509 certificate, read from DER with their exact bytes (serial, names,
// public key), which the inspector shows and the chain builder compares.
import { children, contentOf, DerError, oidOf, readTlv, TAG, type Tlv } from './der.ts';
import type { RawExtension } from './extensions.ts';
import { parseName, type ParsedName } from './names.ts';

export interface ParsedCertificate {
  der: Uint8Array;
  /** 1, 2 or 3. */
  version: number;
  /** The serial INTEGER's content bytes (two's complement, as encoded). */
  serial: Uint8Array;
  signatureAlgorithmOid: string;
  issuer: ParsedName;
  subject: ParsedName;
  notBefore: Date;
  notAfter: Date;
  /** DER SubjectPublicKeyInfo. */
  spki: Uint8Array;
  extensions: RawExtension[];
}

function time(bytes: Uint8Array, tlv: Tlv | undefined): Date {
  if (!tlv || (tlv.tag !== TAG.utcTime && tlv.tag !== TAG.generalizedTime)) throw new DerError('der_malformed', 'validity time missing');
  const text = String.fromCharCode(...contentOf(bytes, tlv));
  const m = (tlv.tag === TAG.utcTime ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/ : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.\d+)?Z$/).exec(text);
  if (!m) throw new DerError('der_malformed', `validity time "${text}" is not in UTC`);
  let year = Number(m[1]);
  if (tlv.tag === TAG.utcTime) year += year < 50 ? 2000 : 1900; // RFC 5280 4.1.2.5.1
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
}

function extensions(bytes: Uint8Array, wrapper: Tlv | undefined): RawExtension[] {
  const list = wrapper ? children(bytes, wrapper)[0] : undefined;
  if (!list) return [];
  return children(bytes, list).map((ext) => {
    const fields = children(bytes, ext);
    const oid = fields[0] && fields[0].tag === TAG.oid ? oidOf(bytes, fields[0]) : '';
    const critical = fields.some((f) => f.tag === 0x01 && bytes[f.contentStart] !== 0);
    const value = fields.find((f) => f.tag === TAG.octetString);
    return { oid, critical, value: value ? bytes.slice(value.contentStart, value.contentEnd) : new Uint8Array() };
  });
}

/** Parses a DER certificate. Throws DerError when it is damaged. */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  const [tbs, signatureAlgorithm] = children(der, readTlv(der));
  if (!tbs || !signatureAlgorithm) throw new DerError('der_malformed', 'not a certificate');
  const fields = children(der, tbs);
  let i = 0;
  let version = 1;
  if (fields[0]?.tag === TAG.context0) {
    const v = children(der, fields[0])[0];
    version = v ? der[v.contentStart]! + 1 : 1;
    i++;
  }
  const [serial, , issuer, validity, subject, spki] = fields.slice(i);
  if (!serial || serial.tag !== TAG.integer || !issuer || !validity || !subject || !spki) throw new DerError('der_malformed', 'the certificate is missing fields');
  const [notBefore, notAfter] = children(der, validity);
  const algorithmOid = children(der, signatureAlgorithm)[0];
  return {
    der,
    version,
    serial: der.slice(serial.contentStart, serial.contentEnd),
    signatureAlgorithmOid: algorithmOid ? oidOf(der, algorithmOid) : '',
    issuer: parseName(der, issuer),
    subject: parseName(der, subject),
    notBefore: time(der, notBefore),
    notAfter: time(der, notAfter),
    spki: der.slice(spki.start, spki.end),
    extensions: extensions(der, fields.find((f) => f.tag === 0xa3)),
  };
}
