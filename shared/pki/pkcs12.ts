// PKCS#12 (.p12/.pfx) → certificates and PKCS#8 keys.
//
// The structure is walked with der.ts rather than pkijs's PFX class for two reasons: pkijs
// decrypts only PBES2 bags, while legacy files (Windows exports, `openssl pkcs12 -legacy`) use
// SHA-1 + Triple-DES/RC2; and pkijs re-encodes the certificates it parses, while fingerprints
// must be taken over the exact bytes in the file. pkijs does the integrity check (its PKCS#12
// MAC key derivation handles SHA-1 and the SHA-2 family OpenSSL 3 uses).
import * as pkijs from 'pkijs';
import { PKI_DEFAULTS } from './defaults.ts';
import { children, contentOf, DerError, oidOf, readTlv, TAG, type Tlv } from './der.ts';
import { toArrayBuffer, utf8 } from './encoding.ts';
import { describePbe, PbeError, pbeDecrypt } from './pbe.ts';
import { HarnessError } from '../errors.ts';

export class Pkcs12Error extends HarnessError<'p12_bad_password' | 'p12_password_required' | 'p12_unsupported' | 'p12_malformed'> {}

export interface Pkcs12Item {
  der: Uint8Array;
  /** `certificate 1`, `key 1`, with the friendly name when the file has one. */
  where: string;
  friendlyName?: string;
  /** Hex localKeyId: pairs a key with its certificate inside the file. */
  localKeyId?: string;
}

export interface Pkcs12Contents {
  certificates: Pkcs12Item[];
  /** PKCS#8 PrivateKeyInfo DER, already decrypted. */
  keys: Pkcs12Item[];
  /** e.g. `HMAC-SHA256, 2048 iterations`, or `none`. */
  integrity: string;
  /** The encryption schemes found, e.g. `PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC, 2048 iterations)`. */
  encryption: string[];
}

const OIDS = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
} as const;

const MAC_HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'SHA-1',
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
};

/** The value of an OCTET STRING, joining the chunks of a BER constructed one. */
function octets(bytes: Uint8Array, tlv: Tlv): Uint8Array {
  if (!(tlv.tag & 0x20)) return contentOf(bytes, tlv);
  const parts = children(bytes, tlv).map((c) => octets(bytes, c));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** The single element inside an EXPLICIT [0] wrapper. */
function explicit(bytes: Uint8Array, tlv: Tlv | undefined): Tlv {
  if (!tlv || tlv.tag !== TAG.context0) throw new Pkcs12Error('p12_malformed', 'expected an explicitly tagged value');
  const inner = children(bytes, tlv)[0];
  if (!inner) throw new Pkcs12Error('p12_malformed', 'an explicitly tagged value is empty');
  return inner;
}

function oid(bytes: Uint8Array, tlv: Tlv | undefined): string {
  if (!tlv || tlv.tag !== TAG.oid) throw new Pkcs12Error('p12_malformed', 'expected an object identifier');
  return oidOf(bytes, tlv);
}

function bmpString(bytes: Uint8Array, tlv: Tlv): string {
  let s = '';
  for (let i = tlv.contentStart; i + 1 < tlv.contentEnd; i += 2) s += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!);
  return s;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

interface Walk {
  password: string;
  result: Pkcs12Contents;
}

async function decrypt(algorithm: Uint8Array, data: Uint8Array, walk: Walk): Promise<Uint8Array> {
  const scheme = describePbe(algorithm);
  if (!walk.result.encryption.includes(scheme)) walk.result.encryption.push(scheme);
  try {
    return await pbeDecrypt(algorithm, data, walk.password);
  } catch (e) {
    if (e instanceof PbeError && e.code === 'bad_password') throw new Pkcs12Error('p12_bad_password', 'the PKCS#12 contents do not decrypt with this password');
    if (e instanceof PbeError) throw new Pkcs12Error(e.code === 'unsupported' ? 'p12_unsupported' : 'p12_malformed', e.message);
    throw e;
  }
}

async function readBags(bytes: Uint8Array, walk: Walk): Promise<void> {
  for (const bag of children(bytes, readTlv(bytes))) {
    const [idTlv, valueTlv, attributes] = children(bytes, bag);
    const bagId = oid(bytes, idTlv);
    const value = explicit(bytes, valueTlv);
    const item: Omit<Pkcs12Item, 'der' | 'where'> = {};
    for (const attribute of attributes?.tag === 0x31 ? children(bytes, attributes) : []) {
      const [typeTlv, values] = children(bytes, attribute);
      const first = values ? children(bytes, values)[0] : undefined;
      if (!first) continue;
      const type = oid(bytes, typeTlv);
      if (type === OIDS.friendlyName) item.friendlyName = bmpString(bytes, first);
      if (type === OIDS.localKeyId) item.localKeyId = hex(octets(bytes, first));
    }
    const label = (kind: string, n: number): string => `${kind} ${n}${item.friendlyName ? ` ("${item.friendlyName}")` : ''}`;
    if (bagId === OIDS.certBag) {
      const [certId, certValue] = children(bytes, value);
      if (oid(bytes, certId) !== OIDS.x509Certificate) continue; // SDSI certificates: never seen in practice
      const der = octets(bytes, explicit(bytes, certValue)).slice();
      walk.result.certificates.push({ ...item, der, where: label('certificate', walk.result.certificates.length + 1) });
    } else if (bagId === OIDS.keyBag) {
      walk.result.keys.push({ ...item, der: bytes.slice(value.start, value.end), where: label('key', walk.result.keys.length + 1) });
    } else if (bagId === OIDS.shroudedKeyBag) {
      const [algorithm, encrypted] = children(bytes, value);
      if (!algorithm || !encrypted) throw new Pkcs12Error('p12_malformed', 'an encrypted key bag is incomplete');
      const der = await decrypt(bytes.subarray(algorithm.start, algorithm.end), octets(bytes, encrypted), walk);
      walk.result.keys.push({ ...item, der, where: label('key', walk.result.keys.length + 1) });
    }
    // CRL, secret and nested bags carry nothing the workshop shows.
  }
}

async function verifyMac(bytes: Uint8Array, macData: Tlv, content: Uint8Array, password: string): Promise<string> {
  const [digestInfo, saltTlv, iterTlv] = children(bytes, macData);
  const [algorithm, digest] = digestInfo ? children(bytes, digestInfo) : [];
  const hashOid = algorithm ? oid(bytes, children(bytes, algorithm)[0]) : '';
  const hash = MAC_HASHES[hashOid];
  if (!hash || !digest || !saltTlv) throw new Pkcs12Error('p12_unsupported', `the PKCS#12 integrity check uses an unsupported hash (${hashOid || 'none'})`);
  let iterations = 1;
  if (iterTlv && iterTlv.tag === TAG.integer) {
    iterations = 0;
    for (let i = iterTlv.contentStart; i < iterTlv.contentEnd; i++) iterations = iterations * 256 + bytes[i]!;
  }
  if (iterations > PKI_DEFAULTS.maxPkcs12KdfIterations) throw new Pkcs12Error('p12_unsupported', `the PKCS#12 integrity check uses ${iterations} iterations, more than this tool runs`);
  const engine = new pkijs.CryptoEngine({ name: 'pkcs12', crypto });
  const ok = await engine.verifyDataStampedWithPassword({
    password: toArrayBuffer(utf8(password)),
    hashAlgorithm: hash,
    salt: toArrayBuffer(octets(bytes, saltTlv)),
    iterationCount: iterations,
    contentToVerify: toArrayBuffer(content),
    signatureToVerify: toArrayBuffer(octets(bytes, digest)),
  });
  if (!ok) throw new Pkcs12Error('p12_bad_password', 'the PKCS#12 integrity check (MAC) fails with this password');
  return `HMAC-${hash}, ${iterations} iterations`;
}

async function open(bytes: Uint8Array, password: string): Promise<Pkcs12Contents> {
  const [version, authSafe, macData] = children(bytes, readTlv(bytes));
  if (!version || version.tag !== TAG.integer || !authSafe) throw new Pkcs12Error('p12_malformed', 'not a PKCS#12 structure');
  const [typeTlv, contentTlv] = children(bytes, authSafe);
  const type = oid(bytes, typeTlv);
  if (type !== OIDS.data) throw new Pkcs12Error('p12_unsupported', 'PKCS#12 files protected by a public-key signature are not supported');
  const content = octets(bytes, explicit(bytes, contentTlv));
  const result: Pkcs12Contents = { certificates: [], keys: [], integrity: 'none', encryption: [] };
  if (macData) result.integrity = await verifyMac(bytes, macData, content, password);
  const walk: Walk = { password, result };
  for (const info of children(content, readTlv(content))) {
    const [infoType, infoContent] = children(content, info);
    const kind = oid(content, infoType);
    if (kind === OIDS.data) {
      await readBags(octets(content, explicit(content, infoContent)), walk);
    } else if (kind === OIDS.encryptedData) {
      const [, encryptedContentInfo] = children(content, explicit(content, infoContent));
      const [, algorithm, encrypted] = encryptedContentInfo ? children(content, encryptedContentInfo) : [];
      if (!algorithm || !encrypted) throw new Pkcs12Error('p12_malformed', 'an encrypted PKCS#12 section is incomplete');
      const plain = await decrypt(content.subarray(algorithm.start, algorithm.end), octets(content, encrypted), walk);
      try {
        await readBags(plain, walk);
      } catch (e) {
        // Without a MAC, a wrong password shows up as garbage that happened to unpad cleanly.
        if (e instanceof DerError) throw new Pkcs12Error('p12_bad_password', 'the PKCS#12 contents do not decrypt with this password');
        throw e;
      }
    } else {
      throw new Pkcs12Error('p12_unsupported', `PKCS#12 sections of type ${kind} (public-key encrypted) are not supported`);
    }
  }
  return result;
}

/**
 * Opens a PKCS#12 file. Without a password, the empty password is tried (a common export
 * choice) and `p12_password_required` reported if it does not fit.
 */
export async function readPkcs12(der: Uint8Array, password?: string): Promise<Pkcs12Contents> {
  try {
    return await open(der, password ?? '');
  } catch (e) {
    if (e instanceof Pkcs12Error) {
      if (e.code === 'p12_bad_password' && password === undefined) throw new Pkcs12Error('p12_password_required', 'the PKCS#12 file is password-protected and no password was given');
      throw e;
    }
    if (e instanceof DerError) throw new Pkcs12Error('p12_malformed', e.message);
    throw new Pkcs12Error('p12_malformed', 'the PKCS#12 structure cannot be read');
  }
}
