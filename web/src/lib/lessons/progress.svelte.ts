// A learner's progress, kept in this browser only: when each lesson was set up (runs from
// before do not count), how many hints are open, and when it was solved.
interface LessonProgress {
  /** The relay's clock (ISO 8601) when the lesson was last set up; runs from then on are judged. */
  setupAt?: string;
  hintsShown: number;
  solvedAt?: string;
}

const STORAGE_KEY = 'mtls-harness.lessons.v1';

export class LessonProgressStore {
  byId = $state<Record<string, LessonProgress>>({});
  readonly #storage: Storage | null;

  constructor(storage: Storage | null) {
    this.#storage = storage;
    try {
      const parsed: unknown = JSON.parse(storage?.getItem(STORAGE_KEY) ?? '{}');
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        for (const [id, p] of Object.entries(parsed as Record<string, Partial<LessonProgress>>)) {
          if (!p || typeof p !== 'object') continue;
          this.byId[id] = {
            hintsShown: typeof p.hintsShown === 'number' && p.hintsShown >= 0 ? Math.floor(p.hintsShown) : 0,
            ...(typeof p.setupAt === 'string' ? { setupAt: p.setupAt } : {}),
            ...(typeof p.solvedAt === 'string' ? { solvedAt: p.solvedAt } : {}),
          };
        }
      }
    } catch {
      // Damaged progress starts anew; it holds nothing that cannot be redone.
    }
  }

  of(id: string): LessonProgress {
    return this.byId[id] ?? { hintsShown: 0 };
  }

  update(id: string, change: Partial<LessonProgress>): void {
    this.byId[id] = { ...this.of(id), ...change };
    try {
      this.#storage?.setItem(STORAGE_KEY, JSON.stringify($state.snapshot(this.byId)));
    } catch {
      // Storage full or off: progress lasts until the page is reloaded.
    }
  }

  reset(id: string): void {
    delete this.byId[id];
    this.update(id, { hintsShown: 0 });
  }
}
