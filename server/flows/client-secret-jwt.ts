// client_secret_jwt (RFC 7523 §2.2, OIDC Core §9): an HS256 client assertion signed with the
// client secret. The relay holds the secret already (as for client_secret_basic/post), so it
// signs one fresh assertion per token request; the assertion is as secret as the secret itself
// (anyone holding it may replay it until exp, and it allows offline guessing of the secret).
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';

/** Lifetime of an assertion the relay signs: short, well under the 5 minutes servers allow. */
const CLIENT_SECRET_JWT_LIFETIME_SEC = 60; // s

export async function signClientSecretJwt(clientId: string, secret: string, audience: string, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({ jti: randomBytes(16).toString('base64url') })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + CLIENT_SECRET_JWT_LIFETIME_SEC)
    .sign(new TextEncoder().encode(secret));
}
