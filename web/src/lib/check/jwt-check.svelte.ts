// The Server check screen's JWT and resource halves. The JWT check's assertions are signed here,
// at the last moment, with this browser's non-extractable key or a key-ring key imported
// non-extractable: the relay gets signed assertions, never a key (as in the token flows). The
// resource check's bound token and its certificate key go to the relay for this check only, as
// a probe's client key does.
import { importPKCS8, importX509 } from 'jose';
import type { JwtCheckKind } from '../../../../shared/check/jwt-cases.ts';
import { planJwtCases, signedCaseIds, spkiPem, type CaseSigningKey } from '../../../../shared/check/jwt-plan.ts';
import type { ResourceCheckRequest, SignedJwtCheckRequest } from '../../../../shared/check/jwt-request.ts';
import type { Credential } from '../keys/credential.svelte.ts';
import type { KeyRing } from '../keys/keyring.svelte.ts';
import type { RelayConnection } from '../relay/connection.svelte.ts';
import { describeError } from '../relay/errors.ts';
import type { BrowserAlg, BrowserSigner } from '../jwt/signer.svelte.ts';

/** The key-source value for this browser's own key. */
export const BROWSER_KEY = 'browser';

export const JWT_KIND_TITLES: Record<JwtCheckKind, string> = {
  private_key_jwt: 'private_key_jwt client authentication (RFC 7523 §2.2)',
  'jwt-bearer': 'JWT bearer grant (RFC 7523 §2.1)',
  exchange: 'Seed exchange (client_id, client_secret, jwt_token)',
};

/** The algorithm a key-ring key signs with, by its type; undefined: the check cannot sign with it. */
function algOf(keyAlgorithm: string): CaseSigningKey['alg'] | undefined {
  if (keyAlgorithm.startsWith('RSA')) return 'RS256';
  return ({ 'P-256': 'ES256', 'P-384': 'ES384', Ed25519: 'EdDSA' } as const)[keyAlgorithm];
}

async function publicPemOf(key: CryptoKey): Promise<string> {
  return spkiPem(new Uint8Array(await crypto.subtle.exportKey('spki', key)));
}

/** Blank fields are left out, so the relay applies its defaults (aud = token URL, iss = sub = client id). */
function optional<K extends string>(key: K, value: string): Partial<Record<K, string>> {
  const v = value.trim();
  return v ? ({ [key]: v } as Record<K, string>) : {};
}

export class JwtCheckForm {
  kind = $state<JwtCheckKind>('private_key_jwt');
  tokenUrl = $state('');
  clientId = $state('');
  clientSecret = $state('');
  /** BROWSER_KEY or a key-ring credential id. */
  keySource = $state<string>(BROWSER_KEY);
  browserAlg = $state<BrowserAlg>('ES256');
  kid = $state('');
  audience = $state('');
  issuer = $state('');
  subject = $state('');
  /** What the lab button is doing, for the screen. */
  labBusy = $state<string | null>(null);

  readonly #keyring: KeyRing;
  readonly #signer: BrowserSigner;

  constructor(keyring: KeyRing, signer: BrowserSigner) {
    this.#keyring = keyring;
    this.#signer = signer;
  }

  /** Key-ring credentials whose key type the check can sign with. */
  get credentials(): Credential[] {
    return this.#keyring.ready.filter((c) => algOf(c.keyAlgorithm));
  }

  /** Where the key lives, as the screen says it. */
  get keyWhere(): string {
    if (this.keySource === BROWSER_KEY) return `This browser's ${this.browserAlg} key: made here, not extractable — the assertions are signed in this tab and the key never leaves it.`;
    return 'A key-ring key, imported non-extractable to sign here: the assertions are signed in this tab and the key never goes to the relay.';
  }

  /**
   * Makes the lab the target: this browser's key becomes a private_key_jwt client of the lab's
   * token endpoint (lab.register sends the public JWK only), whose correct configuration grades A.
   */
  async useLab(relay: RelayConnection): Promise<string | null> {
    const lab = relay.info?.lab;
    if (!lab) return 'The relay runs no lab (started with --no-lab).';
    this.labBusy = 'Registering this browser\'s key with the lab…';
    try {
      this.#signer.noteLab(lab.targets.map((t) => t.url).join(' '));
      const key = await this.#signer.key(this.browserAlg);
      const reg = await this.#signer.registerWithLab(key, relay);
      this.kind = 'private_key_jwt';
      this.keySource = BROWSER_KEY;
      this.tokenUrl = reg.tokenUrl;
      this.clientId = reg.clientId;
      this.kid = reg.kid;
      this.audience = '';
      this.issuer = '';
      this.subject = '';
      return null;
    } catch (err) {
      return `The lab could not register this browser's key: ${describeError(err)}`;
    } finally {
      this.labBusy = null;
    }
  }

  async #signingKey(): Promise<CaseSigningKey> {
    if (this.keySource === BROWSER_KEY) {
      const key = await this.#signer.key(this.browserAlg);
      return { key: key.privateKey, alg: this.browserAlg, publicPem: await publicPemOf(key.publicKey) };
    }
    const credential = this.#keyring.get(this.keySource);
    const alg = credential && algOf(credential.keyAlgorithm);
    if (!credential?.certificatePem || !alg) throw new FormProblem('Choose the signing key: this browser\'s key or a key-ring key with its certificate.');
    const key = await importPKCS8(await credential.privateKeyPem(), alg, { extractable: false });
    const publicKey = await importX509(credential.certificatePem, alg, { extractable: true });
    return { key, alg, publicPem: await publicPemOf(publicKey) };
  }

  /** The request as the relay takes it: every case's assertion signed here. */
  async request(caPem: string): Promise<SignedJwtCheckRequest> {
    if (!this.tokenUrl.trim()) throw new FormProblem('Give the token endpoint\'s https:// URL (or use the lab).');
    if (!this.clientId.trim()) throw new FormProblem('Give the client id the server has registered for the key.');
    if (this.kind === 'exchange' && !this.clientSecret) throw new FormProblem('The seed exchange sends client_secret: give the client secret.');
    const input = {
      kind: this.kind,
      tokenUrl: this.tokenUrl.trim(),
      clientId: this.clientId.trim(),
      ...optional('kid', this.kid),
      ...optional('audience', this.audience),
      ...(this.kind === 'private_key_jwt' ? {} : { ...optional('issuer', this.issuer), ...optional('subject', this.subject) }),
    };
    const plans = await planJwtCases(input, await this.#signingKey());
    const wanted: string[] = signedCaseIds(this.kind);
    return {
      ...input,
      ...(this.kind === 'exchange' ? { clientSecret: this.clientSecret } : {}),
      ...(caPem.trim() ? { caPem } : {}),
      assertions: Object.fromEntries(plans.filter((p) => wanted.includes(p.id)).map((p) => [p.id, p.token])),
    };
  }
}

export class ResourceCheckForm {
  url = $state('');
  accessToken = $state('');
  /** '' or the key-ring credential a certificate-bound token was issued to. */
  credentialId = $state('');

  readonly #keyring: KeyRing;

  constructor(keyring: KeyRing) {
    this.#keyring = keyring;
  }

  get credentials(): Credential[] {
    return this.#keyring.ready;
  }

  async request(caPem: string): Promise<ResourceCheckRequest> {
    if (!this.url.trim()) throw new FormProblem('Give the https:// URL of the API that accepts the token.');
    if (!this.accessToken.trim()) throw new FormProblem('Paste the access token the authorization server issued for this API.');
    const credential = this.credentialId ? this.#keyring.get(this.credentialId) : undefined;
    if (this.credentialId && !credential?.certificatePem) throw new FormProblem('The chosen key-ring entry has no certificate any more: choose another or none.');
    return {
      url: this.url.trim(),
      accessToken: this.accessToken.trim(),
      ...(credential ? { client: { certificatePem: credential.certificateChainPem, privateKeyPem: await credential.privateKeyPem() } } : {}),
      ...(caPem.trim() ? { caPem } : {}),
    };
  }
}

/** Something the form lacks, said as the screen says it (no relay round trip). */
export class FormProblem extends Error {}
