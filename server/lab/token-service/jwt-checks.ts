// How the lab checks a JWT a client signed (client assertions, RFC 7523 assertions, the
// exchange's jwt_token), and where each tenant's `jwt` switch loosens one check on purpose.
import { createPublicKey, type JsonWebKey as NodeJwk } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, EmbeddedJWK, errors as joseErrors, jwtVerify, UnsecuredJWT, type JWK, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { LAB_TOKEN_DEFAULTS, SIGNING_ALGS } from './constants.ts';
import type { Refusal } from './http.ts';
import type { LabClient, LabState } from './state.ts';
import type { Tenant } from './tenants.ts';

/** Makes the refusal a failed check gets: invalid_client for client authentication, invalid_grant for grants. */
export type Fail = (reason: string) => Refusal;

export interface ClientJwtCheck {
  /** Accepted audiences; null: no audience check. */
  audiences: string[] | null;
  /** What the token is, for the reason: 'client assertion', 'assertion', 'jwt_token'. */
  kind: string;
  fail: Fail;
  /** The audience is checked only when the token has one (the seed's jwt_token carries none). */
  optionalAud?: boolean;
}

/**
 * Verifies an assertion or jwt_token with the client's registered keys: alg allow-list, kid,
 * signature, exp required, nbf, iat, aud, crit, lifetime. A tenant's `jwt` switches loosen one
 * check each.
 */
export async function verifyClientJwt(token: string, client: LabClient, t: Tenant, { audiences, kind, fail, optionalAud = false }: ClientJwtCheck): Promise<JWTPayload> {
  if (!client.jwks?.keys.length) throw fail(`${client.clientId} has no registered keys`);
  const weak = t.jwt ?? {};
  let header;
  let claims;
  try {
    header = decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch {
    throw fail(`the ${kind} is not a JWT`);
  }
  const alg = String(header.alg);
  const algOk = SIGNING_ALGS.includes(alg) || (weak.acceptAlgNone && alg === 'none') || (weak.acceptHmacWithPublicKey && alg === 'HS256');
  if (!algOk) throw fail(`${kind} alg ${alg} is not accepted`);
  const checkAud = audiences && !weak.ignoreAud && !(optionalAud && claims.aud === undefined);
  // Skipping exp: judge the other claims at a moment before an exp that passed.
  const expPast = weak.skipExp && typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now();
  const options: JWTVerifyOptions = {
    algorithms: SIGNING_ALGS,
    clockTolerance: LAB_TOKEN_DEFAULTS.clockToleranceSec,
    requiredClaims: weak.skipExp ? [] : ['exp'],
    ...(checkAud ? { audience: audiences } : {}),
    ...(weak.ignoreCrit && Array.isArray(header.crit) ? { crit: Object.fromEntries(header.crit.map((name) => [name, true])) } : {}),
    ...(expPast ? { currentDate: new Date((claims.exp! - 1) * 1000) } : {}),
  };
  let payload;
  try {
    if (alg === 'none') {
      ({ payload } = UnsecuredJWT.decode(token, options));
    } else if (alg === 'HS256') {
      const jwk = client.jwks.keys.find((k) => !header.kid || k.kid === header.kid) ?? client.jwks.keys[0]!;
      const pem = createPublicKey({ key: jwk as unknown as NodeJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
      ({ payload } = await jwtVerify(token, new TextEncoder().encode(pem), { ...options, algorithms: ['HS256'] }));
    } else if (weak.trustEmbeddedJwk && header.jwk) {
      ({ payload } = await jwtVerify(token, EmbeddedJWK, options));
    } else {
      ({ payload } = await jwtVerify(token, createLocalJWKSet(client.jwks as { keys: JWK[] }), options));
    }
  } catch (err) {
    throw fail(`${kind}: ${err instanceof joseErrors.JWKSNoMatchingKey ? `kid ${String(header.kid)} is not a registered key` : (err as Error).message}`);
  }
  const now = Date.now() / 1000;
  const iat = typeof payload.iat === 'number' ? payload.iat : now;
  if (!weak.skipExp && payload.exp! - iat > LAB_TOKEN_DEFAULTS.maxAssertionSec + LAB_TOKEN_DEFAULTS.clockToleranceSec) throw fail(`${kind} lives ${Math.round(payload.exp! - iat)} s, over ${LAB_TOKEN_DEFAULTS.maxAssertionSec} s`);
  if (iat > now + 60) throw fail(`${kind} iat is in the future`);
  return payload;
}

/** Refuses a jti seen before for this issuer (unless the tenant forgets them); `required`: refuses none at all. */
export function replayCheck(lab: LabState, iss: string, jti: unknown, required: boolean, fail: Fail, t: Tenant): void {
  if (typeof jti !== 'string' || !jti) {
    if (required) throw fail('jti is required');
    return;
  }
  if (t.jwt?.forgetJti) return;
  const key = `${iss} ${jti}`;
  if (lab.seenJti.has(key)) throw fail(`jti ${jti} was used before`);
  lab.seenJti.set(key, Date.now());
}
