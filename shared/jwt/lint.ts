// Claim lint: what an authorization server will object to in a JWT, checked before it is sent.
// Pure and clock-explicit: `now` is the clock that judges exp/nbf (usually the relay's), and
// `referenceNow` another clock to compare against (the relay's time when linting in the
// browser, the server's Date header when explaining a refusal).
import type { JwtClaims, JwtHeader } from './decode.ts';
import { algKeyProblem, sameKey, type Jwks, type PublicJwk } from './keys.ts';

export const LINT_CODES = [
  'exp_missing',
  'exp_past',
  'lifetime_too_long',
  'exp_not_after_iat',
  'nbf_future',
  'aud_mismatch',
  'iss_mismatch',
  'sub_mismatch',
  'jti_missing',
  'kid_not_in_jwks',
  'kid_is_thumbprint',
  'alg_key_mismatch',
  'clock_skew',
] as const;
export type LintCode = (typeof LINT_CODES)[number];

export interface LintFinding {
  code: LintCode;
  /** `error`: a server following the RFCs refuses the token. `warning`: many do. */
  severity: 'error' | 'warning';
  message: string;
  /** The claim or header member the finding is about. */
  claim?: string;
}

const LINT_DEFAULTS = {
  /** Longest assertion lifetime many servers accept (Okta, Auth0, Azure AD: 5–60 min; RFC 7523 asks for short). */
  maxLifetimeSec: 300, // s
  /** Difference between two clocks before it is worth a warning. */
  clockSkewToleranceSec: 60, // s
  /** Leeway for exp and nbf against `now`. Servers vary; the lint is strict. */
  leewaySec: 0, // s
} as const;

export interface LintOptions {
  /** Epoch ms of the clock that judges exp and nbf. */
  now: number;
  /** Epoch ms of a second clock (relay, server Date header) to compare the signer's against. */
  referenceNow?: number;
  /** Accepted aud values (the token endpoint, often also the issuer). Checked when given. */
  audience?: string | readonly string[];
  /** Expected iss / sub (the client id for client assertions). */
  issuer?: string;
  subject?: string;
  requireJti?: boolean;
  /** The public keys the server has registered for the signer, when known. */
  jwks?: Jwks;
  /** The public key that made the signature, when known (e.g. the browser's key). */
  signingKey?: PublicJwk;
  /**
   * The signing key's RFC 7638 thumbprint, when known: a kid equal to it is the default a tool
   * chose, which a server that registered the key under its own kid will not find.
   */
  signingKeyThumbprint?: string;
  maxLifetimeSec?: number;
  clockSkewToleranceSec?: number;
  leewaySec?: number;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function iso(sec: number): string {
  return new Date(sec * 1000).toISOString();
}

function secondsText(s: number): string {
  const a = Math.abs(Math.round(s));
  return a >= 120 ? `${Math.round(a / 60)} min` : `${a} s`;
}

export function lintJwt(header: JwtHeader, claims: JwtClaims, opts: LintOptions): LintFinding[] {
  const out: LintFinding[] = [];
  const add = (code: LintCode, severity: LintFinding['severity'], message: string, claim?: string) => out.push({ code, severity, message, ...(claim ? { claim } : {}) });
  const nowSec = opts.now / 1000;
  const leeway = opts.leewaySec ?? LINT_DEFAULTS.leewaySec;
  const maxLifetime = opts.maxLifetimeSec ?? LINT_DEFAULTS.maxLifetimeSec;
  const tolerance = opts.clockSkewToleranceSec ?? LINT_DEFAULTS.clockSkewToleranceSec;
  const exp = num(claims.exp);
  const iat = num(claims.iat);
  const nbf = num(claims.nbf);

  if (exp === undefined) {
    add('exp_missing', 'error', claims.exp === undefined ? 'no exp claim: servers refuse assertions without an expiry' : 'exp is not a number of seconds since 1970', 'exp');
  } else {
    if (exp <= nowSec - leeway) add('exp_past', 'error', `expired ${secondsText(nowSec - exp)} ago (exp ${iso(exp)})`, 'exp');
    if (iat !== undefined && exp <= iat) add('exp_not_after_iat', 'error', `exp (${iso(exp)}) is not after iat (${iso(iat)})`, 'exp');
    const lifetime = exp - (iat ?? nowSec);
    if (lifetime > maxLifetime) add('lifetime_too_long', 'warning', `lives ${secondsText(lifetime)}, longer than the ${secondsText(maxLifetime)} servers commonly allow`, 'exp');
  }
  if (nbf !== undefined && nbf > nowSec + leeway) add('nbf_future', 'error', `not valid before ${iso(nbf)}, ${secondsText(nbf - nowSec)} from now`, 'nbf');

  if (opts.audience !== undefined) {
    const accepted = typeof opts.audience === 'string' ? [opts.audience] : [...opts.audience];
    const aud = claims.aud;
    const given = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
    if (given.length === 0) add('aud_mismatch', 'error', `no aud claim; expected ${accepted.join(' or ')}`, 'aud');
    else if (!given.some((a) => accepted.includes(a))) add('aud_mismatch', 'error', `aud is ${given.join(', ')}; expected ${accepted.join(' or ')}`, 'aud');
  }
  if (opts.issuer !== undefined && claims.iss !== opts.issuer) add('iss_mismatch', 'error', claims.iss === undefined ? `no iss claim; expected ${opts.issuer}` : `iss is ${String(claims.iss)}; expected ${opts.issuer}`, 'iss');
  if (opts.subject !== undefined && claims.sub !== opts.subject) add('sub_mismatch', 'error', claims.sub === undefined ? `no sub claim; expected ${opts.subject}` : `sub is ${String(claims.sub)}; expected ${opts.subject}`, 'sub');
  if (opts.requireJti && (typeof claims.jti !== 'string' || claims.jti === '')) add('jti_missing', 'error', 'no jti: servers require a unique id to stop replays', 'jti');

  // Which key the server will pick: by kid from its registered JWKS.
  const kid = typeof header.kid === 'string' ? header.kid : undefined;
  let registered: PublicJwk | undefined;
  if (opts.jwks) {
    const keys = opts.jwks.keys;
    if (kid !== undefined) {
      registered = keys.find((k) => k.kid === kid);
      if (!registered) add('kid_not_in_jwks', 'error', `kid "${kid}" is not among the registered keys (${keys.map((k) => k.kid ?? '(no kid)').join(', ') || 'none'})`, 'kid');
      else if (opts.signingKey && !sameKey(registered, opts.signingKey)) add('kid_not_in_jwks', 'error', `kid "${kid}" is registered, but for a different key than the one that signed`, 'kid');
    } else if (opts.signingKey) {
      registered = keys.find((k) => sameKey(k, opts.signingKey!));
      if (!registered) add('kid_not_in_jwks', 'error', 'the signing key is not among the registered keys (and the header has no kid)', 'kid');
    } else if (keys.length > 1) {
      add('kid_not_in_jwks', 'warning', `no kid in the header and ${keys.length} registered keys: the server has to guess which one`, 'kid');
    }
  } else if (kid !== undefined && kid === opts.signingKeyThumbprint) {
    add('kid_is_thumbprint', 'warning', `kid "${kid}" is the signing key's RFC 7638 thumbprint, a default no one may have registered: a server that has the key under another kid will not find it (set kid, or give registeredJwks to take it from there)`, 'kid');
  }
  const key = opts.signingKey ?? registered;
  const alg = typeof header.alg === 'string' ? header.alg : undefined;
  if (alg === undefined || alg === 'none') add('alg_key_mismatch', 'error', alg === 'none' ? 'alg "none" means unsigned; no server accepts it' : 'the header has no alg', 'alg');
  else if (key) {
    const problem = algKeyProblem(alg, key);
    if (problem) add('alg_key_mismatch', 'error', problem, 'alg');
  }

  if (opts.referenceNow !== undefined) {
    const refSec = opts.referenceNow / 1000;
    if (iat !== undefined && Math.abs(iat - refSec) > tolerance) {
      add('clock_skew', 'warning', `iat is ${secondsText(iat - refSec)} ${iat > refSec ? 'ahead of' : 'behind'} the reference clock: the clock that signed differs`, 'iat');
    } else if (Math.abs(nowSec - refSec) > tolerance) {
      add('clock_skew', 'warning', `the two clocks differ by ${secondsText(nowSec - refSec)}`);
    }
  } else if (iat !== undefined && iat > nowSec + tolerance) {
    add('clock_skew', 'warning', `iat is ${secondsText(iat - nowSec)} in the future: the signer's clock runs ahead`, 'iat');
  }
  return out;
}
