// Decode and verify any pasted JWT against a key the user supplies, and say exactly what
// failed with the stable code from shared/jwt/verify.ts.
import { errors, jwtVerify } from 'jose';
import { decodeJwt, type DecodeResult, type JwtClaims } from '../../../../shared/jwt/decode.ts';
import { verifyJwt, type KeySource, type VerifyFailure, type VerifyOptions, type VerifyResult } from '../../../../shared/jwt/verify.ts';
import type { Jwks, PublicJwk } from '../../../../shared/jwt/keys.ts';
import type { ServerMessage } from '../../../../shared/protocol/index.ts';
import type { RelayConnection } from '../relay/connection.svelte.ts';
import { describeError } from '../relay/errors.ts';
import type { BrowserSigner } from './signer.svelte.ts';

export const VERIFY_SOURCES = {
  pem: 'Public key or certificate (PEM)',
  jwk: 'JWK or JWKS (JSON)',
  url: 'JWKS URL (fetched by the relay)',
  x5c: "The token's own x5c certificate",
  browser: "This browser's signing key",
  secret: 'Shared secret (HS256)',
} as const;
export type VerifySourceKind = keyof typeof VERIFY_SOURCES;

/** What each failure code is about, as the heading of the result. */
export const FAILURE_SUBJECT: Record<VerifyFailure, string> = {
  malformed: 'Token format',
  key_unusable: 'Key',
  key_not_found: 'Key not found',
  alg_not_allowed: 'Algorithm',
  signature_invalid: 'Signature',
  expired: 'Claim exp',
  not_yet_valid: 'Claim nbf',
  claim_invalid: 'Claim',
};

export type VerifyOutcome = VerifyResult & { keyDescription: string };

export type FetchedJwks = Omit<Extract<ServerMessage, { type: 'jwks.fetched' }>, 'type' | 'id'>;

function parseJson(text: string): unknown {
  return JSON.parse(text);
}

export class JwtVerifier {
  token = $state('');
  sourceKind = $state<VerifySourceKind>('pem');
  keyText = $state('');
  secret = $state('');
  issuer = $state('');
  audience = $state('');
  jwksUrl = $state('');
  /** The URL last put in `jwksUrl` on the page's behalf (the lab's), so a user's own is kept. */
  offeredJwksUrl = '';
  /** Raw: replaced whole, never edited, and jose clones it (a proxy would not clone). */
  fetched = $state.raw<FetchedJwks | null>(null);
  fetchError = $state<string | null>(null);
  fetching = $state(false);
  result = $state<VerifyOutcome | null>(null);
  /** Whether `result` is for the inputs as they are now. */
  current = $state(false);
  #seq = 0;
  readonly #signer: BrowserSigner;

  constructor(signer: BrowserSigner) {
    this.#signer = signer;
  }

  decoded: DecodeResult | null = $derived(this.token.trim() ? decodeJwt(this.token.trim()) : null);

  /** The key source from the inputs, or a coded reason why there is none. */
  #keySource(): { source: KeySource; description: string } | { code: VerifyFailure; message: string } {
    switch (this.sourceKind) {
      case 'secret':
        return { code: 'key_unusable', message: 'internal: shared secrets are verified separately' };
      case 'x5c':
        return { source: { type: 'x5c' }, description: "the certificate in the token's x5c header (its trust is not checked here)" };
      case 'pem': {
        const pem = this.keyText.trim();
        if (!pem) return { code: 'key_not_found', message: 'Paste a public key (-----BEGIN PUBLIC KEY-----) or a certificate to verify with.' };
        return { source: { type: 'pem', pem }, description: /BEGIN CERTIFICATE/.test(pem) ? 'the pasted certificate' : 'the pasted public key' };
      }
      case 'jwk': {
        const text = this.keyText.trim();
        if (!text) return { code: 'key_not_found', message: 'Paste a JWK ({"kty": …}) or a JWKS ({"keys": […]}) to verify with.' };
        let value: unknown;
        try {
          value = parseJson(text);
        } catch (err) {
          return { code: 'key_unusable', message: `The key is not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
        }
        if (typeof value === 'object' && value !== null && Array.isArray((value as Jwks).keys)) {
          return { source: { type: 'jwks', jwks: value as Jwks }, description: `the pasted JWKS (${(value as Jwks).keys.length} keys)` };
        }
        if (typeof value === 'object' && value !== null && typeof (value as PublicJwk).kty === 'string') {
          return { source: { type: 'jwk', jwk: value as PublicJwk }, description: 'the pasted JWK' };
        }
        return { code: 'key_unusable', message: 'The JSON is neither a JWK (with "kty") nor a JWKS (with "keys").' };
      }
      case 'url': {
        const url = this.jwksUrl.trim();
        if (!url) return { code: 'key_not_found', message: 'Enter the URL of a JWKS (the issuer\'s jwks_uri) and fetch it.' };
        if (this.fetched?.url !== url) return { code: 'key_not_found', message: `Fetch the key set from ${url} first.` };
        const n = this.fetched.keys.length;
        return { source: { type: 'jwks', jwks: { keys: this.fetched.keys } }, description: `the JWKS fetched from ${url} (${n} key${n === 1 ? '' : 's'})` };
      }
      case 'browser': {
        const d = this.decoded;
        const alg = d?.ok ? d.jwt.header.alg : undefined;
        const keys = Object.values(this.#signer.keys);
        const key = keys.find((k) => k.alg === alg) ?? keys.find((k) => k.kid === (d?.ok ? d.jwt.header.kid : undefined));
        if (!key) return { code: 'key_not_found', message: `This browser has no signing key for ${alg ?? 'this token'}${keys.length ? ` (it has ${keys.map((k) => k.alg).join(', ')})` : ''}.` };
        return { source: { type: 'jwk', jwk: key.publicJwk }, description: `this browser's ${key.alg} key (kid ${key.kid})` };
      }
    }
  }

  /** Has the relay fetch the key set at `jwksUrl`; the token itself never leaves the browser. */
  async fetchJwks(relay: RelayConnection): Promise<void> {
    const url = this.jwksUrl.trim();
    if (!url) return;
    this.fetching = true;
    this.fetchError = null;
    try {
      const reply = await relay.request({ type: 'jwks.fetch', id: relay.nextId(), url });
      this.fetched = { url: reply.url, keys: reply.keys, fetchedAt: reply.fetchedAt };
    } catch (err) {
      this.fetched = null;
      this.fetchError = describeError(err);
    } finally {
      this.fetching = false;
    }
  }

  /** Marks the result stale; the page calls verify() again after a pause in typing. */
  touch(): void {
    this.current = false;
  }

  async verify(now: number): Promise<void> {
    const seq = ++this.#seq;
    const token = this.token.trim();
    if (!token) {
      this.result = null;
      this.current = true;
      return;
    }
    const key = this.#keySource();
    let outcome: VerifyOutcome;
    if (this.sourceKind === 'secret') {
      outcome = await this.#verifyHmac(token, now);
    } else if ('code' in key) {
      outcome = { ok: false, code: key.code, message: key.message, keyDescription: '' };
    } else {
      const opts: VerifyOptions = { now };
      if (this.issuer.trim()) opts.issuer = this.issuer.trim();
      if (this.audience.trim()) opts.audience = this.audience.trim();
      outcome = { ...(await verifyJwt(token, key.source, opts)), keyDescription: key.description };
    }
    if (seq !== this.#seq) return;
    this.result = outcome;
    this.current = true;
  }

  /** HS256 with the shared secret. shared/jwt/verify.ts takes only asymmetric keys, so jose is asked directly. */
  async #verifyHmac(token: string, now: number): Promise<VerifyOutcome> {
    const keyDescription = 'the shared secret';
    const d = decodeJwt(token);
    if (!d.ok) return { ok: false, code: 'malformed', message: d.message, keyDescription };
    const { header, claims } = d.jwt;
    if (header.alg !== 'HS256') return { ok: false, code: 'alg_not_allowed', message: `alg ${String(header.alg)} is not HS256; a shared secret verifies only HS256 here`, claim: 'alg', header, claims, keyDescription };
    if (!this.secret) return { ok: false, code: 'key_not_found', message: 'Enter the shared secret.', header, claims, keyDescription };
    try {
      const result = await jwtVerify(token, new TextEncoder().encode(this.secret), {
        algorithms: ['HS256'],
        currentDate: new Date(now),
        ...(this.issuer.trim() ? { issuer: this.issuer.trim() } : {}),
        ...(this.audience.trim() ? { audience: this.audience.trim() } : {}),
      });
      return { ok: true, header, claims: result.payload as JwtClaims, keyDescription };
    } catch (err) {
      if (err instanceof errors.JWSSignatureVerificationFailed) return { ok: false, code: 'signature_invalid', message: 'the signature does not verify with this secret: another secret, or the token was altered', header, claims, keyDescription };
      if (err instanceof errors.JWTExpired) return { ok: false, code: 'expired', message: `the token expired (${err.reason})`, claim: 'exp', header, claims, keyDescription };
      if (err instanceof errors.JWTClaimValidationFailed) return { ok: false, code: err.claim === 'nbf' ? 'not_yet_valid' : 'claim_invalid', message: `claim ${err.claim}: ${err.message}`, claim: err.claim, header, claims, keyDescription };
      return { ok: false, code: 'malformed', message: err instanceof Error ? err.message : String(err), header, claims, keyDescription };
    }
  }
}
