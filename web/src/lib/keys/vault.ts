// Keys and certificates kept across reloads, in this browser's IndexedDB for this origin. CryptoKey
// objects are stored as they are (structured clone), so a key made non-extractable stays
// non-extractable: the page can sign with it after a reload but never read it.
import type { KeyAlgorithmName } from '../../../../shared/pki/issue.ts';
import type { CertificateSummary } from './inspect.ts';

const VAULT = {
  database: 'mtls-jwt-harness',
  store: 'workshop-items',
  version: 1,
} as const;

export type ItemKind = 'root-ca' | 'intermediate-ca' | 'client' | 'server' | 'self-signed' | 'csr' | 'key';

/** mtls: extractable, the relay needs it for a run. jwt: never leaves the browser. ca: signs certificates here. */
export type KeyPurpose = 'mtls' | 'jwt' | 'ca';

export interface StoredItem {
  id: string;
  kind: ItemKind;
  /** The subject CN, or what the user called the key. */
  label: string;
  createdAt: Date;
  keyAlgorithm: KeyAlgorithmName;
  purpose: KeyPurpose;
  keys: CryptoKeyPair;
  /** The item's own certificate, PEM; null for a key or a CSR without one yet. */
  certificatePem: string | null;
  /** CA certificates between this certificate and its root, nearest first, PEM; sent after the leaf. */
  chainPem: string;
  /** The self-signed root of the chain, PEM; empty when the item is self-signed or has no certificate. */
  rootPem: string;
  csrPem: string | null;
  /** The workshop item that issued the certificate, if it was issued here. */
  issuerId: string | null;
  /** Who issued it, as shown: a CA's subject, "the lab CA", "itself (self-signed)". */
  issuedBy: string | null;
  certificate: CertificateSummary | null;
  /**
   * Where a key-ring entry came from when it was not made in the workshop: generated on the
   * Keys page (the lab demo's too) or pasted/imported (a PEM pair, a partner's PKCS#12).
   */
  origin?: 'generated' | 'pasted';
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function finished(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
  });
}

class VaultUnavailableError extends Error {
  readonly code = 'storage_unavailable';
}

/** The IndexedDB object store of workshop items. Every method rejects when storage is unavailable. */
export class Vault {
  #db: Promise<IDBDatabase> | undefined;

  #open(): Promise<IDBDatabase> {
    this.#db ??= new Promise<IDBDatabase>((resolve, reject) => {
      if (typeof indexedDB === 'undefined') {
        reject(new VaultUnavailableError('this browser offers no IndexedDB here'));
        return;
      }
      const open = indexedDB.open(VAULT.database, VAULT.version);
      open.onupgradeneeded = () => {
        if (!open.result.objectStoreNames.contains(VAULT.store)) open.result.createObjectStore(VAULT.store, { keyPath: 'id' });
      };
      open.onsuccess = () => {
        const db = open.result;
        // Another tab upgrading the schema must not be blocked by this one.
        db.onversionchange = () => {
          db.close();
          this.#db = undefined;
        };
        resolve(db);
      };
      open.onerror = () => reject(new VaultUnavailableError(open.error?.message ?? 'IndexedDB could not be opened'));
      open.onblocked = () => reject(new VaultUnavailableError('another tab holds an older version of this storage open'));
    });
    this.#db.catch(() => (this.#db = undefined));
    return this.#db;
  }

  async all(): Promise<StoredItem[]> {
    const db = await this.#open();
    const items = await request(db.transaction(VAULT.store, 'readonly').objectStore(VAULT.store).getAll() as IDBRequest<StoredItem[]>);
    return items.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  async put(item: StoredItem): Promise<void> {
    const db = await this.#open();
    const tx = db.transaction(VAULT.store, 'readwrite');
    tx.objectStore(VAULT.store).put(item);
    await finished(tx);
  }

  async delete(id: string): Promise<void> {
    const db = await this.#open();
    const tx = db.transaction(VAULT.store, 'readwrite');
    tx.objectStore(VAULT.store).delete(id);
    await finished(tx);
  }

  async clear(): Promise<void> {
    const db = await this.#open();
    const tx = db.transaction(VAULT.store, 'readwrite');
    tx.objectStore(VAULT.store).clear();
    await finished(tx);
  }
}
