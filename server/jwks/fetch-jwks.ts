// jwks.fetch: one GET of a JSON Web Key Set through the same call path as the token flows
// (DNS, TCP, TLS with lab trust, the outbound guard, every timeout), so a browser can verify
// a token against keys it could not fetch itself (CORS, a private CA, a lab on loopback).
// Only public key members leave the relay; a set that publishes a private key is refused.
import { diagnosis } from '../../shared/diagnoses.ts';
import { publicPart, type PublicJwk } from '../../shared/jwt/keys.ts';
import type { Limits } from '../defaults.ts';
import type { LabTrust } from '../net/dial.ts';
import type { OutboundPolicy } from '../net/outbound-guard.ts';
import { checkCaBundle } from '../run/inputs.ts';
import { CallFailure, CancelledError, httpCall } from '../net/http-call.ts';
import { HarnessError } from '../../shared/errors.ts';

export const JWKS_FETCH_LIMITS = {
  maxBodyBytes: 256 * 1024, // bytes; published key sets are a few KiB
  maxKeys: 100, // keys
} as const;

/** Members that only a private (or symmetric) JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

export class JwksFetchFailed extends HarnessError<'jwks_fetch_failed'> {
  constructor(message: string) {
    super('jwks_fetch_failed', message);
  }
}

export interface JwksFetchContext {
  limits: Limits;
  policy: OutboundPolicy;
  lab?: LabTrust;
  signal?: AbortSignal;
}

export interface FetchedJwks {
  url: string;
  keys: PublicJwk[];
  fetchedAt: number;
}

function isLabEndpoint(url: URL, lab: LabTrust | undefined): boolean {
  return !!lab && lab.endpoints.includes(url.host);
}

/** The keys of a parsed body, public members only; throws JwksFetchFailed naming the problem. */
export function readKeySet(json: unknown): PublicJwk[] {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new JwksFetchFailed('the response is JSON but not an object: a JWK Set is {"keys":[…]}');
  const keys = (json as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) throw new JwksFetchFailed('the JSON has no "keys" array: not a JWK Set (RFC 7517 §5)');
  if (keys.length > JWKS_FETCH_LIMITS.maxKeys) throw new JwksFetchFailed(`the set has ${keys.length} keys; at most ${JWKS_FETCH_LIMITS.maxKeys} are accepted`);
  return keys.map((key: unknown, i) => {
    if (typeof key !== 'object' || key === null || Array.isArray(key) || typeof (key as { kty?: unknown }).kty !== 'string') {
      throw new JwksFetchFailed(`keys[${i}] is not a JWK (an object with a "kty")`);
    }
    const jwk = key as PublicJwk;
    const secret = PRIVATE_MEMBERS.filter((m) => jwk[m] !== undefined);
    if (secret.length) {
      const kid = typeof jwk.kid === 'string' ? ` (kid ${jwk.kid.slice(0, 64)})` : '';
      throw new JwksFetchFailed(`keys[${i}]${kid} has private member${secret.length > 1 ? 's' : ''} ${secret.join(', ')}: a published key set must hold public keys only; refused, and that key should be treated as exposed`);
    }
    return publicPart(jwk);
  });
}

export async function fetchJwks(rawUrl: string, caPem: string | undefined, ctx: JwksFetchContext): Promise<FetchedJwks> {
  const url = new URL(rawUrl);
  if (url.protocol !== 'https:' && !isLabEndpoint(url, ctx.lab)) {
    throw new JwksFetchFailed(`${url.protocol}// is refused: a key set decides which signatures are trusted, so fetch it over https://`);
  }
  const ca = checkCaBundle(caPem);
  if (ca.problem) throw new JwksFetchFailed(`caPem: ${ca.problem.message}`);
  // The same limit bounds what is kept and what is read: past it the call stops as response_too_large.
  const limits: Limits = { ...ctx.limits, maxResponseBodyBytes: JWKS_FETCH_LIMITS.maxBodyBytes, maxResponseReadBytes: JWKS_FETCH_LIMITS.maxBodyBytes };
  let res;
  try {
    res = await httpCall(
      { method: 'GET', url, headers: { accept: 'application/jwk-set+json, application/json' } },
      { chain: [], key: null, bundle: ca.cas, ...(ctx.lab ? { lab: ctx.lab } : {}), trustLab: true, verifyServer: true },
      { limits, policy: ctx.policy, ...(ctx.signal ? { signal: ctx.signal } : {}) },
    );
  } catch (err) {
    if (err instanceof CallFailure) {
      const d = diagnosis(err.code, err.evidence);
      throw new JwksFetchFailed(`${d.code}: ${d.summary}${d.evidence.length ? ` (${d.evidence.slice(0, 2).join('; ')})` : ''}`);
    }
    if (err instanceof CancelledError) throw new JwksFetchFailed(`the fetch did not finish within ${ctx.limits.runTimeoutMs / 1000} s`);
    throw err;
  }
  const type = String(res.headers['content-type'] ?? '(none)').split(';')[0]!.trim();
  if (res.status !== 200) throw new JwksFetchFailed(`GET ${url.origin}${url.pathname} answered HTTP ${res.status} (content-type ${type}); a key set is served with 200`);
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    throw new JwksFetchFailed(`the response is not JSON (content-type ${type}, ${res.bytes} bytes): is this the jwks_uri, not a web page?`);
  }
  return { url: rawUrl, keys: readKeySet(json), fetchedAt: Date.now() };
}
