import type { Harness } from '../app/harness.svelte.ts';
import type { KeyRing } from '../keys/keyring.svelte.ts';
import type { ItemKind, StoredItem } from '../keys/vault.ts';
import type { KeyAlgorithmName } from '../../../../shared/pki/issue.ts';
import type { InspectionReport } from '../../../../shared/pki/inspect-set.ts';
import type { RotationReport, RotationRole } from '../../../../shared/pki/rotation.ts';
import { loadEngine } from './engine.ts';
import { makeItem, type MakeRequest } from './make.ts';

export const TABS = [
  { id: 'make', title: 'Make & export' },
  { id: 'inspect', title: 'Import & inspect' },
  { id: 'rotation', title: 'Rotation check' },
] as const;

export type WorkshopTab = (typeof TABS)[number]['id'];

export interface InspectInputFile {
  id: number;
  name: string;
  data: string | Uint8Array;
  /** Bytes (files) or characters (pasted text). */
  size: number;
}

/** Files and text given to the inspector, and its last report. */
export class InspectSession {
  inputs = $state.raw<InspectInputFile[]>([]);
  pasted = $state('');
  password = $state('');
  report = $state.raw<InspectionReport | null>(null);
  busy = $state(false);
  error = $state<string | null>(null);
  #seq = 0;
  /** What the last report was made from, so a key in it can be read again on request. */
  #read: { inputs: { name: string; data: string | Uint8Array }[]; password: string } | null = null;

  add(name: string, data: string | Uint8Array): void {
    this.#seq += 1;
    this.inputs = [...this.inputs, { id: this.#seq, name, data, size: typeof data === 'string' ? data.length : data.byteLength }];
  }

  async addFiles(files: Iterable<File>): Promise<void> {
    for (const file of files) this.add(file.name, new Uint8Array(await file.arrayBuffer()));
  }

  remove(id: number): void {
    this.inputs = this.inputs.filter((i) => i.id !== id);
  }

  clear(): void {
    this.inputs = [];
    this.pasted = '';
    this.password = '';
    this.report = null;
    this.error = null;
    this.#read = null;
  }

  get ready(): boolean {
    return this.inputs.length > 0 || this.pasted.trim() !== '';
  }

  get readFrom(): { inputs: { name: string; data: string | Uint8Array }[]; password: string } | null {
    return this.#read;
  }

  async run(): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      const { inspectSet } = await loadEngine();
      const inputs: { name: string; data: string | Uint8Array }[] = this.inputs.map(({ name, data }) => ({ name, data }));
      if (this.pasted.trim()) inputs.push({ name: 'pasted text', data: this.pasted });
      this.#read = { inputs, password: this.password };
      this.report = await inspectSet(inputs, this.password ? { password: this.password } : {});
    } catch (err) {
      // The engine reports bad input as problems; an exception here is a bug, shown rather than swallowed.
      this.error = `The inspector failed: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      this.busy = false;
    }
  }
}

/**
 * Offers a certificate and the key found with it (e.g. from a partner's .p12) to the probe: the
 * report holds no key material, so the key is read again from the same inputs. Returns the
 * credential's name and where it is kept.
 */
export async function credentialFromReport(session: InspectSession, keyring: KeyRing, keyWhere: string, certificateWhere: string): Promise<string> {
  const report = session.report;
  const read = session.readFrom;
  if (!report || !read) throw new TypeError('there is no report to take the credential from');
  const engine = await loadEngine();
  let pkcs8: Uint8Array | undefined;
  for (const input of read.inputs) {
    const found = await engine.readInput(input.data, { name: input.name, ...(read.password ? { password: read.password } : {}) });
    pkcs8 = found.keys.find((k) => k.where === keyWhere)?.pkcs8;
    if (pkcs8) break;
  }
  if (!pkcs8) throw new Error(`The key at ${keyWhere} could not be read again.`);
  // The certificate followed by its chain as the inspector ordered it: what a client sends.
  const path = report.chain.paths.find((p) => p.members[0]?.where === certificateWhere);
  const wheres = path ? path.members.map((m) => m.where) : [certificateWhere];
  const chain = wheres.map((w) => report.certificates.find((c) => c.where === w)?.pem ?? '').join('');
  const credential = await keyring.addPasted(chain, engine.pkcs8Pem(pkcs8));
  return keyring.persisted(credential) ? `${credential.label} (kept in this browser)` : `${credential.label} (this tab only)`;
}

export interface RotationCandidateInput {
  id: number;
  role: RotationRole;
  pem: string;
  /** Where it came from (e.g. `partner.json, [1].pem ("upcoming")`), shown and used as its label. */
  label?: string;
}

/** The CA bundle a server trusts and the client certificates to judge against it. */
export class RotationSession {
  bundle = $state('');
  candidates = $state<RotationCandidateInput[]>([
    { id: 1, role: 'current', pem: '' },
    { id: 2, role: 'upcoming', pem: '' },
  ]);
  report = $state.raw<RotationReport | null>(null);
  busy = $state(false);
  error = $state<string | null>(null);
  #seq = 2;

  addCandidate(role: RotationRole, pem = '', label?: string): void {
    this.#seq += 1;
    this.candidates.push({ id: this.#seq, role, pem, ...(label ? { label } : {}) });
  }

  /**
   * Takes the certificates of an inspection (files, a pasted JSON bundle, a .p12): self-signed
   * CAs become the bundle, each client certificate a candidate sent with the intermediates found,
   * upcoming when it is not valid yet.
   */
  fromInspection(report: InspectionReport): void {
    const certs = report.certificates;
    const roots = certs.filter((c) => c.selfSigned);
    const intermediates = certs.filter((c) => c.isCa && !c.selfSigned);
    const leaves = certs.filter((c) => !c.isCa && !c.selfSigned);
    if (roots.length) this.bundle = roots.map((c) => c.pem).join('');
    this.candidates = [];
    this.report = null;
    for (const leaf of leaves) {
      this.addCandidate(leaf.validity.status === 'not_yet_valid' ? 'upcoming' : 'current', leaf.pem + intermediates.map((c) => c.pem).join(''), leaf.where);
    }
  }

  removeCandidate(id: number): void {
    this.candidates = this.candidates.filter((c) => c.id !== id);
  }

  async run(): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      const { checkRotation } = await loadEngine();
      const given = this.candidates.filter((c) => c.pem.trim());
      const counts = { current: 0, upcoming: 0 };
      this.report = await checkRotation(
        this.bundle,
        given.map((c) => ({ role: c.role, pem: c.pem, label: c.label ?? `${c.role} ${++counts[c.role]}` })),
      );
    } catch (err) {
      this.error = `The rotation check failed: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      this.busy = false;
    }
  }
}

/** The workshop screen's state; it outlives the screen so switching views loses nothing. */
export class WorkshopSession {
  tab = $state<WorkshopTab>('make');
  /** The item shown beside the list; null shows the Make form. */
  selectedId = $state<string | null>(null);
  making = $state<{ kind: ItemKind; algorithm: KeyAlgorithmName; startedAt: number } | null>(null);
  /** Id of the item just made, so its detail can announce it. */
  made = $state<string | null>(null);
  readonly inspect = new InspectSession();
  readonly rotation = new RotationSession();
  readonly keyring: KeyRing;

  constructor(harness: Harness) {
    this.keyring = harness.keyring;
  }

  get items(): StoredItem[] {
    return this.keyring.stored.items;
  }

  get selected(): StoredItem | undefined {
    return this.keyring.stored.get(this.selectedId);
  }

  async make(request: MakeRequest): Promise<StoredItem> {
    this.making = { kind: request.kind, algorithm: request.algorithm, startedAt: performance.now() };
    this.made = null;
    try {
      const item = await makeItem(request);
      await this.keyring.addStored(item);
      this.selectedId = item.id;
      this.made = item.id;
      return item;
    } finally {
      this.making = null;
    }
  }

  async remove(item: StoredItem): Promise<void> {
    this.keyring.remove(item.id);
    if (this.selectedId === item.id) this.selectedId = null;
  }

  async forgetEverything(): Promise<void> {
    await this.keyring.forgetStored();
    this.selectedId = null;
    this.made = null;
  }

  /** Sends what the inspector found to the rotation check and opens it. */
  rotationFromInspection(): void {
    if (!this.inspect.report) return;
    this.rotation.fromInspection(this.inspect.report);
    this.tab = 'rotation';
  }

  /** Opens the inspector on an item's certificate chain (with its root), as a partner would receive it. */
  inspectItem(item: StoredItem): void {
    if (!item.certificatePem) return;
    this.inspect.clear();
    this.inspect.add(`${item.label}.pem`, item.certificatePem + item.chainPem + item.rootPem);
    this.tab = 'inspect';
    void this.inspect.run();
  }
}
