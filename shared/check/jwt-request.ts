// What a JWT / token-endpoint check needs, and its checks that need no cryptography. A request
// the check cannot use is refused with a message naming the field (never quoting a key or a
// secret), before any assertion is signed or any packet sent; the engine adds the key check.
import { CheckInputError } from './request.ts';
import type { ClientCredentials } from '../protocol/flows.ts';
import { JWT_CHECK_KINDS, type JwtCheckKind } from './jwt-cases.ts';

export interface JwtCheckRequest {
  kind: JwtCheckKind;
  /** https:// URL of the token endpoint (the seed exchange's URL for `exchange`). */
  tokenUrl: string;
  clientId: string;
  /** The exchange's client_secret; only the exchange takes one. */
  clientSecret?: string;
  /** PEM private key whose public key is registered at the server (RSA, EC P-256/P-384, Ed25519). */
  privateKeyPem: string;
  /** The kid the key is registered under; without it the assertions carry no kid. */
  kid?: string;
  /** The audience the server expects; default the token URL. */
  audience?: string;
  /** iss of the assertions; default the client id. */
  issuer?: string;
  /** sub of the assertions; default the client id (private_key_jwt: always the client id). */
  subject?: string;
  /** PEM bundle of CAs to trust for the server's certificate. */
  caPem?: string;
  /** Whether the built-in lab's CA is trusted for lab targets. Default true. */
  trustLab?: boolean;
}

/**
 * The JWT check from the app: the browser signs every case's assertion with its own key (which
 * never leaves it) and sends the signed assertions, one per case id (jwt-plan.ts signedCaseIds).
 */
export interface SignedJwtCheckRequest extends Omit<JwtCheckRequest, 'privateKeyPem'> {
  assertions: Record<string, string>;
}

/** The protected-resource half: an access token the server issued, shown to its API. */
export interface ResourceCheckRequest {
  /** https:// URL of the protected resource that answers 2xx to the token. */
  url: string;
  /** A JWT access token the authorization server issued for this API. */
  accessToken: string;
  /** The certificate (and key) a bound token was issued to; required when the token has cnf x5t#S256. */
  client?: ClientCredentials;
  caPem?: string;
  trustLab?: boolean;
}

const MAX_ID = 512;
const MAX_AUDIENCE = 2048;
const MAX_SECRET = 4096;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const PEM_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

function name(raw: unknown, field: string, what: string, max: number, required: boolean): string | undefined {
  if (raw === undefined && !required) return undefined;
  if (typeof raw !== 'string' || raw === '' || raw !== raw.trim()) throw new CheckInputError(field, `give ${what}: a non-empty text without surrounding spaces`);
  if (raw.length > max) throw new CheckInputError(field, `must be at most ${max} characters`);
  if (CONTROL.test(raw)) throw new CheckInputError(field, 'must not contain control characters');
  return raw;
}

function checkTokenUrl(raw: unknown): URL {
  if (typeof raw !== 'string' || raw === '') throw new CheckInputError('tokenUrl', 'give the https:// URL of the token endpoint');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CheckInputError('tokenUrl', `"${raw.slice(0, 200)}" is not a URL (expected https://host[:port]/path)`);
  }
  if (url.protocol !== 'https:') throw new CheckInputError('tokenUrl', `assertions travel only over TLS: use an https:// URL, not ${url.protocol}//`);
  if (url.username || url.password) throw new CheckInputError('tokenUrl', 'the URL must not contain a user name or password');
  return url;
}

/** Every field but the key's contents, checked; the engine proves the key is usable. */
export function checkJwtRequest(raw: unknown): JwtCheckRequest & { tokenURL: URL } {
  const fields = checkJwtFields(raw);
  const r = raw as Record<string, unknown>;
  if (typeof r.privateKeyPem !== 'string' || !PEM_KEY.test(r.privateKeyPem)) throw new CheckInputError('privateKeyPem', 'missing or not PEM: give the private key whose public key is registered at the server');
  return { ...fields, privateKeyPem: r.privateKeyPem };
}

/**
 * Every field of a signed request but the assertions (jwt-plan.ts checks those). A private key
 * is refused without being read: it must stay where the assertions were signed.
 */
export function checkSignedJwtFields(raw: unknown): Omit<SignedJwtCheckRequest, 'assertions'> & { tokenURL: URL } {
  const fields = checkJwtFields(raw);
  if ((raw as Record<string, unknown>).privateKeyPem !== undefined) throw new CheckInputError('privateKeyPem', 'the key stays where the assertions are signed: send the signed assertions, not the key');
  return fields;
}

function checkJwtFields(raw: unknown): Omit<JwtCheckRequest, 'privateKeyPem'> & { tokenURL: URL } {
  if (!raw || typeof raw !== 'object') throw new CheckInputError('check', 'must be an object');
  const r = raw as Record<string, unknown>;
  if (!JWT_CHECK_KINDS.includes(r.kind as JwtCheckKind)) throw new CheckInputError('kind', `must be one of ${JWT_CHECK_KINDS.join(', ')}`);
  const kind = r.kind as JwtCheckKind;
  const tokenURL = checkTokenUrl(r.tokenUrl);
  const clientId = name(r.clientId, 'clientId', 'the client id registered at the server', MAX_ID, true)!;
  let clientSecret: string | undefined;
  if (kind === 'exchange') {
    if (typeof r.clientSecret !== 'string' || r.clientSecret === '') throw new CheckInputError('clientSecret', 'the exchange sends client_secret: give the client secret');
    if (r.clientSecret.length > MAX_SECRET) throw new CheckInputError('clientSecret', `must be at most ${MAX_SECRET} characters`);
    clientSecret = r.clientSecret;
  } else if (r.clientSecret !== undefined) {
    throw new CheckInputError('clientSecret', `only the exchange sends a client secret; ${kind} authenticates with the key`);
  }
  const kid = name(r.kid, 'kid', 'the kid the key is registered under', 256, false);
  const audience = name(r.audience, 'audience', 'the audience the server expects', MAX_AUDIENCE, false);
  const issuer = name(r.issuer, 'issuer', 'the iss the server expects', MAX_ID, false);
  const subject = name(r.subject, 'subject', 'the sub to assert', MAX_ID, false);
  if (kind === 'private_key_jwt' && ((issuer !== undefined && issuer !== clientId) || (subject !== undefined && subject !== clientId))) {
    throw new CheckInputError(issuer !== undefined && issuer !== clientId ? 'issuer' : 'subject', 'a client assertion\'s iss and sub are the client id (RFC 7523 §3): leave them out');
  }
  if (r.caPem !== undefined && typeof r.caPem !== 'string') throw new CheckInputError('caPem', 'must be a PEM bundle');
  if (r.trustLab !== undefined && typeof r.trustLab !== 'boolean') throw new CheckInputError('trustLab', 'must be true or false');
  return {
    kind, tokenUrl: tokenURL.href, tokenURL, clientId,
    ...(clientSecret !== undefined ? { clientSecret } : {}),
    ...(kid !== undefined ? { kid } : {}),
    ...(audience !== undefined ? { audience } : {}),
    ...(issuer !== undefined ? { issuer } : {}),
    ...(subject !== undefined ? { subject } : {}),
    ...(r.caPem !== undefined ? { caPem: r.caPem as string } : {}),
    ...(r.trustLab !== undefined ? { trustLab: r.trustLab as boolean } : {}),
  };
}
