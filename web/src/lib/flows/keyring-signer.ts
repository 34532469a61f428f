// A key-ring key (generated, pasted, a partner's PKCS#12) signing a flow's JWTs instead of this
// browser's key, which changes on every reload. The signing copy is non-extractable; only the
// public JWK (from the certificate) is ever sent, to register the key with the lab.
import { importPKCS8, importX509 } from 'jose';
import { publicJwkOf } from '../../../../shared/jwt/sign.ts';
import type { PublicJwk } from '../../../../shared/jwt/keys.ts';
import type { Credential } from '../keys/credential.svelte.ts';
import type { BrowserAlg } from '../jwt/signer.svelte.ts';

/** Which JWT algorithms a key of this type can make. */
const FITS: Record<string, readonly BrowserAlg[]> = { 'P-256': ['ES256'], Ed25519: ['EdDSA'] };

export function credentialFits(credential: Credential, alg: BrowserAlg): boolean {
  if (!credential.certificatePem) return false;
  if (credential.keyAlgorithm.startsWith('RSA')) return alg === 'RS256' || alg === 'PS256';
  return FITS[credential.keyAlgorithm]?.includes(alg) ?? false;
}

export interface KeyringSigningKey {
  privateKey: CryptoKey;
  /** kid = RFC 7638 thumbprint, alg set: what the lab registers. */
  publicJwk: PublicJwk;
}

const cache = new WeakMap<Credential, Map<BrowserAlg, Promise<KeyringSigningKey>>>();

/** The credential's key for `alg`, imported once per credential and algorithm. Throws a sentence when it does not fit. */
export function keyringSigningKey(credential: Credential, alg: BrowserAlg): Promise<KeyringSigningKey> {
  if (!credentialFits(credential, alg)) {
    return Promise.reject(new Error(`${credential.label} is a ${credential.keyAlgorithm} key${credential.certificatePem ? '' : ' without a certificate'}: it cannot sign ${alg}. Choose an algorithm it fits, or another key.`));
  }
  let byAlg = cache.get(credential);
  if (!byAlg) cache.set(credential, (byAlg = new Map()));
  let key = byAlg.get(alg);
  if (!key) {
    key = (async () => {
      const privateKey = (await importPKCS8(await credential.privateKeyPem(), alg, { extractable: false })) as CryptoKey;
      const publicKey = (await importX509(credential.certificatePem!, alg, { extractable: true })) as CryptoKey;
      return { privateKey, publicJwk: { ...(await publicJwkOf(publicKey)), alg } };
    })();
    key.catch(() => byAlg.delete(alg));
    byAlg.set(alg, key);
  }
  return key;
}
