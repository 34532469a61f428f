// Public keys as JWK and JWKS (RFC 7517) for the partners who register a key instead of a
// certificate: a token endpoint's private_key_jwt client, an IdP's "upload your JWKS". The `kid` is
// the RFC 7638 thumbprint, so the same key always gets the same id; a certificate, when given, adds
// `x5c` and `x5t#S256` (RFC 7517 section 4.7-4.9) for servers that pin the certificate.
import { toBase64, toBase64Url, utf8 } from './encoding.ts';
import { digest } from './fingerprint.ts';
import { describeSpki, jwkOfSpki, type KeyDescription } from './keys.ts';

export interface PublicJwk extends JsonWebKey {
  kty: string;
  /** RFC 7638 SHA-256 thumbprint, base64url. */
  kid: string;
  use: 'sig';
  /** The JWS algorithm this key signs with here; absent for keys that do not sign (X25519). */
  alg?: string;
  /** Base64 (not base64url) DER certificates, the key's own first. */
  x5c?: string[];
  'x5t#S256'?: string;
}

/** Members that define each key type, in the lexicographic order RFC 7638 hashes them. */
const THUMBPRINT_MEMBERS: Record<string, readonly string[]> = { RSA: ['e', 'kty', 'n'], EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'] };

/** RFC 7638 JWK thumbprint (SHA-256, base64url). */
export async function jwkThumbprint(jwk: JsonWebKey): Promise<string> {
  const members = THUMBPRINT_MEMBERS[jwk.kty ?? ''];
  if (!members) throw new TypeError(`jwk.kty ${String(jwk.kty)} has no thumbprint definition`);
  const record = jwk as Record<string, unknown>;
  const canonical = `{${members.map((m) => `${JSON.stringify(m)}:${JSON.stringify(record[m])}`).join(',')}}`;
  return toBase64Url(await digest('SHA-256', utf8(canonical)));
}

/** The JWS `alg` the harness signs with for this key (RS256 for RSA, as issue.ts and most token endpoints use). */
function jwsAlgorithm(key: KeyDescription): string | undefined {
  switch (key.kind) {
    case 'RSA':
      return 'RS256';
    case 'RSA-PSS':
      return 'PS256';
    case 'EC':
      return key.curve === 'P-256' ? 'ES256' : key.curve === 'P-384' ? 'ES384' : key.curve === 'P-521' ? 'ES512' : undefined;
    case 'Ed25519':
    case 'Ed448':
      return 'EdDSA';
    default:
      return undefined;
  }
}

interface JwkOptions {
  /** DER certificates for `x5c`, the one certifying this key first, then its chain. */
  certificates?: readonly Uint8Array[];
}

/** The public JWK of a SubjectPublicKeyInfo (DER). */
export async function publicJwkOfSpki(spki: Uint8Array, options: JwkOptions = {}): Promise<PublicJwk> {
  const key = describeSpki(spki);
  const members = await jwkOfSpki(spki, key);
  const jwk: PublicJwk = { ...members, kty: members.kty ?? '', kid: await jwkThumbprint(members), use: 'sig' };
  const alg = jwsAlgorithm(key);
  if (alg) jwk.alg = alg;
  const certificates = options.certificates ?? [];
  if (certificates.length > 0) {
    jwk.x5c = certificates.map(toBase64);
    jwk['x5t#S256'] = toBase64Url(await digest('SHA-256', certificates[0]!));
  }
  return jwk;
}

/** A JWKS document, as served at a `jwks_uri`. */
export function jwks(keys: readonly PublicJwk[]): { keys: PublicJwk[] } {
  return { keys: [...keys] };
}
