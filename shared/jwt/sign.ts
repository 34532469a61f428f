// Signing with jose: the browser signs with a non-extractable WebCrypto key, the CLI with a
// PEM it read, the tests with keys they made. The relay itself never signs for the user.
import { calculateJwkThumbprint, exportJWK, importJWK, importPKCS8, SignJWT, type CryptoKey, type JWK, type JWTHeaderParameters } from 'jose';
import type { JwtClaims } from './decode.ts';
import type { PublicJwk } from './keys.ts';

interface SignHeader {
  alg: string;
  kid?: string;
  typ?: string;
  x5c?: string[];
}

export async function signJwt(claims: JwtClaims, header: SignHeader, key: CryptoKey): Promise<string> {
  const protectedHeader: JWTHeaderParameters = { ...header };
  return new SignJWT(claims).setProtectedHeader(protectedHeader).sign(key);
}

/** Imports a PKCS#8 PEM (or a private JWK) for signing with `alg`. */
export async function importSigningKey(key: string | JWK, alg: string): Promise<CryptoKey> {
  if (typeof key === 'string') return importPKCS8(key, alg, { extractable: true });
  const imported = await importJWK(key, alg, { extractable: true });
  if (imported instanceof Uint8Array) throw new TypeError('a symmetric key cannot sign with ' + alg);
  return imported;
}

/** The public JWK of a key pair's key (private or public CryptoKey), with an RFC 7638 thumbprint kid unless one is given. */
export async function publicJwkOf(key: CryptoKey, kid?: string): Promise<PublicJwk> {
  const jwk = (await exportJWK(key)) as JWK & Record<string, unknown>;
  for (const privateMember of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) delete jwk[privateMember];
  delete jwk.key_ops;
  delete jwk.ext;
  return { ...(jwk as PublicJwk), kid: kid ?? (await calculateJwkThumbprint(jwk)) };
}
