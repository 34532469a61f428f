// JWT signing keys made in this browser. They are generated non-extractable: WebCrypto signs
// with them but refuses to hand out the private key, so a JWT key never leaves this tab —
// unlike the key ring's mTLS keys, which a probe has to send to the relay.
import { exportSPKI, generateKeyPair } from 'jose';
import { publicJwkOf } from '../../../../shared/jwt/sign.ts';
import type { PublicJwk } from '../../../../shared/jwt/keys.ts';
import type { ServerMessage } from '../../../../shared/protocol/index.ts';
import type { RelayConnection } from '../relay/connection.svelte.ts';

/** Algorithms a browser key is made for, in the order offered. */
export const BROWSER_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
export type BrowserAlg = (typeof BROWSER_ALGS)[number];

export const KEY_TYPE: Record<BrowserAlg, string> = {
  RS256: 'RSA-2048',
  PS256: 'RSA-2048 (PSS)',
  ES256: 'P-256',
  EdDSA: 'Ed25519',
};

export type LabRegistered = Extract<ServerMessage, { type: 'lab.registered' }>;

/** One key pair, its public JWK (kid = RFC 7638 thumbprint) and, once asked, its lab client. */
export class BrowserKey {
  readonly alg: BrowserAlg;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: PublicJwk;
  readonly spkiPem: string;
  readonly createdAt = new Date();
  registration = $state<LabRegistered | null>(null);

  constructor(alg: BrowserAlg, pair: { privateKey: CryptoKey; publicKey: CryptoKey }, publicJwk: PublicJwk, spkiPem: string) {
    this.alg = alg;
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    this.publicJwk = publicJwk;
    this.spkiPem = spkiPem;
  }

  get kid(): string {
    return this.publicJwk.kid ?? '';
  }

  /** Read from the CryptoKey itself, so what the screen says is what WebCrypto enforces. */
  get extractable(): boolean {
    return this.privateKey.extractable;
  }

  get jwks(): { keys: PublicJwk[] } {
    return { keys: [this.publicJwk] };
  }

  /** Asks WebCrypto for the private key; it must refuse. Returns the browser's refusal. */
  async tryExport(): Promise<string> {
    try {
      await crypto.subtle.exportKey('pkcs8', this.privateKey);
      return 'exported — this key is extractable';
    } catch (err) {
      return `refused by the browser: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
    }
  }
}

/** The tab's JWT signing keys: one per algorithm, made on first use. */
export class BrowserSigner {
  keys = $state<Partial<Record<BrowserAlg, BrowserKey>>>({});
  generating = $state<BrowserAlg | null>(null);
  error = $state<string | null>(null);
  #pending = new Map<BrowserAlg, Promise<BrowserKey>>();
  #lab: string | null = null;

  /**
   * Tells the signer which lab the relay runs (its target URLs). A restarted relay has a new
   * lab that knows none of the earlier registrations: they are forgotten. True when it changed.
   */
  noteLab(where: string): boolean {
    const changed = this.#lab !== null && this.#lab !== where;
    this.#lab = where;
    if (changed) for (const key of Object.values(this.keys)) key.registration = null;
    return changed;
  }

  /** The key for `alg`, generating it (non-extractable) the first time. */
  key(alg: BrowserAlg): Promise<BrowserKey> {
    const existing = this.keys[alg];
    if (existing) return Promise.resolve(existing);
    let pending = this.#pending.get(alg);
    if (!pending) {
      pending = this.#generate(alg).finally(() => this.#pending.delete(alg));
      this.#pending.set(alg, pending);
    }
    return pending;
  }

  async #generate(alg: BrowserAlg): Promise<BrowserKey> {
    this.generating = alg;
    this.error = null;
    try {
      const pair = await generateKeyPair(alg, { extractable: false, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
      const jwk = { ...(await publicJwkOf(pair.publicKey)), alg };
      const key = new BrowserKey(alg, pair, jwk, await exportSPKI(pair.publicKey));
      this.keys[alg] = key;
      return key;
    } catch (err) {
      this.error = `This browser could not make a ${KEY_TYPE[alg]} key: ${err instanceof Error ? err.message : String(err)}`;
      throw err;
    } finally {
      this.generating = null;
    }
  }

  /**
   * Makes the key a client of the built-in lab (`lab.register`): only the public JWK is sent.
   * Registering the same key again gives the same client, so the answer is cached per key.
   */
  async registerWithLab(key: BrowserKey, relay: RelayConnection): Promise<LabRegistered> {
    if (key.registration) return key.registration;
    const reply = await relay.request({ type: 'lab.register', id: relay.nextId(), publicJwk: key.publicJwk });
    key.registration = reply;
    return reply;
  }
}
