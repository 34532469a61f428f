// The ciphers of legacy PKCS#12 files: Triple-DES and RC2 in CBC mode (decryption only), and the
// PKCS#12 key derivation (RFC 7292 appendix B) over SHA-1. Windows exported .pfx files this way
// for two decades and `openssl pkcs12 -legacy` still does, so partners keep sending them.
//
// SHA-1 is @noble/hashes' (audited, synchronous: the KDF hashes thousands of times in a row, and
// WebCrypto's digest would make that thousands of awaits). What stays written here, because no
// well-kept library serves it in both the browser and Node: DES/Triple-DES and RC2 (WebCrypto has
// neither, @noble/ciphers leaves both out; @peculiar/webcrypto's DES-EDE3-CBC wraps node:crypto,
// so it cannot run in the browser, and it has no RC2), and the RFC 7292 KDF (pkijs has one but
// keeps it private). Each is checked against known answers and `openssl enc` / `pkcs12 -legacy`.
// Speed is irrelevant here: the data is a few kilobytes.
import { sha1 } from '@noble/hashes/legacy.js';

// ---- PKCS#12 key derivation (RFC 7292 B.2), SHA-1 only as the legacy PBE schemes use it ---

export const PKCS12_KDF_ID = { key: 1, iv: 2, mac: 3 } as const;

/** The password as PKCS#12 wants it: UTF-16 big-endian with a two-byte terminator. */
export function bmpPassword(password: string): Uint8Array {
  const out = new Uint8Array(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) {
    out[i * 2] = password.charCodeAt(i) >> 8;
    out[i * 2 + 1] = password.charCodeAt(i) & 0xff;
  }
  return out;
}

export function pkcs12Kdf(password: Uint8Array, salt: Uint8Array, iterations: number, id: number, size: number): Uint8Array {
  const u = 20;
  const v = 64;
  const fill = (src: Uint8Array): Uint8Array => {
    const out = new Uint8Array(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const I = new Uint8Array([...fill(salt), ...fill(password)]);
  const out = new Uint8Array(size);
  for (let produced = 0; produced < size; produced += u) {
    let A = sha1(new Uint8Array([...new Uint8Array(v).fill(id), ...I]));
    for (let r = 1; r < iterations; r++) A = sha1(A);
    out.set(A.subarray(0, Math.min(u, size - produced)), produced);
    // I_j = (I_j + B + 1) mod 2^(8v), with B = A repeated to v bytes.
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k]! + A[k % u]! + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return out;
}

// ---- DES / Triple-DES (FIPS 46-3), bit-array form for clarity -----------------------------

const IP = [58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8, 57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3, 61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7];
const FP = [40, 8, 48, 16, 56, 24, 64, 32, 39, 7, 47, 15, 55, 23, 63, 31, 38, 6, 46, 14, 54, 22, 62, 30, 37, 5, 45, 13, 53, 21, 61, 29, 36, 4, 44, 12, 52, 20, 60, 28, 35, 3, 43, 11, 51, 19, 59, 27, 34, 2, 42, 10, 50, 18, 58, 26, 33, 1, 41, 9, 49, 17, 57, 25];
const E = [32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17, 16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25, 24, 25, 26, 27, 28, 29, 28, 29, 30, 31, 32, 1];
const P = [16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25];
const PC1 = [57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36, 63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4];
const PC2 = [14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2, 41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32];
const SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];
const SBOX = [
  '14 4 13 1 2 15 11 8 3 10 6 12 5 9 0 7 0 15 7 4 14 2 13 1 10 6 12 11 9 5 3 8 4 1 14 8 13 6 2 11 15 12 9 7 3 10 5 0 15 12 8 2 4 9 1 7 5 11 3 14 10 0 6 13',
  '15 1 8 14 6 11 3 4 9 7 2 13 12 0 5 10 3 13 4 7 15 2 8 14 12 0 1 10 6 9 11 5 0 14 7 11 10 4 13 1 5 8 12 6 9 3 2 15 13 8 10 1 3 15 4 2 11 6 7 12 0 5 14 9',
  '10 0 9 14 6 3 15 5 1 13 12 7 11 4 2 8 13 7 0 9 3 4 6 10 2 8 5 14 12 11 15 1 13 6 4 9 8 15 3 0 11 1 2 12 5 10 14 7 1 10 13 0 6 9 8 7 4 15 14 3 11 5 2 12',
  '7 13 14 3 0 6 9 10 1 2 8 5 11 12 4 15 13 8 11 5 6 15 0 3 4 7 2 12 1 10 14 9 10 6 9 0 12 11 7 13 15 1 3 14 5 2 8 4 3 15 0 6 10 1 13 8 9 4 5 11 12 7 2 14',
  '2 12 4 1 7 10 11 6 8 5 3 15 13 0 14 9 14 11 2 12 4 7 13 1 5 0 15 10 3 9 8 6 4 2 1 11 10 13 7 8 15 9 12 5 6 3 0 14 11 8 12 7 1 14 2 13 6 15 0 9 10 4 5 3',
  '12 1 10 15 9 2 6 8 0 13 3 4 14 7 5 11 10 15 4 2 7 12 9 5 6 1 13 14 0 11 3 8 9 14 15 5 2 8 12 3 7 0 4 10 1 13 11 6 4 3 2 12 9 5 15 10 11 14 1 7 6 0 8 13',
  '4 11 2 14 15 0 8 13 3 12 9 7 5 10 6 1 13 0 11 7 4 9 1 10 14 3 5 12 2 15 8 6 1 4 11 13 12 3 7 14 10 15 6 8 0 5 9 2 6 11 13 8 1 4 10 7 9 5 0 15 14 2 3 12',
  '13 2 8 4 6 15 11 1 10 9 3 14 5 0 12 7 1 15 13 8 10 3 7 4 12 5 6 11 0 14 9 2 7 11 4 1 9 12 14 2 0 6 10 13 15 3 5 8 2 1 14 7 4 10 8 13 15 12 9 0 3 5 6 11',
].map((row) => row.split(' ').map(Number));

type Bits = number[];

const permute = (bits: Bits, table: number[]): Bits => table.map((i) => bits[i - 1]!);
const toBits = (bytes: Uint8Array): Bits => Array.from({ length: bytes.length * 8 }, (_, i) => (bytes[i >> 3]! >> (7 - (i & 7))) & 1);
function fromBits(bits: Bits): Uint8Array {
  const out = new Uint8Array(bits.length >> 3);
  bits.forEach((b, i) => (out[i >> 3]! |= b << (7 - (i & 7))));
  return out;
}

function desSubkeys(key: Uint8Array): Bits[] {
  const cd = permute(toBits(key), PC1);
  let c = cd.slice(0, 28);
  let d = cd.slice(28);
  return SHIFTS.map((s) => {
    c = [...c.slice(s), ...c.slice(0, s)];
    d = [...d.slice(s), ...d.slice(0, s)];
    return permute([...c, ...d], PC2);
  });
}

function desBlock(block: Uint8Array, subkeys: Bits[], decrypt: boolean): Uint8Array {
  const bits = permute(toBits(block), IP);
  let l = bits.slice(0, 32);
  let r = bits.slice(32);
  for (let round = 0; round < 16; round++) {
    const k = subkeys[decrypt ? 15 - round : round]!;
    const x = permute(r, E).map((b, i) => b ^ k[i]!);
    const s: Bits = [];
    for (let box = 0; box < 8; box++) {
      const six = x.slice(box * 6, box * 6 + 6);
      const row = (six[0]! << 1) | six[5]!;
      const col = (six[1]! << 3) | (six[2]! << 2) | (six[3]! << 1) | six[4]!;
      const v = SBOX[box]![row * 16 + col]!;
      s.push((v >> 3) & 1, (v >> 2) & 1, (v >> 1) & 1, v & 1);
    }
    const f = permute(s, P);
    [l, r] = [r, l.map((b, i) => b ^ f[i]!)];
  }
  return fromBits(permute([...r, ...l], FP));
}

function cbcDecrypt(data: Uint8Array, iv: Uint8Array, blockSize: number, decryptBlock: (b: Uint8Array) => Uint8Array): Uint8Array {
  if (data.length === 0 || data.length % blockSize) throw new RangeError('ciphertext is not a whole number of blocks');
  const out = new Uint8Array(data.length);
  let previous = iv;
  for (let i = 0; i < data.length; i += blockSize) {
    const block = data.subarray(i, i + blockSize);
    const plain = decryptBlock(block);
    for (let j = 0; j < blockSize; j++) out[i + j] = plain[j]! ^ previous[j]!;
    previous = block;
  }
  return out;
}

/** Removes PKCS#5 padding; null when it is not valid (the usual sign of a wrong password). */
export function unpad(data: Uint8Array, blockSize: number): Uint8Array | null {
  const n = data[data.length - 1] ?? 0;
  if (n < 1 || n > blockSize || n > data.length) return null;
  for (let i = data.length - n; i < data.length; i++) if (data[i] !== n) return null;
  return data.subarray(0, data.length - n);
}

/** Raw single-block DES decryption (exposed for known-answer tests). */
export function desDecryptBlock(key: Uint8Array, block: Uint8Array): Uint8Array {
  return desBlock(block, desSubkeys(key), true);
}

/** DES-EDE3-CBC decryption without unpadding; a 16-byte key means two-key Triple-DES (K3 = K1). */
export function tripleDesCbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const k1 = desSubkeys(key.subarray(0, 8));
  const k2 = desSubkeys(key.subarray(8, 16));
  const k3 = key.length >= 24 ? desSubkeys(key.subarray(16, 24)) : k1;
  return cbcDecrypt(data, iv, 8, (b) => desBlock(desBlock(desBlock(b, k3, true), k2, false), k1, true));
}

// ---- RC2 (RFC 2268) -----------------------------------------------------------------------

const PITABLE = new Uint8Array(
  (
    'd978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2179a59f587b34f1361456d8d09817d32' +
    'bd8f40eb86b77b0bf09521225c6b4e8254d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626' +
    '6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed708e8eade8052eef784aa72ac354d6a2a' +
    '961ad2715a1549744b9fd05e0418a4ecc2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731' +
    '2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a90d38341bab33ffb0bb480c5fb9b1cd2e' +
    'c5f3db47e5a59c770aa62068fe7fc1ad'
  )
    .match(/../g)!
    .map((h) => parseInt(h, 16)),
);

function rc2Expand(key: Uint8Array, effectiveBits: number): Uint16Array {
  const L = new Uint8Array(128);
  L.set(key);
  const T = key.length;
  for (let i = T; i < 128; i++) L[i] = PITABLE[(L[i - 1]! + L[i - T]!) & 0xff]!;
  const T8 = (effectiveBits + 7) >> 3;
  const TM = 0xff >> (8 * T8 - effectiveBits);
  L[128 - T8] = PITABLE[L[128 - T8]! & TM]!;
  for (let i = 127 - T8; i >= 0; i--) L[i] = PITABLE[L[i + 1]! ^ L[i + T8]!]!;
  const K = new Uint16Array(64);
  for (let i = 0; i < 64; i++) K[i] = L[2 * i]! | (L[2 * i + 1]! << 8);
  return K;
}

function rc2DecryptBlock(K: Uint16Array, block: Uint8Array): Uint8Array {
  const R = [0, 1, 2, 3].map((i) => block[2 * i]! | (block[2 * i + 1]! << 8));
  const S = [1, 2, 3, 5];
  let j = 63;
  const at = (i: number): number => R[(i + 4) % 4]!;
  const mixRounds = (n: number): void => {
    for (let round = 0; round < n; round++) {
      for (let i = 3; i >= 0; i--) {
        const v = R[i]!;
        const rotated = ((v >>> S[i]!) | (v << (16 - S[i]!))) & 0xffff;
        R[i] = (rotated - K[j]! - (at(i - 1) & at(i - 2)) - (~at(i - 1) & at(i - 3))) & 0xffff;
        j--;
      }
    }
  };
  const mash = (): void => {
    for (let i = 3; i >= 0; i--) R[i] = (R[i]! - K[at(i - 1) & 63]!) & 0xffff;
  };
  mixRounds(5);
  mash();
  mixRounds(6);
  mash();
  mixRounds(5);
  const out = new Uint8Array(8);
  R.forEach((w, i) => {
    out[2 * i] = w & 0xff;
    out[2 * i + 1] = w >> 8;
  });
  return out;
}

/** RC2-CBC decryption without unpadding. */
export function rc2CbcDecrypt(key: Uint8Array, effectiveBits: number, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const K = rc2Expand(key, effectiveBits);
  return cbcDecrypt(data, iv, 8, (b) => rc2DecryptBlock(K, b));
}

/** Raw single-block RC2 decryption (exposed for RFC 2268 known-answer tests). */
export function rc2DecryptBlockWithKey(key: Uint8Array, effectiveBits: number, block: Uint8Array): Uint8Array {
  return rc2DecryptBlock(rc2Expand(key, effectiveBits), block);
}
