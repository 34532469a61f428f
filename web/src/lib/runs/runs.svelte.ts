import { MAX_TRANSCRIPT_CHARS, parseTranscript, TranscriptError } from '../../../../shared/transcript/transcript.ts';
import type { Harness } from '../app/harness.svelte.ts';
import type { RunHistory, HistoryEntry } from './history.svelte.ts';

/** The Runs screen: which run is shown, which two are compared, and what went wrong opening one. */
export class RunsView {
  readonly history: RunHistory;
  /** The entry whose timeline is shown. */
  selected = $state<string | null>(null);
  /** Up to two entries to compare: A (the one that works) first. */
  compare = $state<string[]>([]);
  /** Why the last file or link could not be opened; nothing else on screen changes. */
  openError = $state<string | null>(null);

  constructor(harness: Harness) {
    this.history = harness.history;
  }

  get shown(): HistoryEntry | undefined {
    return this.history.get(this.selected);
  }

  get pair(): [HistoryEntry, HistoryEntry] | null {
    const [a, b] = this.compare.map((k) => this.history.get(k));
    return a && b ? [a, b] : null;
  }

  /** Opens a transcript file (from the file picker or a drop). */
  async openFile(file: File): Promise<void> {
    this.openError = null;
    if (file.size > MAX_TRANSCRIPT_CHARS) {
      this.openError = `${file.name}: ${Math.round(file.size / 1024 / 1024)} MiB is far larger than any transcript; is this the right file?`;
      return;
    }
    try {
      const transcript = parseTranscript(await file.text());
      this.selected = this.history.add(transcript, 'opened').key;
    } catch (err) {
      this.openError = `${file.name} could not be opened: ${err instanceof TranscriptError ? err.message : String(err)}`;
    }
  }

  /** Opens the transcript carried in a share link's fragment. */
  async openLink(fragment: string): Promise<void> {
    this.openError = null;
    try {
      const { readShareLink } = await import('../../../../shared/transcript/share-link.ts');
      const transcript = await readShareLink(fragment);
      if (transcript) this.selected = this.history.add(transcript, 'opened').key;
    } catch (err) {
      this.openError = `The link could not be opened: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  toggleCompare(key: string): void {
    this.compare = this.compare.includes(key) ? this.compare.filter((k) => k !== key) : [...this.compare, key].slice(-2);
  }

  swap(): void {
    this.compare = [...this.compare].reverse();
  }

  remove(key: string): void {
    this.history.remove(key);
    this.compare = this.compare.filter((k) => k !== key);
    if (this.selected === key) this.selected = null;
  }
}
