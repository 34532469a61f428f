// Input reading for the certificate workshop: whatever the user drops or pastes (PEM with any
// amount of surrounding text, DER, PKCS#12, PKCS#7, JSON holding PEM strings, a bare base64
// blob) becomes a list of certificates and private keys, each with where it came from. Bad input
// never throws: it becomes a Problem with a stable code naming the block or path.
import { children, classifyDer, DER_KIND_NAMES, DerError, readTlv, topLevel, type DerKind } from './der.ts';
import { decodeText, fromBase64 } from './encoding.ts';
import { findPemsInJson, looksLikeJson } from './json-pems.ts';
import { describePkcs8, KeyError, pkcs1ToPkcs8, sec1ToPkcs8, type KeyDescription } from './keys.ts';
import { describePbe, PbeError, pbeDecrypt } from './pbe.ts';
import { looksLikePem, readPem } from './pem.ts';
import { certificatesOfPkcs7 } from './pkcs7.ts';
import { Pkcs12Error, readPkcs12 } from './pkcs12.ts';
import { problem, type Problem } from './problems.ts';

export type InputFormat = 'pem' | 'der' | 'pkcs12' | 'pkcs7' | 'json' | 'base64' | 'empty' | 'unknown';

export interface FoundCertificate {
  der: Uint8Array;
  /** `client.pem, block 2 (line 14)`, `response.json, entities[0].certificate`, `bundle.p12, certificate 1`. */
  where: string;
}

export type KeyFormat = 'pkcs8' | 'pkcs1' | 'sec1' | 'encrypted-pkcs8' | 'pkcs12';

export const KEY_FORMAT_NAMES: Record<KeyFormat, string> = {
  pkcs8: 'PKCS#8',
  pkcs1: 'PKCS#1 (RSA PRIVATE KEY)',
  sec1: 'SEC1 (EC PRIVATE KEY)',
  'encrypted-pkcs8': 'encrypted PKCS#8',
  pkcs12: 'from PKCS#12',
};

export interface FoundKey {
  /** PKCS#8 PrivateKeyInfo DER (converted from PKCS#1/SEC1, decrypted when it was encrypted). */
  pkcs8: Uint8Array;
  /** The form it was found in. */
  format: KeyFormat;
  key: KeyDescription;
  where: string;
}

export interface FoundOther {
  kind: DerKind;
  /** e.g. `a certificate signing request`. */
  description: string;
  where: string;
}

export interface ReadResult {
  format: InputFormat;
  certificates: FoundCertificate[];
  keys: FoundKey[];
  /** Recognised objects that are neither: CSRs, CRLs, public keys. */
  others: FoundOther[];
  problems: Problem[];
}

export interface ReadOptions {
  /** Names the input in `where` (a file name, or `certificate field`). */
  name?: string;
  /** Password for PKCS#12 files and passphrase for encrypted private keys. */
  password?: string;
  /**
   * What the caller asked for. With `certificate`, finding only keys (or a CSR) is
   * `not_a_certificate`; with `key`, finding only certificates is `not_a_key`.
   */
  expect?: 'certificate' | 'key' | 'any';
}

const CERTIFICATE_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']);
const IGNORED_LABELS = new Set(['EC PARAMETERS', 'DH PARAMETERS']);

function at(...parts: (string | undefined)[]): string {
  return parts.filter((p) => p).join(', ');
}

class Reader {
  readonly result: ReadResult = { format: 'unknown', certificates: [], keys: [], others: [], problems: [] };
  constructor(private readonly options: ReadOptions) {}

  private where(location: string): string {
    return at(this.options.name, location) || 'input';
  }

  private fail(code: Problem['code'], message: string, location: string): void {
    this.result.problems.push(problem(code, message, this.where(location)));
  }

  private addCertificate(der: Uint8Array, location: string): void {
    this.result.certificates.push({ der, where: this.where(location) });
  }

  private async addKey(der: Uint8Array, format: KeyFormat, location: string): Promise<void> {
    try {
      let pkcs8 = der;
      if (format === 'pkcs1') pkcs8 = pkcs1ToPkcs8(der);
      else if (format === 'sec1') pkcs8 = sec1ToPkcs8(der);
      else if (format === 'encrypted-pkcs8') {
        const [algorithm, encrypted] = children(der, readTlv(der));
        const scheme = algorithm ? describePbe(der.subarray(algorithm.start, algorithm.end)) : 'unknown encryption';
        if (this.options.password === undefined) {
          this.fail('key_encrypted', `the private key is encrypted (${scheme}) and no passphrase was given`, location);
          return;
        }
        if (!algorithm || !encrypted) throw new KeyError('key_malformed', 'the encrypted key is incomplete');
        try {
          pkcs8 = await pbeDecrypt(der.subarray(algorithm.start, algorithm.end), der.subarray(encrypted.contentStart, encrypted.contentEnd), this.options.password);
          readTlv(pkcs8);
        } catch (e) {
          if (e instanceof PbeError && e.code !== 'bad_password') {
            this.fail('key_encrypted', `the private key is encrypted with ${scheme}, which cannot be decrypted here: ${e.message}`, location);
            return;
          }
          this.fail('key_bad_passphrase', `the private key (${scheme}) does not decrypt with the passphrase given`, location);
          return;
        }
      }
      this.result.keys.push({ pkcs8, format, key: describePkcs8(pkcs8), where: this.where(location) });
    } catch (e) {
      if (e instanceof KeyError) this.fail(e.code, `private key: ${e.message}`, location);
      else throw e;
    }
  }

  private async addPkcs12(der: Uint8Array, location: string): Promise<void> {
    try {
      const contents = await readPkcs12(der, this.options.password);
      for (const c of contents.certificates) this.addCertificate(c.der, at(location, c.where));
      for (const k of contents.keys) await this.addKey(k.der, 'pkcs12', at(location, k.where));
    } catch (e) {
      if (e instanceof Pkcs12Error) this.fail(e.code, e.message, location);
      else throw e;
    }
  }

  /** One DER element whose kind is known or guessed. */
  private async addDer(der: Uint8Array, kind: DerKind, location: string): Promise<void> {
    switch (kind) {
      case 'certificate':
        this.addCertificate(der, location);
        return;
      case 'pkcs12':
        await this.addPkcs12(der, location);
        return;
      case 'pkcs7':
        try {
          certificatesOfPkcs7(der).forEach((c, i) => this.addCertificate(c, at(location, `PKCS#7 certificate ${i + 1}`)));
        } catch (e) {
          if (e instanceof DerError) this.fail(e.code, `PKCS#7 bundle: ${e.message}`, location);
          else throw e;
        }
        return;
      case 'pkcs8':
      case 'encrypted-pkcs8':
        await this.addKey(der, kind, location);
        return;
      case 'pkcs1-rsa':
        await this.addKey(der, 'pkcs1', location);
        return;
      case 'sec1-ec':
        await this.addKey(der, 'sec1', location);
        return;
      case 'csr':
      case 'crl':
      case 'spki':
        this.result.others.push({ kind, description: DER_KIND_NAMES[kind], where: this.where(location) });
        return;
      case 'unknown':
        this.fail('der_malformed', 'the data is valid ASN.1 but not a certificate, key or PKCS#12/PKCS#7 file', location);
    }
  }

  /** Checks the outer element is complete before anything else reads it. */
  private complete(der: Uint8Array, location: string): boolean {
    try {
      readTlv(der);
      return true;
    } catch (e) {
      if (e instanceof DerError) {
        this.fail(e.code, e.message, location);
        return false;
      }
      throw e;
    }
  }

  async pem(text: string, location = ''): Promise<void> {
    const { blocks, problems } = readPem(text);
    for (const p of problems) this.result.problems.push({ ...p, where: this.where(at(location, p.where)) });
    const single = blocks.length === 1 && problems.length === 0 && location !== '';
    for (const block of blocks) {
      const where = single ? location : at(location, block.where);
      if (IGNORED_LABELS.has(block.label)) continue;
      if ((block.headers['Proc-Type'] ?? '').includes('ENCRYPTED')) {
        const cipher = block.headers['DEK-Info']?.split(',')[0] ?? 'a legacy cipher';
        this.fail('key_encrypted', `${block.label} is encrypted the legacy OpenSSL way (${cipher}); decrypt it with \`openssl pkey -in key.pem -out key-plain.pem\``, where);
        continue;
      }
      if (!this.complete(block.der, where)) continue;
      const kind = classifyDer(block.der);
      const expected = labelKind(block.label);
      if (expected && kind !== expected && !(expected === 'pkcs8' && kind === 'encrypted-pkcs8')) {
        const code = expected === 'certificate' ? 'cert_malformed' : expected === 'pkcs7' ? 'der_malformed' : 'key_malformed';
        this.fail(code, `the block is labelled ${block.label} but holds ${DER_KIND_NAMES[kind]}`, where);
        continue;
      }
      const element = block.der.subarray(0, readTlv(block.der).end);
      await this.addDer(element, kind, where);
    }
  }

  async der(bytes: Uint8Array, location = ''): Promise<void> {
    let elements;
    try {
      elements = topLevel(bytes);
    } catch (e) {
      if (!(e instanceof DerError)) throw e;
      // A file of several DER certificates may be cut short in the last one: keep the whole ones.
      this.fail(e.code, e.message, location);
      elements = [];
      for (let pos = 0; pos < bytes.length; ) {
        try {
          const tlv = readTlv(bytes, pos);
          elements.push(tlv);
          pos = tlv.end;
        } catch {
          break;
        }
      }
    }
    for (const [i, tlv] of elements.entries()) {
      const element = bytes.subarray(tlv.start, tlv.end);
      await this.addDer(element, classifyDer(element), elements.length > 1 ? at(location, `DER element ${i + 1}`) : location);
    }
  }

  async json(text: string): Promise<boolean> {
    const scan = findPemsInJson(text);
    if (!scan.parsed) return false;
    for (const find of scan.finds) {
      // What the sender called the entry, e.g. `entities[0].certificate ("upcoming")`.
      const location = find.name === undefined ? find.path : `${find.path} (${JSON.stringify(find.name)})`;
      if (find.pem !== undefined) await this.pem(find.pem, location);
      else if (find.der) this.addCertificate(find.der, location);
    }
    return true;
  }

  /** After reading: judge against what the caller expected. */
  expectations(): void {
    const { expect = 'any' } = this.options;
    const r = this.result;
    const where = this.options.name ?? 'input';
    if (expect === 'key' && r.keys.length === 0 && !r.problems.some((p) => p.code.startsWith('key_') || p.code.startsWith('p12_'))) {
      if (r.certificates.length > 0) {
        r.problems.push(problem('not_a_key', `a private key was expected but this is a certificate (${r.certificates[0]!.where})`, r.certificates[0]!.where));
      } else if (r.others.length > 0) {
        r.problems.push(problem('not_a_key', `a private key was expected but this is ${r.others[0]!.description}`, r.others[0]!.where));
      }
    }
    if (expect === 'certificate' && r.certificates.length === 0 && !r.problems.some((p) => p.code.startsWith('cert_') || p.code.startsWith('p12_'))) {
      if (r.keys.length > 0 || r.problems.some((p) => p.code === 'key_encrypted')) {
        r.problems.push(problem('not_a_certificate', 'a certificate was expected but this is a private key', r.keys[0]?.where ?? where));
      } else if (r.others.length > 0) {
        const other = r.others[0]!;
        const hint = other.kind === 'csr' ? ': the CA turns it into a certificate' : '';
        r.problems.push(problem('not_a_certificate', `a certificate was expected but this is ${other.description}${hint}`, other.where));
      }
    }
    const found = r.certificates.length + r.keys.length + r.others.length;
    if (found === 0 && r.problems.length === 0) {
      r.problems.push(problem('input_unrecognized', r.format === 'empty' ? 'the input is empty' : 'no certificate, key or PKCS#12 data was found', where));
    }
  }
}

function labelKind(label: string): DerKind | null {
  if (CERTIFICATE_LABELS.has(label)) return 'certificate';
  if (label === 'PRIVATE KEY') return 'pkcs8';
  if (label === 'ENCRYPTED PRIVATE KEY') return 'encrypted-pkcs8';
  if (label === 'RSA PRIVATE KEY') return 'pkcs1-rsa';
  if (label === 'EC PRIVATE KEY') return 'sec1-ec';
  if (label === 'PKCS7' || label === 'CMS') return 'pkcs7';
  if (label === 'CERTIFICATE REQUEST' || label === 'NEW CERTIFICATE REQUEST') return 'csr';
  if (label === 'X509 CRL') return 'crl';
  if (label === 'PUBLIC KEY') return 'spki';
  return null;
}

function isBinary(bytes: Uint8Array): boolean {
  if (bytes[0] === 0x30 && (bytes[1] ?? 0) >= 0x80) return true;
  return decodeText(bytes) === null;
}

/**
 * Reads certificates and keys from any supported input. Strings are text (PEM, JSON, base64);
 * bytes may be text or binary (DER, PKCS#12). Never throws for bad input.
 */
export async function readInput(input: string | Uint8Array, options: ReadOptions = {}): Promise<ReadResult> {
  const reader = new Reader(options);
  const r = reader.result;
  const text = typeof input === 'string' ? input : isBinary(input) ? null : decodeText(input);
  if (text === null) {
    const bytes = input as Uint8Array;
    const kind = (() => {
      try {
        return classifyDer(bytes, readTlv(bytes));
      } catch {
        return 'unknown';
      }
    })();
    r.format = kind === 'pkcs12' ? 'pkcs12' : kind === 'pkcs7' ? 'pkcs7' : 'der';
    await reader.der(bytes);
  } else if (text.trim() === '') {
    r.format = 'empty';
  } else if (looksLikeJson(text) && (await reader.json(text))) {
    r.format = 'json';
  } else if (looksLikePem(text)) {
    r.format = 'pem';
    if (looksLikeJson(text)) r.problems.push(problem('json_malformed', 'the input starts like JSON but does not parse; PEM blocks were read from the raw text', options.name ?? 'input'));
    await reader.pem(text);
  } else {
    // A bare base64 blob (a certificate copied without its BEGIN/END lines) is at least a few
    // dozen bytes of DER; shorter text is a typo, not data.
    const der = /^[A-Za-z0-9+/=\s]+$/.test(text) && text.replace(/\s/g, '').length >= 64 ? fromBase64(text) : null;
    if (der && der[0] === 0x30) {
      r.format = 'base64';
      await reader.der(der, 'base64 text');
    }
  }
  reader.expectations();
  return r;
}
