// shared/ is written against the WebCrypto types that browsers declare globally; Node has the
// same API under `node:crypto`'s webcrypto namespace. These aliases let the relay compile the
// shared code without pulling the whole DOM lib into server/.
import type { webcrypto } from 'node:crypto';

declare global {
  type Crypto = webcrypto.Crypto;
  type SubtleCrypto = webcrypto.SubtleCrypto;
  type CryptoKey = webcrypto.CryptoKey;
  type CryptoKeyPair = webcrypto.CryptoKeyPair;
  type Algorithm = webcrypto.Algorithm;
  type KeyAlgorithm = webcrypto.KeyAlgorithm;
  type EcKeyGenParams = webcrypto.EcKeyGenParams;
  type EcdsaParams = webcrypto.EcdsaParams;
  type RsaHashedKeyGenParams = webcrypto.RsaHashedKeyGenParams;
  type RsaHashedImportParams = webcrypto.RsaHashedImportParams;
  type EcKeyImportParams = webcrypto.EcKeyImportParams;
  type JsonWebKey = webcrypto.JsonWebKey;
}
