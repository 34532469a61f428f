import type { RelayInfo, RunEvent } from '../../../../shared/protocol/index.ts';
import { makeTranscript, parseTranscript, readRun, type Transcript, type TranscriptEvent } from '../../../../shared/transcript/transcript.ts';

/** One entry of the history: a run made here, or a transcript opened from a file or a link. */
export interface HistoryEntry {
  /** Unique in this browser. */
  key: string;
  source: 'run' | 'opened';
  transcript: Transcript;
}

const HISTORY_LIMITS = {
  /** Runs kept; the oldest go first. */
  entries: 30,
  /** Characters of JSON kept in localStorage, well under the browsers' 5 MB per origin. */
  storedChars: 3_000_000,
} as const;

const STORAGE_KEY = 'mtls-harness.history.v1';

interface LiveRun {
  startedAt: number;
  events: TranscriptEvent[];
  kind: string;
  target: string;
}

const KIND_NAMES: Record<string, string> = { probe: 'Probe', flow: 'Token flow', inbound: 'Inbound client' };

/**
 * The last runs of this browser, as transcripts (redacted like everything the relay sends),
 * kept across reloads in localStorage; and transcripts the user opened. Runs are recorded by
 * watching the relay connection, so every screen's runs land here the same way.
 */
export class RunHistory {
  entries = $state<HistoryEntry[]>([]);
  /** Why the history could not be kept (storage full or off), shown once on the Runs page. */
  storageProblem = $state<string | null>(null);

  readonly #storage: Storage | null;
  readonly #live = new Map<string, LiveRun>();
  #seq = 0;

  constructor(storage: Storage | null) {
    this.#storage = storage;
    this.#load();
  }

  /** Watches a relay connection's run events; returns the unsubscribe function. */
  record(relay: { observeRuns(o: (e: RunEvent) => void): () => void; readonly info: RelayInfo | null; readonly clockOffsetMs: number }): () => void {
    return relay.observeRuns((event) => this.#observe(event, relay.info, relay.clockOffsetMs));
  }

  #observe(event: RunEvent, info: RelayInfo | null, offsetMs: number): void {
    const now = performance.now();
    if (event.type === 'run.started') {
      this.#live.set(event.runId, { startedAt: now, events: [{ t: 0, event }], kind: event.kind, target: event.target });
      return;
    }
    const live = this.#live.get(event.runId);
    if (!live) return;
    live.events.push({ t: now - live.startedAt, event });
    if (event.type !== 'run.finished') return;
    this.#live.delete(event.runId);
    const startedAt = new Date(Date.now() - (now - live.startedAt) + offsetMs);
    const transcript = makeTranscript({
      name: `${KIND_NAMES[live.kind] ?? live.kind} ${live.target}`,
      recordedBy: 'app',
      startedAt,
      environment: { harness: info?.version ?? 'unknown', node: info?.runtime?.node ?? 'unknown', openssl: info?.runtime?.openssl ?? 'unknown', platform: info?.runtime?.platform ?? 'unknown' },
      events: live.events,
    });
    this.add(transcript, 'run', event.runId);
  }

  /** Adds a transcript at the top; returns its entry. */
  add(transcript: Transcript, source: HistoryEntry['source'], runId?: string): HistoryEntry {
    this.#seq += 1;
    const entry: HistoryEntry = { key: runId ? `run-${runId}` : `opened-${Date.now().toString(36)}-${this.#seq}`, source, transcript };
    this.entries = [entry, ...this.entries.filter((e) => e.key !== entry.key)].slice(0, HISTORY_LIMITS.entries);
    this.#save();
    return entry;
  }

  /** The transcript of a run made in this browser, by the relay's run id. */
  forRun(runId: string | null): HistoryEntry | undefined {
    return runId ? this.entries.find((e) => e.key === `run-${runId}`) : undefined;
  }

  get(key: string | null): HistoryEntry | undefined {
    return key ? this.entries.find((e) => e.key === key) : undefined;
  }

  remove(key: string): void {
    this.entries = this.entries.filter((e) => e.key !== key);
    this.#save();
  }

  clear(): void {
    this.entries = [];
    this.#save();
  }

  #load(): void {
    const text = this.#read();
    if (!text) return;
    try {
      const stored = JSON.parse(text) as { key: string; source: HistoryEntry['source']; transcript: unknown }[];
      const entries: HistoryEntry[] = [];
      for (const e of stored) {
        try {
          const transcript = parseTranscript(JSON.stringify(e.transcript));
          readRun(transcript);
          entries.push({ key: e.key, source: e.source === 'opened' ? 'opened' : 'run', transcript });
        } catch {
          // An entry this version cannot read (an older or damaged one) is left out.
        }
      }
      this.entries = entries.slice(0, HISTORY_LIMITS.entries);
    } catch {
      this.storageProblem = 'The saved run history could not be read and was started anew.';
    }
  }

  #read(): string | null {
    try {
      return this.#storage?.getItem(STORAGE_KEY) ?? null;
    } catch {
      return null;
    }
  }

  /** Keeps as many of the newest entries as fit. */
  #save(): void {
    if (!this.#storage) return;
    let kept = $state.snapshot(this.entries);
    while (kept.length) {
      const text = JSON.stringify(kept);
      if (text.length <= HISTORY_LIMITS.storedChars) {
        try {
          this.#storage.setItem(STORAGE_KEY, text);
          this.storageProblem = kept.length < this.entries.length ? `Only the newest ${kept.length} runs fit in this browser's storage; older ones stay until you reload.` : null;
          return;
        } catch {
          // Over the browser's quota: drop the oldest and try again.
        }
      }
      kept = kept.slice(0, -1);
    }
    try {
      this.#storage.removeItem(STORAGE_KEY);
    } catch {
      // Storage is off: the history lives until the page is closed.
    }
  }
}
