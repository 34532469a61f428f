// A JWT checked against the keys the server has registered for its signer (registeredJwks):
// is the header's kid among them, and does the signature verify with the key the server will
// pick? The claim lint sees only the kid; this tries the signature, so a refusal can name "signed
// with another key" or "registered under another kid" instead of "cannot see the registration".
import { calculateJwkThumbprint, compactVerify, importJWK, type JWK } from 'jose';
import { decodeJwt } from './decode.ts';
import { algKeyProblem, type Jwks, type PublicJwk } from './keys.ts';

export type RegisteredVerdict =
  /** A registered key verifies the signature, and it is the one the header's kid names (or there is no kid). */
  | 'verified'
  /** The kid is not registered and no registered key verifies the signature. */
  | 'kid_unknown'
  /** A registered key verifies the signature, but the header names another kid, or none among several keys. */
  | 'other_kid'
  /** The kid is registered, but its key does not verify the signature. */
  | 'signature_mismatch';

export interface RegisteredKeyCheck {
  verdict: RegisteredVerdict;
  /** One sentence for the evidence. */
  message: string;
  /** The kid of the registered key that verified the signature, when one did. */
  verifiedKid?: string;
}

async function verifiesWith(token: string, jwk: PublicJwk, alg: string): Promise<boolean> {
  if (algKeyProblem(alg, jwk)) return false;
  try {
    const key = await importJWK(jwk as JWK, alg);
    await compactVerify(token, key, { algorithms: [alg] });
    return true;
  } catch {
    return false;
  }
}

function kidName(jwk: PublicJwk): string {
  return typeof jwk.kid === 'string' ? `"${jwk.kid}"` : '(no kid)';
}

/** Null when the token is not a readable signed JWT (the lint says so) or no keys are registered. */
export async function checkRegisteredKey(token: string, jwks: Jwks): Promise<RegisteredKeyCheck | null> {
  const d = decodeJwt(token);
  if (!d.ok || jwks.keys.length === 0) return null;
  const alg = typeof d.jwt.header.alg === 'string' ? d.jwt.header.alg : undefined;
  if (!alg || alg === 'none') return null;
  const kid = typeof d.jwt.header.kid === 'string' ? d.jwt.header.kid : undefined;
  // The key that verifies, whatever the header says: tells "wrong kid" from "wrong key".
  let verifying: PublicJwk | undefined;
  for (const k of jwks.keys) {
    if (await verifiesWith(token, k, alg)) {
      verifying = k;
      break;
    }
  }
  const verifiedKid = typeof verifying?.kid === 'string' ? { verifiedKid: verifying.kid } : {};
  const named = kid === undefined ? undefined : jwks.keys.find((k) => k.kid === kid);
  if (kid === undefined) {
    if (verifying && jwks.keys.length === 1) return { verdict: 'verified', message: 'the signature verifies with the registered key (the header has no kid)', ...verifiedKid };
    if (verifying) return { verdict: 'other_kid', message: `the signature verifies with the registered key ${kidName(verifying)}, but the header has no kid and ${jwks.keys.length} keys are registered: the server may try another`, ...verifiedKid };
    return { verdict: 'kid_unknown', message: `no registered key verifies the signature (${jwks.keys.length} tried; the header has no kid)` };
  }
  if (named && verifying === named) return { verdict: 'verified', message: `the signature verifies with the registered key "${kid}"`, ...verifiedKid };
  if (named) {
    return {
      verdict: 'signature_mismatch',
      message: `kid "${kid}" is registered, but the signature does not verify with that key${verifying ? `; it verifies with the registered key ${kidName(verifying)}` : ': the JWT was signed with another private key, or altered'}`,
      ...verifiedKid,
    };
  }
  if (verifying) {
    const thumbprint = await calculateJwkThumbprint(verifying as JWK).catch(() => undefined);
    const why = kid === thumbprint ? ` (the header's kid is that key's RFC 7638 thumbprint, a default no one registered)` : '';
    return { verdict: 'other_kid', message: `kid "${kid}" is not registered; the signature verifies with the registered key ${kidName(verifying)}${why}: send kid ${kidName(verifying)}`, ...verifiedKid };
  }
  return { verdict: 'kid_unknown', message: `kid "${kid}" is not among the registered keys (${jwks.keys.map(kidName).join(', ')}), and none of them verifies the signature` };
}
