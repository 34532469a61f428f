// The JWT builder's state: header, signing key, claims (from a template or edited by hand),
// the live lint and the signed token. Signing happens here, in the browser, with jose over
// WebCrypto; nothing in this file talks to the relay except the optional lab registration.
import { importPKCS8, SignJWT, type CryptoKey as JoseKey } from 'jose';
import { newJti, templateClaims, TEMPLATE_LIFETIME_SEC, type JwtTemplate } from '../../../../shared/jwt/claims.ts';
import type { JwtClaims, JwtHeader } from '../../../../shared/jwt/decode.ts';
import { lintJwt, type LintFinding, type LintOptions } from '../../../../shared/jwt/lint.ts';
import type { PublicJwk } from '../../../../shared/jwt/keys.ts';
import type { Credential } from '../keys/credential.svelte.ts';
import type { KeyRing } from '../keys/keyring.svelte.ts';
import { pemBlocks } from '../keys/pem.ts';
import type { RelayClock } from './relay-clock.svelte.ts';
import { BROWSER_ALGS, type BrowserAlg, type BrowserSigner } from './signer.svelte.ts';

export const BUILDER_ALGS = [...BROWSER_ALGS, 'HS256'] as const;
type BuilderAlg = (typeof BUILDER_ALGS)[number];

export type BuilderTemplate = JwtTemplate | 'custom';
export const TEMPLATE_TITLES: Record<BuilderTemplate, string> = {
  seed: 'Token-exchange JWT (iss = client id, sub = user)',
  'jwt-bearer': 'RFC 7523 assertion grant',
  'client-assertion': 'private_key_jwt client assertion',
  custom: 'Custom JSON',
};

/** Which key signs: this browser's non-extractable key, a key-ring credential, or a shared secret. */
export const BROWSER_KEY = 'browser';

/** HS256 keys shorter than the hash are refused by RFC 7518 §3.2 and by most libraries. */
export const MIN_HMAC_BYTES = 32;

function keyFits(alg: BuilderAlg, keyAlgorithm: string): boolean {
  if (alg === 'RS256' || alg === 'PS256') return keyAlgorithm.startsWith('RSA');
  if (alg === 'ES256') return keyAlgorithm === 'P-256';
  if (alg === 'EdDSA') return keyAlgorithm === 'Ed25519';
  return false;
}

function derBase64(pem: string): string {
  return pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
}

async function sha256Base64url(b64: string): Promise<string> {
  const der = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', der));
  return btoa(String.fromCharCode(...digest)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

interface SignedJwt {
  token: string;
  /** How it was signed, for the screen. */
  keyDescription: string;
  at: number;
  /** How "Verify it below" checks it: with the key that signed it, never a guess. */
  verifyWith: { kind: 'browser' } | { kind: 'pem'; pem: string } | { kind: 'secret'; secret: string };
}

export class JwtBuilder {
  alg = $state<BuilderAlg>('RS256');
  /** BROWSER_KEY or a key-ring credential id; ignored for HS256. */
  keySource = $state<string>(BROWSER_KEY);
  hmacSecret = $state('');
  /** Empty: the key's kid (thumbprint, or the lab's). */
  kidOverride = $state('');
  omitKid = $state(false);
  typ = $state('JWT');
  includeX5c = $state(false);
  includeX5t = $state(false);

  template = $state<BuilderTemplate>('jwt-bearer');
  clientId = $state('acme-orders');
  subject = $state('user-42');
  audience = $state('');
  /** The lab token endpoint last offered as the audience; replaced when a restarted relay moves it. */
  offeredAudience = '';
  lifetimeSec = $state<number>(TEMPLATE_LIFETIME_SEC['jwt-bearer']);
  /** When the template's times were taken (epoch ms of this browser, the signer's clock). */
  stampedAt = $state(Date.now());
  jti = $state(newJti());
  /** The claims as typed by hand; null while they follow the template. */
  claimsOverride = $state<string | null>(null);

  signed = $state<SignedJwt | null>(null);
  signError = $state<string | null>(null);
  signing = $state(false);
  /** x5c / x5t#S256 of the selected credential's certificate. */
  certHeader = $state<{ credentialId: string; x5c: string[]; x5t: string } | null>(null);

  readonly signer: BrowserSigner;
  readonly keyring: KeyRing;
  readonly clock: RelayClock;
  #importedKeys = new Map<string, JoseKey>();

  constructor(init: { signer: BrowserSigner; keyring: KeyRing; clock: RelayClock }) {
    this.signer = init.signer;
    this.keyring = init.keyring;
    this.clock = init.clock;
  }

  get browserAlg(): BrowserAlg | null {
    return this.alg === 'HS256' ? null : this.alg;
  }

  /** Key-ring credentials with a certificate whose key can make the chosen alg. */
  get usableCredentials(): Credential[] {
    return this.keyring.items.filter((c) => c.ready && keyFits(this.alg, c.keyAlgorithm));
  }

  get credential(): Credential | undefined {
    return this.alg === 'HS256' || this.keySource === BROWSER_KEY ? undefined : this.usableCredentials.find((c) => c.id === this.keySource);
  }

  get browserKey() {
    const alg = this.browserAlg;
    return alg && !this.credential ? this.signer.keys[alg] : undefined;
  }

  /** The public key that will sign, when known, for the lint's alg and kid checks. */
  get signingJwk(): PublicJwk | undefined {
    return this.browserKey?.publicJwk;
  }

  /** Registered keys the lint checks the kid against: the lab registration of the browser key. */
  get registeredJwks(): { keys: PublicJwk[] } | undefined {
    const key = this.browserKey;
    return key?.registration ? { keys: [{ ...key.publicJwk, kid: key.registration.kid }] } : undefined;
  }

  get kid(): string | undefined {
    if (this.omitKid) return undefined;
    if (this.kidOverride.trim()) return this.kidOverride.trim();
    const key = this.browserKey;
    if (key) return key.registration?.kid ?? key.kid;
    return undefined;
  }

  header: JwtHeader = $derived.by(() => {
    const h: JwtHeader = { alg: this.alg };
    const kid = this.kid;
    if (kid) h.kid = kid;
    if (this.typ.trim()) h.typ = this.typ.trim();
    const cert = this.certHeader;
    if (cert && this.credential?.id === cert.credentialId) {
      if (this.includeX5c) h.x5c = cert.x5c;
      if (this.includeX5t) h['x5t#S256'] = cert.x5t;
    }
    return h;
  });

  templateResult: { ok: true; claims: JwtClaims } | { ok: false; message: string } = $derived.by(() => {
    if (this.template === 'custom') {
      const iat = Math.floor(this.stampedAt / 1000);
      return { ok: true, claims: { iss: this.clientId, sub: this.subject, iat, exp: iat + this.lifetimeSec } };
    }
    try {
      const claims = templateClaims(this.template, {
        now: this.stampedAt,
        clientId: this.clientId.trim(),
        subject: this.subject.trim(),
        audience: this.audience.trim(),
        lifetimeSec: this.lifetimeSec,
        jti: this.jti,
      });
      return { ok: true, claims };
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : String(err) };
    }
  });

  claimsText: string = $derived(this.claimsOverride ?? (this.templateResult.ok ? JSON.stringify(this.templateResult.claims, null, 2) : ''));

  parsedClaims: { ok: true; claims: JwtClaims } | { ok: false; message: string } = $derived.by(() => {
    if (this.claimsOverride === null && !this.templateResult.ok) return this.templateResult;
    try {
      const value: unknown = JSON.parse(this.claimsText);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, message: 'The claims must be a JSON object: { "iss": … }' };
      return { ok: true, claims: value as JwtClaims };
    } catch (err) {
      return { ok: false, message: `The claims are not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
    }
  });

  lintOptions: LintOptions = $derived.by(() => {
    const opts: LintOptions = { now: this.clock.judgeNow };
    if (this.clock.source.kind === 'relay') opts.referenceNow = this.clock.judgeNow;
    const clientId = this.clientId.trim();
    const audience = this.audience.trim();
    switch (this.template) {
      case 'seed':
        if (clientId) opts.issuer = clientId;
        break;
      case 'jwt-bearer':
        if (clientId) opts.issuer = clientId;
        if (this.subject.trim()) opts.subject = this.subject.trim();
        if (audience) opts.audience = audience;
        opts.requireJti = true;
        break;
      case 'client-assertion':
        if (clientId) {
          opts.issuer = clientId;
          opts.subject = clientId;
        }
        if (audience) opts.audience = audience;
        opts.requireJti = true;
        break;
      case 'custom':
        break;
    }
    const jwks = this.registeredJwks;
    if (jwks) opts.jwks = jwks;
    const jwk = this.signingJwk;
    if (jwk) opts.signingKey = jwk;
    return opts;
  });

  findings: LintFinding[] = $derived(this.parsedClaims.ok ? lintJwt(this.header, this.parsedClaims.claims, this.lintOptions) : []);

  get following(): boolean {
    return this.claimsOverride === null;
  }

  /** New times and jti for the template; the claims follow unless edited by hand. */
  restamp(): void {
    this.stampedAt = Date.now();
    this.jti = newJti();
  }

  /** Picks a template and puts its claims back in the editor. */
  useTemplate(template: BuilderTemplate): void {
    this.template = template;
    if (template !== 'custom') this.lifetimeSec = TEMPLATE_LIFETIME_SEC[template];
    this.claimsOverride = null;
    this.restamp();
  }

  /** Writes new iat/exp (and jti, if there is one) into hand-edited claims. */
  stampEditedClaims(): void {
    if (!this.parsedClaims.ok) return;
    const iat = Math.floor(Date.now() / 1000);
    const claims: JwtClaims = { ...this.parsedClaims.claims, iat, exp: iat + this.lifetimeSec };
    if ('jti' in claims) claims.jti = newJti();
    this.claimsOverride = JSON.stringify(claims, null, 2);
  }

  /** Loads the certificate header values of the selected credential. */
  async loadCertificateHeader(): Promise<void> {
    const credential = this.credential;
    if (!credential?.certificatePem) {
      this.certHeader = null;
      return;
    }
    const chain = pemBlocks(credential.certificateChainPem).filter((b) => b.label === 'CERTIFICATE').map((b) => derBase64(b.text));
    if (!chain[0]) return;
    this.certHeader = { credentialId: credential.id, x5c: chain, x5t: await sha256Base64url(chain[0]) };
  }

  async #credentialKey(credential: Credential, alg: string): Promise<JoseKey> {
    const cacheKey = `${credential.id} ${alg}`;
    let key = this.#importedKeys.get(cacheKey);
    if (!key) {
      // A non-extractable copy for signing; the key ring keeps its own (extractable) one for mTLS.
      key = await importPKCS8(await credential.privateKeyPem(), alg, { extractable: false });
      this.#importedKeys.set(cacheKey, key);
    }
    return key;
  }

  /** Signs the current header and claims; re-stamps template times first so the token is fresh. */
  async sign(): Promise<SignedJwt | null> {
    this.signError = null;
    if (this.following && this.template !== 'custom') this.restamp();
    const parsed = this.parsedClaims;
    if (!parsed.ok) {
      this.signError = parsed.message;
      return null;
    }
    this.signing = true;
    try {
      let key: JoseKey | Uint8Array;
      let keyDescription: string;
      let verifyWith: SignedJwt['verifyWith'] = { kind: 'browser' };
      const credential = this.credential;
      if (this.alg === 'HS256') {
        if (!this.hmacSecret) throw new Error('Enter the shared secret to sign HS256.');
        key = new TextEncoder().encode(this.hmacSecret);
        keyDescription = 'the shared secret (HS256)';
        verifyWith = { kind: 'secret', secret: this.hmacSecret };
      } else if (credential) {
        await this.loadCertificateHeader();
        key = await this.#credentialKey(credential, this.alg);
        keyDescription = `the key of ${credential.label} from the key ring`;
        // Its certificate carries the public key: the verifier takes a certificate PEM as it is.
        if (credential.certificatePem) verifyWith = { kind: 'pem', pem: credential.certificatePem };
      } else {
        const browserKey = await this.signer.key(this.alg);
        key = browserKey.privateKey;
        keyDescription = `this browser's ${browserKey.alg} key (not extractable)`;
      }
      const token = await new SignJWT(parsed.claims).setProtectedHeader({ ...this.header, alg: this.alg }).sign(key);
      this.signed = { token, keyDescription, at: Date.now(), verifyWith };
      return this.signed;
    } catch (err) {
      this.signError = err instanceof Error ? err.message : String(err);
      return null;
    } finally {
      this.signing = false;
    }
  }
}
