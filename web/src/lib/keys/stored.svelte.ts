import { Vault, type StoredItem } from './vault.ts';

type StorageState = 'loading' | 'ready' | 'unavailable';

/**
 * The workshop's keys and certificates as the screens see them, mirrored to IndexedDB. When the
 * browser refuses storage (some private windows), items still work for this tab and the screen
 * says they will not survive a reload.
 */
export class StoredItems {
  // Raw: records hold CryptoKeys and go to IndexedDB as they are; a deep proxy would not clone.
  items = $state.raw<StoredItem[]>([]);
  state = $state<StorageState>('loading');
  /** Why storage is unavailable, or why the last write failed. */
  error = $state<string | null>(null);
  readonly loaded: Promise<void>;
  readonly #vault: Vault;

  constructor(vault: Vault = new Vault()) {
    this.#vault = vault;
    this.loaded = this.#load();
  }

  async #load(): Promise<void> {
    try {
      const stored = await this.#vault.all();
      // Items made while loading come after the stored ones.
      this.items = [...stored, ...this.items.filter((i) => !stored.some((s) => s.id === i.id))];
      this.state = 'ready';
    } catch (err) {
      this.state = 'unavailable';
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  get(id: string | null | undefined): StoredItem | undefined {
    return id ? this.items.find((i) => i.id === id) : undefined;
  }

  async #write(action: () => Promise<void>): Promise<void> {
    await this.loaded;
    if (this.state !== 'ready') return;
    try {
      await action();
      this.error = null;
    } catch (err) {
      this.error = `Could not save to browser storage: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  async add(item: StoredItem): Promise<void> {
    this.items = [...this.items, item];
    await this.#write(() => this.#vault.put(item));
  }

  async update(item: StoredItem): Promise<void> {
    this.items = this.items.map((i) => (i.id === item.id ? item : i));
    await this.#write(() => this.#vault.put(item));
  }

  async remove(id: string): Promise<void> {
    this.items = this.items.filter((i) => i.id !== id);
    await this.#write(() => this.#vault.delete(id));
  }

  async clear(): Promise<void> {
    this.items = [];
    await this.#write(() => this.#vault.clear());
  }
}
