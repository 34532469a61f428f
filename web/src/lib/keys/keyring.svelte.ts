import { Credential } from './credential.svelte.ts';
import type { LabSignProfile } from '../../../../shared/protocol/index.ts';
import { summarizeCertificate } from './inspect.ts';
import { checkCertificatePem, checkPrivateKeyPem, pemBlocks } from './pem.ts';
import { loadPki } from './pki.ts';
import { StoredItems } from './stored.svelte.ts';
import type { StoredItem } from './vault.ts';
import type { KeyAlgorithmName } from '../../../../shared/pki/issue.ts';
import { fromBase64 } from '../../../../shared/pki/encoding.ts';

/** Algorithms offered for new keys, most useful first. */
export const OFFERED_ALGORITHMS: readonly KeyAlgorithmName[] = ['P-256', 'RSA-2048', 'P-384', 'RSA-3072', 'RSA-4096'];

export type LabSigner = (csrPem: string, profile?: LabSignProfile) => Promise<{ certificatePem: string; chainPem: string }>;

/** Escapes a CN value for a string DN (RFC 4514 section 2.4). */
export function escapeDnValue(value: string): string {
  return value
    .replace(/[\\,+"<>;=]/g, (c) => `\\${c}`)
    .replace(/^[#\s]/, (c) => `\\${c}`)
    .replace(/\s$/, (c) => `\\${c}`);
}

/** Workshop items a probe can present: an extractable key with a certificate (or a CSR awaiting one). */
export function usableForMtls(item: StoredItem): boolean {
  if (item.kind === 'root-ca' || item.kind === 'intermediate-ca' || item.kind === 'key') return false;
  return item.keys.privateKey.extractable && (item.certificatePem !== null || item.csrPem !== null);
}

/**
 * The client keys and certificates the probe can use. One rule for all of them, the workshop's:
 * keys generated or pasted on the Keys page, the lab demo's key, an imported PKCS#12 and workshop
 * items are kept in this browser's IndexedDB (`stored`) and come back after a reload, until
 * removed. Only a pasted key WebCrypto cannot hold (e.g. RSA-PSS) stays in this tab's memory.
 */
export class KeyRing {
  items = $state<Credential[]>([]);
  /** Set while a key is being generated, for the progress display. */
  generating = $state<{ algorithm: KeyAlgorithmName; startedAt: number } | null>(null);
  /** Everything the certificate workshop made, mirrored to IndexedDB. */
  readonly stored = new StoredItems();
  #seq = 0;

  constructor() {
    void this.stored.loaded.then(() => {
      for (const item of this.stored.items) this.#register(item);
    });
  }

  /** Keeps a workshop item and, when a probe can present it, offers it as a credential. */
  async addStored(item: StoredItem): Promise<void> {
    await this.stored.add(item);
    this.#register(item);
  }

  /** Removes every stored key (workshop items and Keys-page keys alike), from the key ring and from browser storage. */
  async forgetStored(): Promise<void> {
    this.items = this.items.filter((c) => !this.stored.get(c.id));
    await this.stored.clear();
  }

  /** Keeps a Keys-page credential in browser storage, as the workshop keeps its items. */
  async #keep(credential: Credential, keys: CryptoKeyPair, origin: 'generated' | 'pasted', keyAlgorithm: KeyAlgorithmName): Promise<void> {
    await this.stored.add({
      id: credential.id,
      kind: credential.certificatePem ? 'client' : 'csr',
      label: credential.label,
      createdAt: new Date(),
      keyAlgorithm,
      purpose: 'mtls',
      keys,
      certificatePem: credential.certificatePem,
      chainPem: credential.chainPem,
      rootPem: credential.caPem,
      csrPem: credential.csrPem,
      issuerId: null,
      issuedBy: credential.issuedBy,
      // A snapshot: the credential's fields are state proxies, which IndexedDB cannot clone.
      certificate: $state.snapshot(credential.certificate),
      origin,
    });
  }

  /** Whether a credential is kept in browser storage (false: this tab only). */
  persisted(credential: Credential): boolean {
    return this.stored.state === 'ready' && this.stored.get(credential.id) !== undefined;
  }

  #register(item: StoredItem): void {
    if (this.get(item.id) || !usableForMtls(item)) return;
    const credential = new Credential({ id: item.id, origin: item.origin ?? 'workshop', keyAlgorithm: item.keyAlgorithm, label: item.label, keyPair: item.keys });
    credential.csrPem = item.csrPem;
    credential.certificatePem = item.certificatePem;
    credential.chainPem = item.chainPem;
    credential.caPem = item.rootPem;
    credential.certificate = item.certificate;
    credential.issuedBy = item.issuedBy;
    this.items.push(credential);
  }

  get(id: string | null | undefined): Credential | undefined {
    return id ? this.items.find((c) => c.id === id) : undefined;
  }

  get ready(): Credential[] {
    return this.items.filter((c) => c.ready);
  }

  #nextId(): string {
    // Unique across reloads: kept keys come back with their ids.
    this.#seq += 1;
    return `k${this.#seq}-${crypto.randomUUID()}`;
  }

  /**
   * Generates a key pair in this browser and a CSR for it. The key is extractable because
   * Node's TLS stack needs it as PKCS#8 to present it during a probe.
   */
  async generate(algorithm: KeyAlgorithmName, commonName: string): Promise<Credential> {
    const cn = commonName.trim();
    if (!cn) throw new TypeError('commonName must not be empty');
    this.generating = { algorithm, startedAt: performance.now() };
    try {
      const pki = await loadPki();
      const keyPair = await pki.generateKeyPair(algorithm, true);
      const credential = new Credential({ id: this.#nextId(), origin: 'generated', keyAlgorithm: algorithm, label: cn, keyPair });
      credential.csrPem = await pki.createCsr(keyPair, `CN=${escapeDnValue(cn)}`);
      this.items.push(credential);
      await this.#keep(credential, keyPair, 'generated', algorithm);
      return credential;
    } finally {
      this.generating = null;
    }
  }

  /** Sends the credential's CSR to the lab CA and attaches the certificate it issues. */
  /** Asks the lab for a certificate; `profile` picks the lab CA that issues it (default: the client CA). */
  async requestLabCertificate(credential: Credential, sign: LabSigner, profile?: LabSignProfile): Promise<void> {
    if (!credential.csrPem) throw new TypeError('credential has no CSR');
    credential.busy = 'Asking the lab CA for a certificate…';
    credential.error = null;
    try {
      const { certificatePem, chainPem } = await (profile ? sign(credential.csrPem, profile) : sign(credential.csrPem));
      await this.#attach(credential, certificatePem, chainPem, 'the lab CA');
    } catch (err) {
      credential.error = err instanceof Error ? err.message : String(err);
      throw err;
    } finally {
      credential.busy = null;
    }
  }

  /** Attaches a certificate issued elsewhere (e.g. by a partner's CA) to a generated key. */
  async attachCertificate(credential: Credential, pemText: string): Promise<void> {
    const check = checkCertificatePem(pemText);
    if (!check.ok) throw new Error(check.message);
    const summary = await summarizeCertificate(check.leafPem);
    const keyPair = credential.keyPair;
    if (keyPair && !(await publicKeysMatch(keyPair.publicKey, check.leafPem))) {
      throw new Error(`This certificate (${summary.subject}) is for a different key than ${credential.label}.`);
    }
    await this.#attach(credential, check.leafPem, check.chainPem, summary.issuer);
  }

  /** Adds a certificate and key pasted as PEM. */
  async addPasted(certificateText: string, keyText: string): Promise<Credential> {
    const cert = checkCertificatePem(certificateText);
    if (!cert.ok) throw new Error(cert.message);
    const key = checkPrivateKeyPem(keyText);
    if (!key.ok) throw new Error(key.message);
    const summary = await summarizeCertificate(cert.leafPem);
    const credential = new Credential({
      id: this.#nextId(),
      origin: 'pasted',
      keyAlgorithm: summary.keyAlgorithm,
      label: summary.commonName,
      privateKeyPem: key.pem,
    });
    const { intermediatesPem, rootsPem } = await splitChain(cert.chainPem);
    credential.certificatePem = cert.leafPem;
    credential.chainPem = intermediatesPem;
    credential.caPem = rootsPem;
    credential.certificate = summary;
    credential.issuedBy = summary.selfSigned ? 'itself (self-signed)' : summary.issuer;
    this.items.push(credential);
    const keys = await importPair(key.pem, cert.leafPem, summary.keyAlgorithm);
    if (keys) await this.#keep(credential, keys, 'pasted', summary.keyAlgorithm as KeyAlgorithmName);
    return credential;
  }

  remove(id: string): void {
    this.items = this.items.filter((c) => c.id !== id);
    if (this.stored.get(id)) void this.stored.remove(id);
  }

  async #attach(credential: Credential, leafPem: string, chainPem: string, issuedBy: string): Promise<void> {
    const summary = await summarizeCertificate(leafPem);
    const { intermediatesPem, rootsPem } = await splitChain(chainPem);
    credential.certificatePem = leafPem;
    credential.chainPem = intermediatesPem;
    credential.caPem = rootsPem;
    credential.certificate = summary;
    credential.issuedBy = issuedBy;
    credential.label = summary.commonName;
    const stored = this.stored.get(credential.id);
    if (stored) {
      await this.stored.update({ ...stored, kind: stored.kind === 'csr' ? 'client' : stored.kind, label: summary.commonName, certificatePem: leafPem, chainPem: intermediatesPem, rootPem: rootsPem, certificate: summary, issuedBy, issuerId: null });
    }
  }
}

/**
 * Separates intermediates (sent after the leaf) from self-signed roots: the server must
 * already hold the root, so sending it only adds bytes and confuses "what did we send".
 */
async function splitChain(chainPem: string): Promise<{ intermediatesPem: string; rootsPem: string }> {
  let intermediatesPem = '';
  let rootsPem = '';
  for (const block of pemBlocks(chainPem)) {
    if (block.label !== 'CERTIFICATE') continue;
    if ((await summarizeCertificate(block.text)).selfSigned) rootsPem += block.text;
    else intermediatesPem += block.text;
  }
  return { intermediatesPem, rootsPem };
}

const IMPORT_PARAMS: Record<string, RsaHashedImportParams | EcKeyImportParams | Algorithm> = {
  'RSA-2048': { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  'RSA-3072': { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  'RSA-4096': { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  'P-256': { name: 'ECDSA', namedCurve: 'P-256' },
  'P-384': { name: 'ECDSA', namedCurve: 'P-384' },
  Ed25519: { name: 'Ed25519' },
};

/**
 * A pasted key as an extractable WebCrypto pair, so it can be stored like a generated one (the
 * public half from the certificate). Null when WebCrypto cannot hold it: it then stays in this
 * tab's memory as PEM text, as before.
 */
async function importPair(keyPem: string, certificatePem: string, keyAlgorithm: string): Promise<CryptoKeyPair | null> {
  const params = IMPORT_PARAMS[keyAlgorithm];
  if (!params) return null;
  try {
    const [block] = pemBlocks(keyPem);
    const der = block ? fromBase64(block.text.replace(/-----[^-]+-----/g, '')) : null;
    if (!block || !der) return null;
    // Loaded with the rest of the PKI code, not with the first page.
    const { pkcs1ToPkcs8, sec1ToPkcs8 } = await import('../../../../shared/pki/keys.ts');
    const pkcs8 = block.label === 'RSA PRIVATE KEY' ? pkcs1ToPkcs8(der) : block.label === 'EC PRIVATE KEY' ? sec1ToPkcs8(der) : der;
    const usages: KeyUsage[] = ['sign'];
    const privateKey = await crypto.subtle.importKey('pkcs8', pkcs8 as Uint8Array<ArrayBuffer>, params, true, usages);
    const { x509 } = await loadPki();
    const publicKey = await crypto.subtle.importKey('spki', new x509.X509Certificate(certificatePem).publicKey.rawData, params, true, ['verify']);
    return { privateKey, publicKey };
  } catch {
    return null;
  }
}

async function publicKeysMatch(publicKey: CryptoKey, certificatePem: string): Promise<boolean> {
  const { x509 } = await loadPki();
  const cert = new x509.X509Certificate(certificatePem);
  const ours = new Uint8Array(await crypto.subtle.exportKey('spki', publicKey));
  const theirs = new Uint8Array(cert.publicKey.rawData);
  return ours.length === theirs.length && ours.every((b, i) => b === theirs[i]);
}
