import type { CertificateSummary } from './inspect.ts';
import { loadPki } from './pki.ts';

/** generated: on the Keys page. pasted: a PEM pair or an imported PKCS#12. workshop: made in the certificate workshop. All are kept in IndexedDB when the browser allows. */
type CredentialOrigin = 'generated' | 'pasted' | 'workshop';

/**
 * A client key with, once issued, its certificate. Keys are kept in this browser's IndexedDB
 * (KeyRing.stored) when it allows; the private key leaves the browser only as part of a probe
 * the user starts.
 */
export class Credential {
  readonly id: string;
  readonly origin: CredentialOrigin;
  /** e.g. "P-256" or "RSA-2048". */
  readonly keyAlgorithm: string;
  readonly #keyPair: CryptoKeyPair | null;
  readonly #pastedKeyPem: string | null;

  label = $state('');
  csrPem = $state<string | null>(null);
  /** The leaf certificate, PEM. */
  certificatePem = $state<string | null>(null);
  /** Intermediates sent after the leaf, PEM; may be empty. */
  chainPem = $state('');
  /** Self-signed CA certificates that came with the certificate; kept for reference, not sent. */
  caPem = $state('');
  certificate = $state<CertificateSummary | null>(null);
  /** Who issued the certificate, as the UI says it. */
  issuedBy = $state<string | null>(null);
  /** Runs this key was sent to the relay for, newest last. */
  sentForRuns = $state<string[]>([]);
  /** What is being done right now, e.g. "Asking the lab CA…". */
  busy = $state<string | null>(null);
  error = $state<string | null>(null);

  constructor(init: {
    id: string;
    origin: CredentialOrigin;
    keyAlgorithm: string;
    label: string;
    keyPair?: CryptoKeyPair;
    privateKeyPem?: string;
  }) {
    this.id = init.id;
    this.origin = init.origin;
    this.keyAlgorithm = init.keyAlgorithm;
    this.label = init.label;
    this.#keyPair = init.keyPair ?? null;
    this.#pastedKeyPem = init.privateKeyPem ?? null;
  }

  get keyPair(): CryptoKeyPair | null {
    return this.#keyPair;
  }

  /** Has both halves an mTLS probe needs. */
  get ready(): boolean {
    return this.certificatePem !== null;
  }

  /** Leaf first, then intermediates: what the TLS client sends. */
  get certificateChainPem(): string {
    return `${this.certificatePem ?? ''}${this.chainPem}`;
  }

  /** PKCS#8 PEM, exported on demand so it exists as text only when needed. */
  async privateKeyPem(): Promise<string> {
    if (this.#pastedKeyPem !== null) return this.#pastedKeyPem;
    if (!this.#keyPair) throw new Error('This credential has no private key');
    const pki = await loadPki();
    return pki.exportPkcs8Pem(this.#keyPair.privateKey);
  }

  /** Short description for selectors: "lab-client (P-256, expires in 364 d)". */
  get description(): string {
    const parts = [this.keyAlgorithm];
    if (this.certificate) parts.push(expiryPhrase(this.certificate.notAfter));
    else parts.push('no certificate yet');
    return `${this.label} (${parts.join(', ')})`;
  }
}

export function expiryPhrase(notAfter: Date, now = Date.now()): string {
  const days = Math.floor((notAfter.getTime() - now) / 86_400_000);
  if (notAfter.getTime() < now) return `expired ${Math.max(1, -days)} d ago`;
  if (days < 1) return 'expires today';
  return `expires in ${days} d`;
}
