// PKCE (RFC 7636) with S256, and the random state and nonce of an authorization request,
// from WebCrypto so the browser and the relay make them the same way.
import { base64url } from 'jose';

function random(bytes: number): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** 256 bits: a 43-character verifier, the shortest RFC 7636 allows and plenty of entropy. */
export function codeVerifier(): string {
  return random(32);
}

export async function s256(verifier: string): Promise<string> {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

/** 128-bit state / nonce. */
export function randomState(): string {
  return random(16);
}
