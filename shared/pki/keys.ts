// Private and public keys: describe them (RSA bits, EC curve, Ed25519), bring PKCS#1 and SEC1
// keys to PKCS#8 (what WebCrypto imports and Node TLS wants), and tell whether a private key is
// the one a certificate certifies, by deriving its public half and comparing it with the
// certificate's SubjectPublicKeyInfo.
import { children, contentOf, DerError, elementOf, encodeOid, encodeTlv, oidOf, readTlv, TAG, type Tlv } from './der.ts';
import { toArrayBuffer, toBase64 } from './encoding.ts';
import { CURVES, OID } from './oids.ts';
import { HarnessError } from '../errors.ts';

export type KeyKind = 'RSA' | 'RSA-PSS' | 'EC' | 'Ed25519' | 'Ed448' | 'X25519' | 'X448' | 'unknown';

export interface KeyDescription {
  kind: KeyKind;
  /** RSA modulus size, or the curve's size for EC and EdDSA keys. */
  bits?: number;
  /** EC curve name, e.g. `P-256`. */
  curve?: string;
  /** `RSA 2048 bits`, `EC P-256`, `Ed25519`. */
  text: string;
  algorithmOid: string;
}

export class KeyError extends HarnessError<'key_unsupported' | 'key_malformed'> {}

const CURVE_BITS: Record<string, number> = { 'P-256': 256, 'P-384': 384, 'P-521': 521, secp256k1: 256, brainpoolP256r1: 256, brainpoolP384r1: 384 };

function integerBits(bytes: Uint8Array, tlv: Tlv): number {
  let i = tlv.contentStart;
  while (i < tlv.contentEnd && bytes[i] === 0) i++;
  if (i === tlv.contentEnd) return 0;
  return (tlv.contentEnd - i - 1) * 8 + (32 - Math.clz32(bytes[i]!));
}

/** Describes a key from its AlgorithmIdentifier and, for RSA, the DER RSAPublicKey/RSAPrivateKey holding the modulus. */
function describe(bytes: Uint8Array, algorithm: Tlv, rsaKey: () => Uint8Array): KeyDescription {
  const [oidTlv, params] = children(bytes, algorithm);
  if (!oidTlv || oidTlv.tag !== TAG.oid) throw new KeyError('key_malformed', 'the key has no algorithm identifier');
  const oid = oidOf(bytes, oidTlv);
  switch (oid) {
    case OID.rsaEncryption:
    case OID.rsassaPss: {
      const rsa = rsaKey();
      const fields = children(rsa, readTlv(rsa));
      // RSAPublicKey is { n, e }; RSAPrivateKey is { version, n, e, … }.
      const modulus = fields.length === 2 ? fields[0] : fields[1];
      if (!modulus || modulus.tag !== TAG.integer) throw new KeyError('key_malformed', 'the RSA key has no modulus');
      const bits = integerBits(rsa, modulus);
      const kind = oid === OID.rsaEncryption ? 'RSA' : 'RSA-PSS';
      return { kind, bits, text: `${kind} ${bits} bits`, algorithmOid: oid };
    }
    case OID.ecPublicKey: {
      const curveOid = params && params.tag === TAG.oid ? oidOf(bytes, params) : undefined;
      const curve = curveOid ? (CURVES[curveOid]?.name ?? curveOid) : 'explicit parameters';
      const bits = CURVE_BITS[curve];
      return { kind: 'EC', curve, ...(bits ? { bits } : {}), text: `EC ${curve}`, algorithmOid: oid };
    }
    case OID.ed25519:
      return { kind: 'Ed25519', bits: 256, text: 'Ed25519', algorithmOid: oid };
    case OID.ed448:
      return { kind: 'Ed448', bits: 456, text: 'Ed448', algorithmOid: oid };
    case OID.x25519:
      return { kind: 'X25519', bits: 256, text: 'X25519', algorithmOid: oid };
    case OID.x448:
      return { kind: 'X448', bits: 448, text: 'X448', algorithmOid: oid };
    default:
      return { kind: 'unknown', text: `unknown algorithm ${oid}`, algorithmOid: oid };
  }
}

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof KeyError) throw e;
    if (e instanceof DerError) throw new KeyError('key_malformed', e.message);
    throw new KeyError('key_malformed', 'the key structure cannot be read');
  }
}

/** Describes a SubjectPublicKeyInfo (DER). */
export function describeSpki(spki: Uint8Array): KeyDescription {
  return guard(() => {
    const [algorithm, key] = children(spki, readTlv(spki));
    if (!algorithm || !key || key.tag !== TAG.bitString) throw new KeyError('key_malformed', 'not a SubjectPublicKeyInfo');
    return describe(spki, algorithm, () => spki.subarray(key.contentStart + 1, key.contentEnd));
  });
}

/** Describes a PKCS#8 PrivateKeyInfo (DER). */
export function describePkcs8(pkcs8: Uint8Array): KeyDescription {
  return guard(() => {
    const [, algorithm, key] = children(pkcs8, readTlv(pkcs8));
    if (!algorithm || !key || key.tag !== TAG.octetString) throw new KeyError('key_malformed', 'not a PKCS#8 private key');
    return describe(pkcs8, algorithm, () => contentOf(pkcs8, key));
  });
}

const ZERO = encodeTlv(TAG.integer, new Uint8Array([0]));

/** Wraps a PKCS#1 RSAPrivateKey (`BEGIN RSA PRIVATE KEY`) as PKCS#8. */
export function pkcs1ToPkcs8(pkcs1: Uint8Array): Uint8Array {
  const algorithm = encodeTlv(TAG.sequence, encodeOid(OID.rsaEncryption), encodeTlv(TAG.null));
  return encodeTlv(TAG.sequence, ZERO, algorithm, encodeTlv(TAG.octetString, pkcs1));
}

/** Wraps a SEC1 ECPrivateKey (`BEGIN EC PRIVATE KEY`) as PKCS#8; the curve comes from its parameters. */
export function sec1ToPkcs8(sec1: Uint8Array): Uint8Array {
  return guard(() => {
    const fields = children(sec1, readTlv(sec1));
    const params = fields.find((f) => f.tag === TAG.context0);
    const curve = params ? readTlv(sec1, params.contentStart) : undefined;
    if (!curve || curve.tag !== TAG.oid) throw new KeyError('key_malformed', 'the EC private key does not name its curve');
    const algorithm = encodeTlv(TAG.sequence, encodeOid(OID.ecPublicKey), elementOf(sec1, curve));
    return encodeTlv(TAG.sequence, ZERO, algorithm, encodeTlv(TAG.octetString, sec1));
  });
}

/** PKCS#8 PEM, the form Node TLS and WebCrypto both take, whatever form the key arrived in. */
export function pkcs8Pem(pkcs8: Uint8Array): string {
  const lines = toBase64(pkcs8).match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

type ImportParams = RsaHashedImportParams | EcKeyImportParams | Algorithm;

function importParams(key: KeyDescription): ImportParams[] {
  switch (key.kind) {
    case 'RSA':
      return [{ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as RsaHashedImportParams];
    case 'RSA-PSS':
      return [{ name: 'RSA-PSS', hash: 'SHA-256' } as RsaHashedImportParams];
    case 'EC': {
      const webCrypto = Object.values(CURVES).find((c) => c.name === key.curve)?.webCrypto;
      if (!webCrypto) throw new KeyError('key_unsupported', `EC curve ${key.curve} is not supported (use P-256, P-384 or P-521)`);
      return [{ name: 'ECDSA', namedCurve: webCrypto } as EcKeyImportParams];
    }
    case 'Ed25519':
    case 'Ed448':
    case 'X25519':
    case 'X448':
      return [{ name: key.kind }];
    case 'unknown':
      throw new KeyError('key_unsupported', `${key.text} is not supported`);
  }
}

const PUBLIC_MEMBERS: Record<string, readonly string[]> = { RSA: ['n', 'e'], EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'] };

function publicJwk(jwk: JsonWebKey): JsonWebKey {
  const out: Record<string, unknown> = { kty: jwk.kty };
  for (const m of PUBLIC_MEMBERS[jwk.kty ?? ''] ?? []) out[m] = (jwk as Record<string, unknown>)[m];
  return out as JsonWebKey;
}

/** True when two public JWKs are the same key (compares only the members that define it). */
export function sameJwk(a: JsonWebKey, b: JsonWebKey): boolean {
  if (a.kty !== b.kty) return false;
  const members = PUBLIC_MEMBERS[a.kty ?? ''];
  if (!members) return false;
  return members.every((m) => (a as Record<string, unknown>)[m] === (b as Record<string, unknown>)[m]);
}

async function firstImport<T>(attempts: ImportParams[], run: (params: ImportParams) => Promise<T>, what: string): Promise<T> {
  for (const params of attempts) {
    try {
      return await run(params);
    } catch {
      // try the next parameter set
    }
  }
  throw new KeyError('key_unsupported', `this runtime's WebCrypto cannot load ${what}`);
}

export interface DerivedPublicKey {
  jwk: JsonWebKey;
  /** DER SubjectPublicKeyInfo of the public half. */
  spki: Uint8Array;
}

/** Derives the public key from a PKCS#8 private key (WebCrypto computes EC and EdDSA public points). */
export async function publicKeyOfPrivate(pkcs8: Uint8Array, key: KeyDescription = describePkcs8(pkcs8)): Promise<DerivedPublicKey> {
  const { subtle } = crypto;
  return firstImport(
    importParams(key),
    async (params) => {
      const privateKey = await subtle.importKey('pkcs8', toArrayBuffer(pkcs8), params, true, key.kind.startsWith('X') ? ['deriveBits'] : ['sign']);
      const jwk = publicJwk(await subtle.exportKey('jwk', privateKey));
      const publicKey = await subtle.importKey('jwk', jwk, params, true, key.kind.startsWith('X') ? [] : ['verify']);
      return { jwk, spki: new Uint8Array(await subtle.exportKey('spki', publicKey)) };
    },
    `the ${key.text} private key`,
  );
}

/** The public key of a SubjectPublicKeyInfo as a JWK, for comparison with a derived one. */
export async function jwkOfSpki(spki: Uint8Array, key: KeyDescription = describeSpki(spki)): Promise<JsonWebKey> {
  const { subtle } = crypto;
  return firstImport(
    importParams(key),
    async (params) => publicJwk(await subtle.exportKey('jwk', await subtle.importKey('spki', toArrayBuffer(spki), params, true, key.kind.startsWith('X') ? [] : ['verify']))),
    `the ${key.text} public key`,
  );
}
