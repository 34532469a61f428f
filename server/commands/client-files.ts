// A probe's client certificate and key from the files named on the command line: PEM, DER,
// PKCS#12 (`--cert x.p12 --password P`, no --key) or an encrypted PKCS#8 key. A file that is
// missing, empty, or holds nothing usable of what it was given for is bad input (exit 2, the
// file named), not a probe that fails; what the Inputs step judges (expiry, usage, a key of
// another certificate) stays for the run. The password never appears in a message.
import { readFile } from 'node:fs/promises';
import type { ClientCredentials } from '../../shared/protocol/index.ts';
import { toBase64 } from '../../shared/pki/encoding.ts';
import { inspectCertificates } from '../../shared/pki/inspect.ts';
import { jwkOfSpki, pkcs8Pem, publicKeyOfPrivate, sameJwk } from '../../shared/pki/keys.ts';
import { readInput, type FoundCertificate, type FoundKey, type ReadResult } from '../../shared/pki/read.ts';
import { HarnessError } from '../../shared/errors.ts';

/** Bad input on the command line: the message names the file and never holds a secret. */
export class BadInputFile extends HarnessError<'input_file_invalid'> {
  constructor(message: string) {
    super('input_file_invalid', message);
  }
}

/** Reads a file as bytes; a read error or (unless allowed) an empty file is a BadInputFile naming it. */
export async function readInputFile(path: string, what: string, opts: { allowEmpty?: boolean } = {}): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (code ?? String(err));
    throw new BadInputFile(`cannot read ${what} "${path}": ${code ?? ''}${code ? ` (${why})` : why}`);
  }
  if (!opts.allowEmpty && bytes.toString('latin1').trim() === '') throw new BadInputFile(`${what} "${path}" is empty`);
  return new Uint8Array(bytes);
}

function certificatePem(der: Uint8Array): string {
  return `-----BEGIN CERTIFICATE-----\n${(toBase64(der).match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** The reading problems of a file as one line: `p12_bad_password: the PKCS#12 …`. */
function problemsOf(read: ReadResult): string {
  const errors = read.problems.filter((p) => p.severity === 'error');
  return (errors.length ? errors : read.problems).map((p) => `${p.code}: ${p.message}`).join('; ');
}

/** The certificates with the key's own first: a PKCS#12 file need not list the leaf first, and TLS sends the first. */
async function leafFirst(certificates: FoundCertificate[], key: FoundKey): Promise<FoundCertificate[]> {
  const { certificates: inspected } = await inspectCertificates(certificates);
  const derived = await publicKeyOfPrivate(key.pkcs8, key.key).catch(() => null);
  if (!derived) return certificates;
  for (const c of inspected) {
    if (c.info.key.kind !== key.key.kind) continue;
    const jwk = await jwkOfSpki(c.parsed.spki, c.info.key).catch(() => null);
    if (jwk && sameJwk(derived.jwk, jwk)) {
      const leaf = certificates.find((f) => f.where === c.info.where)!;
      return [leaf, ...certificates.filter((f) => f !== leaf)];
    }
  }
  return certificates;
}

/**
 * `--cert FILE [--key FILE] [--password P]` → the probe's client credentials. A PEM file goes
 * to the run as written (its Inputs step reports on it as given); binary forms and encrypted
 * keys are turned into PEM here.
 */
export async function loadClientFiles(certPath: string, keyPath: string | undefined, password: string | undefined): Promise<ClientCredentials> {
  const certBytes = await readInputFile(certPath, 'certificate');
  const withPassword = password !== undefined ? { password } : {};
  const cert = await readInput(certBytes, { name: certPath, expect: 'certificate', ...withPassword });
  if (cert.format === 'pkcs12' && cert.problems.some((p) => p.code.startsWith('p12_'))) {
    const wrong = cert.problems.some((p) => p.code === 'p12_bad_password');
    const hint = wrong ? ' (wrong password?)' : password === undefined && cert.problems.some((p) => p.code === 'p12_password_required') ? ' (give --password-file F, --password-env NAME or --password P)' : '';
    throw new BadInputFile(`cannot open PKCS#12 file "${certPath}"${hint}: ${problemsOf(cert)}`);
  }
  if (cert.certificates.length === 0) throw new BadInputFile(`certificate file "${certPath}" holds no certificate: ${problemsOf(cert)}`);

  let key: FoundKey | undefined;
  let keyText: string | undefined;
  if (cert.format === 'pkcs12') {
    if (cert.keys.length > 0 && keyPath) throw new BadInputFile(`"${certPath}" holds its own private key; leave out --key "${keyPath}"`);
    key = cert.keys[0];
    if (!key && !keyPath) throw new BadInputFile(`PKCS#12 file "${certPath}" holds no private key; add --key FILE`);
  }
  if (!key) {
    if (!keyPath) throw new BadInputFile('--cert needs --key (or a PKCS#12 file holding the key)');
    const keyBytes = await readInputFile(keyPath, 'key');
    const read = await readInput(keyBytes, { name: keyPath, expect: 'key', ...withPassword });
    key = read.keys[0];
    if (!key) {
      const encrypted = read.problems.some((p) => p.code === 'key_encrypted') && password === undefined;
      throw new BadInputFile(`key file "${keyPath}" holds no usable private key${encrypted ? ' (it is encrypted: give its passphrase with --password-file F, --password-env NAME or --password P)' : ''}: ${problemsOf(read)}`);
    }
    // PEM as written keeps its own form in the Inputs step (PKCS#1, SEC1); anything else becomes PKCS#8.
    if (read.format === 'pem' && key.format !== 'encrypted-pkcs8') keyText = new TextDecoder().decode(keyBytes);
  }
  const certificatePemText = cert.format === 'pem' || cert.format === 'json' ? new TextDecoder().decode(certBytes) : (await leafFirst(cert.certificates, key)).map((c) => certificatePem(c.der)).join('');
  return { certificatePem: certificatePemText, privateKeyPem: keyText ?? pkcs8Pem(key.pkcs8) };
}
