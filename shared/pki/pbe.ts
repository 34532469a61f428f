// Password-based decryption as used by encrypted PKCS#8 keys and PKCS#12 bags: PBES2 (PBKDF2 +
// AES-CBC or DES-EDE3-CBC, OpenSSL 3's default) over WebCrypto, and the legacy PKCS#12 schemes
// (SHA-1 + Triple-DES or RC2) over legacy-ciphers.ts.
import { children, contentOf, DerError, oidOf, readTlv, TAG, type Tlv } from './der.ts';
import { PKI_DEFAULTS } from './defaults.ts';
import { toArrayBuffer, utf8 } from './encoding.ts';
import { bmpPassword, PKCS12_KDF_ID, pkcs12Kdf, rc2CbcDecrypt, tripleDesCbcDecrypt, unpad } from './legacy-ciphers.ts';
import { HarnessError } from '../errors.ts';

export class PbeError extends HarnessError<'bad_password' | 'unsupported' | 'malformed'> {}

const PBES2 = '1.2.840.113549.1.5.13';
const PBKDF2 = '1.2.840.113549.1.5.12';

const PRF: Record<string, string> = {
  '1.2.840.113549.2.7': 'SHA-1',
  '1.2.840.113549.2.8': 'SHA-224',
  '1.2.840.113549.2.9': 'SHA-256',
  '1.2.840.113549.2.10': 'SHA-384',
  '1.2.840.113549.2.11': 'SHA-512',
};

const PBES2_CIPHERS: Record<string, { name: string; keyBytes: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'AES-128-CBC', keyBytes: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'AES-192-CBC', keyBytes: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'AES-256-CBC', keyBytes: 32 },
  '1.2.840.113549.3.7': { name: 'DES-EDE3-CBC', keyBytes: 24 },
};

const PKCS12_PBE: Record<string, { name: string; cipher: '3des' | 'rc2' | 'rc4'; keyBytes: number }> = {
  '1.2.840.113549.1.12.1.1': { name: 'pbeWithSHA1And128BitRC4', cipher: 'rc4', keyBytes: 16 },
  '1.2.840.113549.1.12.1.2': { name: 'pbeWithSHA1And40BitRC4', cipher: 'rc4', keyBytes: 5 },
  '1.2.840.113549.1.12.1.3': { name: 'pbeWithSHA1And3-KeyTripleDES-CBC', cipher: '3des', keyBytes: 24 },
  '1.2.840.113549.1.12.1.4': { name: 'pbeWithSHA1And2-KeyTripleDES-CBC', cipher: '3des', keyBytes: 16 },
  '1.2.840.113549.1.12.1.5': { name: 'pbeWithSHA1And128BitRC2-CBC', cipher: 'rc2', keyBytes: 16 },
  '1.2.840.113549.1.12.1.6': { name: 'pbeWithSHA1And40BitRC2-CBC', cipher: 'rc2', keyBytes: 5 },
};

function integer(bytes: Uint8Array, tlv: Tlv | undefined): number {
  if (!tlv || tlv.tag !== TAG.integer || tlv.contentEnd - tlv.contentStart > 6) throw new PbeError('malformed', 'bad integer in encryption parameters');
  let v = 0;
  for (let i = tlv.contentStart; i < tlv.contentEnd; i++) v = v * 256 + bytes[i]!;
  return v;
}

interface Scheme {
  /** e.g. `PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC, 2048 iterations)`. */
  text: string;
  decrypt(data: Uint8Array, password: string): Promise<Uint8Array>;
}

function parseScheme(alg: Uint8Array): Scheme {
  const [oidTlv, params] = children(alg, readTlv(alg));
  if (!oidTlv || oidTlv.tag !== TAG.oid) throw new PbeError('malformed', 'the encryption algorithm is missing');
  const oid = oidOf(alg, oidTlv);

  const legacy = PKCS12_PBE[oid];
  if (legacy) {
    const [salt, iter] = params ? children(alg, params) : [];
    if (!salt || salt.tag !== TAG.octetString) throw new PbeError('malformed', `${legacy.name} parameters have no salt`);
    const iterations = integer(alg, iter);
    const text = `${legacy.name}, ${iterations} iterations`;
    if (legacy.cipher === 'rc4') throw new PbeError('unsupported', `${legacy.name} (RC4) is not supported`);
    if (iterations > PKI_DEFAULTS.maxPkcs12KdfIterations) throw new PbeError('unsupported', `${text}: too many iterations`);
    const saltBytes = contentOf(alg, salt).slice();
    return {
      text,
      async decrypt(data, password) {
        const pw = bmpPassword(password);
        const key = pkcs12Kdf(pw, saltBytes, iterations, PKCS12_KDF_ID.key, legacy.keyBytes);
        const iv = pkcs12Kdf(pw, saltBytes, iterations, PKCS12_KDF_ID.iv, 8);
        const plain = legacy.cipher === '3des' ? tripleDesCbcDecrypt(key, iv, data) : rc2CbcDecrypt(key, legacy.keyBytes * 8, iv, data);
        const unpadded = unpad(plain, 8);
        if (!unpadded) throw new PbeError('bad_password', 'decryption failed: wrong password');
        return unpadded;
      },
    };
  }

  if (oid !== PBES2) throw new PbeError('unsupported', `encryption scheme ${oid} is not supported (PBES2 and the PKCS#12 SHA-1 schemes are)`);
  const [kdf, enc] = params ? children(alg, params) : [];
  if (!kdf || !enc) throw new PbeError('malformed', 'PBES2 parameters are incomplete');
  const [kdfOid, kdfParams] = children(alg, kdf);
  if (!kdfOid || oidOf(alg, kdfOid) !== PBKDF2 || !kdfParams) throw new PbeError('unsupported', 'PBES2 with a key derivation other than PBKDF2 is not supported');
  const kdfFields = children(alg, kdfParams);
  const salt = kdfFields[0];
  if (!salt || salt.tag !== TAG.octetString) throw new PbeError('unsupported', 'PBKDF2 with a non-octet-string salt is not supported');
  const iterations = integer(alg, kdfFields[1]);
  let hash = 'SHA-1';
  for (const f of kdfFields.slice(2)) {
    if (f.tag !== TAG.sequence) continue;
    const [prfOid] = children(alg, f);
    const prf = prfOid ? PRF[oidOf(alg, prfOid)] : undefined;
    if (!prf) throw new PbeError('unsupported', 'PBKDF2 with an unknown PRF is not supported');
    hash = prf;
  }
  const [encOid, ivTlv] = children(alg, enc);
  const cipher = encOid ? PBES2_CIPHERS[oidOf(alg, encOid)] : undefined;
  if (!cipher || !ivTlv || ivTlv.tag !== TAG.octetString) throw new PbeError('unsupported', `PBES2 cipher ${encOid ? oidOf(alg, encOid) : '?'} is not supported`);
  const text = `PBES2 (PBKDF2-HMAC-${hash}, ${cipher.name}, ${iterations} iterations)`;
  if (iterations > PKI_DEFAULTS.maxPbkdf2Iterations) throw new PbeError('unsupported', `${text}: too many iterations`);
  const saltBytes = contentOf(alg, salt).slice();
  const iv = contentOf(alg, ivTlv).slice();
  return {
    text,
    async decrypt(data, password) {
      const { subtle } = crypto;
      const base = await subtle.importKey('raw', toArrayBuffer(utf8(password)), 'PBKDF2', false, ['deriveBits']);
      const keyBytes = new Uint8Array(await subtle.deriveBits({ name: 'PBKDF2', hash, salt: toArrayBuffer(saltBytes), iterations }, base, cipher.keyBytes * 8));
      if (cipher.name === 'DES-EDE3-CBC') {
        const unpadded = unpad(tripleDesCbcDecrypt(keyBytes, iv, data), 8);
        if (!unpadded) throw new PbeError('bad_password', 'decryption failed: wrong password');
        return unpadded;
      }
      const key = await subtle.importKey('raw', toArrayBuffer(keyBytes), 'AES-CBC', false, ['decrypt']);
      try {
        return new Uint8Array(await subtle.decrypt({ name: 'AES-CBC', iv: toArrayBuffer(iv) }, key, toArrayBuffer(data)));
      } catch {
        throw new PbeError('bad_password', 'decryption failed: wrong password');
      }
    },
  };
}

function scheme(algorithm: Uint8Array): Scheme {
  try {
    return parseScheme(algorithm);
  } catch (e) {
    if (e instanceof PbeError) throw e;
    if (e instanceof DerError) throw new PbeError('malformed', e.message);
    throw new PbeError('malformed', 'the encryption parameters cannot be read');
  }
}

/** Names the scheme of a DER AlgorithmIdentifier, e.g. for "encrypted with …" messages. */
export function describePbe(algorithm: Uint8Array): string {
  try {
    return scheme(algorithm).text;
  } catch (e) {
    return e instanceof Error ? e.message : 'unknown encryption';
  }
}

/** Decrypts `data` encrypted under the scheme in `algorithm` (DER AlgorithmIdentifier). */
export async function pbeDecrypt(algorithm: Uint8Array, data: Uint8Array, password: string): Promise<Uint8Array> {
  return scheme(algorithm).decrypt(data, password);
}
