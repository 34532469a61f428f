// The lab's keys, kept in the data directory so tokens and demo credentials survive a restart:
// the server's signing key, the demo client key (lab-pkjwt, lab-seed) and the self-signed
// certificate registered for lab-selfsigned.
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, importX509, type CryptoKey, type JWK } from 'jose';
import type { PublicJwk } from '../../../shared/jwt/keys.ts';
import { generateKeyPair as pkiKeyPair, selfSign, exportPkcs8Pem } from '../../../shared/pki/issue.ts';
import { readOrCreate } from '../lab-dir.ts';

/** Credentials the lab made at start for its demo clients; the CLI uses them for lab scenarios. */
export interface LabDemoCredentials {
  /** PKCS#8 PEM of the RSA key registered for lab-pkjwt and lab-seed. */
  signingKeyPem: string;
  signingKid: string;
  /** The self-signed certificate registered for lab-selfsigned. */
  selfSigned: { certificatePem: string; privateKeyPem: string };
}

/** The keys as the service uses them. */
export interface LabKeys {
  /** Signs access and ID tokens (RS256). */
  serverKid: string;
  serverPrivate: CryptoKey;
  /** Published at /jwks; the API verifies access tokens with it. */
  serverPublic: PublicJwk;
  demoPublic: PublicJwk;
  selfSignedJwk: PublicJwk;
  demo: LabDemoCredentials;
}

interface KeyFile {
  serverKey: JWK;
  demoKey: JWK;
  selfSignedCertPem: string;
  selfSignedKeyPem: string;
}

function usableKeys(text: string): boolean {
  try {
    const k = JSON.parse(text) as Partial<KeyFile>;
    return Boolean(k.serverKey?.d && k.demoKey?.d && k.selfSignedCertPem && k.selfSignedKeyPem);
  } catch {
    return false;
  }
}

async function makeKeys(): Promise<string> {
  const server = await generateKeyPair('RS256', { extractable: true });
  const demo = await generateKeyPair('RS256', { extractable: true });
  const selfKeys = await pkiKeyPair('P-256', true);
  const cert = await selfSign(selfKeys, { subject: 'CN=lab-selfsigned, O=mTLS Harness Lab', profile: 'client' });
  const k: KeyFile = {
    serverKey: await exportJWK(server.privateKey),
    demoKey: await exportJWK(demo.privateKey),
    selfSignedCertPem: cert.toString('pem') + '\n',
    selfSignedKeyPem: await exportPkcs8Pem(selfKeys.privateKey),
  };
  return JSON.stringify(k);
}

function publicOf(jwk: JWK, kid: string): PublicJwk {
  const { kty, n, e, crv, x, y } = jwk as Record<string, string>;
  return { kty: kty!, kid, use: 'sig', ...(n ? { n, e } : {}), ...(crv ? { crv, x, y } : {}) } as PublicJwk;
}

function pemBody(pem: string): string {
  return pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
}

/** Reads the lab's keys from `dir`, making them the first time (or when the file is unusable). */
export async function loadLabKeys(dir: string): Promise<LabKeys> {
  const keys = JSON.parse(await readOrCreate(dir, 'token-service-keys.json', makeKeys, usableKeys)) as KeyFile;
  const serverKid = await calculateJwkThumbprint(keys.serverKey);
  const demoKid = await calculateJwkThumbprint(keys.demoKey);
  const selfSignedDer = Buffer.from(pemBody(keys.selfSignedCertPem), 'base64');
  const selfSignedJwk = publicOf(await exportJWK(await importX509(keys.selfSignedCertPem, 'ES256', { extractable: true })), 'lab-selfsigned');
  selfSignedJwk.x5c = [selfSignedDer.toString('base64')];
  selfSignedJwk['x5t#S256'] = createHash('sha256').update(selfSignedDer).digest('base64url');
  return {
    serverKid,
    serverPrivate: (await importJWK(keys.serverKey, 'RS256')) as CryptoKey,
    serverPublic: publicOf(keys.serverKey, serverKid),
    demoPublic: publicOf(keys.demoKey, demoKid),
    selfSignedJwk,
    demo: {
      signingKeyPem: await exportPkcs8Pem((await importJWK(keys.demoKey, 'RS256', { extractable: true })) as CryptoKey),
      signingKid: demoKid,
      selfSigned: { certificatePem: keys.selfSignedCertPem, privateKeyPem: keys.selfSignedKeyPem },
    },
  };
}
