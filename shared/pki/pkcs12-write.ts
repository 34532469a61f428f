// PKCS#12 (.p12/.pfx) writing for the workshop's export: a certificate, its chain and its PKCS#8
// key in one password-protected file for curl, Postman, Java and Windows. The protection is what
// `openssl pkcs12 -export` does by default in OpenSSL 3 — certificates and key each encrypted with
// PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), integrity by an HMAC-SHA256 MAC keyed with the PKCS#12
// KDF — so every current consumer opens it. The structures come from pkijs; certificates and key
// go in as the exact bytes given (pkijs's own classes would re-encode them).
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { readTlv } from './der.ts';
import { toArrayBuffer, utf8 } from './encoding.ts';
import { digest } from './fingerprint.ts';

export const PKCS12_WRITE_DEFAULTS = {
  /** PBKDF2 rounds for the encryption and PKCS#12 KDF rounds for the MAC: OpenSSL 3's PKCS12_DEFAULT_ITER. */
  iterations: 2048,
  /** Longest password accepted (characters); the PKCS#12 MAC KDF runs in JavaScript over it. */
  maxPasswordLength: 1024,
} as const;

/** The protection written; the only one so far, named so a legacy variant can be added beside it. */
export const PKCS12_PROTECTION = 'PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), MAC HMAC-SHA256';

export interface Pkcs12WriteInput {
  /** DER certificates, the key's certificate first, then its chain. */
  certificates: readonly Uint8Array[];
  /** PKCS#8 PrivateKeyInfo DER of the first certificate's key; omit for a certificates-only file. */
  privateKey?: Uint8Array;
}

export interface Pkcs12WriteOptions {
  /** Must not be empty: an unprotected .p12 holding a private key is refused by many importers. */
  password: string;
  /** Shown by Windows and keychains as the entry's name ("alias" in Java). */
  friendlyName?: string;
  iterations?: number;
}

const OID = {
  x509Certificate: '1.2.840.113549.1.9.22.1',
  certBag: '1.2.840.113549.1.12.10.1.3',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
} as const;

function checkDer(bytes: Uint8Array, what: string): void {
  try {
    if (readTlv(bytes).end !== bytes.length) throw new Error('trailing bytes');
  } catch {
    throw new TypeError(`${what} is not a single DER element`);
  }
}

/** Writes a PKCS#12 file. Throws TypeError for bad arguments (no certificate, empty password). */
export async function writePkcs12(input: Pkcs12WriteInput, options: Pkcs12WriteOptions): Promise<Uint8Array> {
  if (input.certificates.length === 0) throw new TypeError('certificates must hold at least one certificate');
  if (options.password.length === 0) throw new TypeError('password must not be empty');
  if (options.password.length > PKCS12_WRITE_DEFAULTS.maxPasswordLength) throw new TypeError(`password must be at most ${PKCS12_WRITE_DEFAULTS.maxPasswordLength} characters`);
  const iterations = options.iterations ?? PKCS12_WRITE_DEFAULTS.iterations;
  if (!Number.isInteger(iterations) || iterations < 1) throw new TypeError('iterations must be a positive integer');
  input.certificates.forEach((c, i) => checkDer(c, `certificates[${i}]`));
  if (input.privateKey) checkDer(input.privateKey, 'privateKey');

  const engine = new pkijs.CryptoEngine({ name: 'pkcs12', crypto });
  const password = toArrayBuffer(utf8(options.password));
  // pkijs types AES-CBC parameters as including the IV, which it generates itself.
  const contentEncryptionAlgorithm = { name: 'AES-CBC', length: 256 } as pkijs.ContentEncryptionAlgorithm;
  const encryption = { password, contentEncryptionAlgorithm, hmacHashAlgorithm: 'SHA-256', iterationCount: iterations };

  // localKeyID ties the key to its certificate (OpenSSL uses the certificate's SHA-1, as here);
  // friendlyName names the entry in Windows' and Java's key stores.
  const leafAttributes = [new pkijs.Attribute({ type: OID.localKeyId, values: [new asn1js.OctetString({ valueHex: toArrayBuffer(await digest('SHA-1', input.certificates[0]!)) })] })];
  if (options.friendlyName) leafAttributes.unshift(new pkijs.Attribute({ type: OID.friendlyName, values: [new asn1js.BmpString({ value: options.friendlyName })] }));

  const certificateBags = input.certificates.map(
    (der, i) =>
      new pkijs.SafeBag({
        bagId: OID.certBag,
        bagValue: new pkijs.CertBag({ certId: OID.x509Certificate, certValue: new asn1js.OctetString({ valueHex: toArrayBuffer(der) }) }),
        ...(i === 0 && input.privateKey ? { bagAttributes: leafAttributes } : {}),
      }),
  );
  const safeContents: { privacyMode: number; value: pkijs.SafeContents }[] = [{ privacyMode: 1, value: new pkijs.SafeContents({ safeBags: certificateBags }) }];
  const safeParameters: object[] = [encryption];

  if (input.privateKey) {
    const encrypted = new pkijs.EncryptedData();
    await encrypted.encrypt({ ...encryption, contentToEncrypt: toArrayBuffer(input.privateKey) }, engine);
    const { contentEncryptionAlgorithm, encryptedContent } = encrypted.encryptedContentInfo;
    if (!encryptedContent) throw new Error('pkijs produced no encrypted key');
    const keyBag = new pkijs.PKCS8ShroudedKeyBag({ encryptionAlgorithm: contentEncryptionAlgorithm, encryptedData: encryptedContent });
    safeContents.push({ privacyMode: 0, value: new pkijs.SafeContents({ safeBags: [new pkijs.SafeBag({ bagId: OID.shroudedKeyBag, bagValue: keyBag, bagAttributes: leafAttributes })] }) });
    safeParameters.push({});
  }

  const authenticatedSafe = new pkijs.AuthenticatedSafe({ parsedValue: { safeContents } });
  await authenticatedSafe.makeInternalValues({ safeContents: safeParameters }, engine);
  const pfx = new pkijs.PFX({ parsedValue: { integrityMode: 0, authenticatedSafe } });
  await pfx.makeInternalValues({ password, iterations, pbkdf2HashAlgorithm: 'SHA-256', hmacHashAlgorithm: 'SHA-256' }, engine);
  return new Uint8Array(pfx.toSchema().toBER(false));
}
