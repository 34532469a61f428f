// The Lessons screen's state, kept while the learner goes to the probe or a token flow and
// back: which lesson is open, its last verdict, lessons opened from a file, the trainer view.
import { readRun, type TranscriptRun } from '../../../../shared/transcript/transcript.ts';
import type { Harness } from '../app/harness.svelte.ts';
import { describeError } from '../relay/errors.ts';
import { CATALOGUE } from './catalogue.ts';
import { LessonError, parseLesson, type Lesson, type LessonSetup } from './format.ts';
import { judge, type Verdict } from './judge.ts';
import { LessonProgressStore } from './progress.svelte.ts';
import { applySetup } from './setup.svelte.ts';

function localStore(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export class LessonsSession {
  lessons = $state<Lesson[]>([...CATALOGUE.lessons]);
  /** Lesson files that could not be read: the file and the field at fault. */
  problems = $state<{ file: string; message: string }[]>([...CATALOGUE.problems]);
  selectedId = $state<string>(CATALOGUE.lessons[0]?.id ?? '');
  verdicts = $state<Record<string, Verdict>>({});
  /** The lesson being set up, and what went wrong doing it. */
  busy = $state<string | null>(null);
  setupError = $state<string | null>(null);
  notes = $state<string[]>([]);
  trainer = $state(false);
  readonly progress = new LessonProgressStore(localStore());
  readonly #harness: Harness;

  constructor(harness: Harness) {
    this.#harness = harness;
    try {
      this.trainer = new URLSearchParams(window.location.search).has('trainer');
    } catch {
      this.trainer = false;
    }
  }

  get selected(): Lesson | undefined {
    return this.lessons.find((l) => l.id === this.selectedId);
  }

  /** The relay's clock now, the clock transcripts record runs in. */
  #relayNow(): Date {
    return new Date(Date.now() + this.#harness.relay.clockOffsetMs);
  }

  async setUp(lesson: Lesson, which: 'broken' | 'solution' = 'broken'): Promise<void> {
    const setup: LessonSetup = which === 'broken' ? lesson.setup : lesson.solution.setup;
    if (this.busy) return;
    if (!this.#harness.relay.connected) {
      this.setupError = 'The relay is not connected: lessons run against its lab.';
      return;
    }
    this.busy = lesson.id;
    this.setupError = null;
    this.notes = [];
    try {
      // Runs made before this moment do not count for the lesson.
      this.progress.update(lesson.id, { setupAt: this.#relayNow().toISOString() });
      delete this.verdicts[lesson.id];
      this.notes = await applySetup(this.#harness, setup, lesson.title);
    } catch (err) {
      this.setupError = `The lesson could not be set up: ${describeError(err)}`;
    } finally {
      this.busy = null;
    }
  }

  /** The learner's finished runs made since the lesson was set up, newest first. */
  runsFor(lesson: Lesson): TranscriptRun[] {
    const since = this.progress.of(lesson.id).setupAt;
    const sinceMs = since ? Date.parse(since) : -Infinity;
    const runs: TranscriptRun[] = [];
    for (const entry of this.#harness.history.entries) {
      if (entry.source !== 'run' || Date.parse(entry.transcript.startedAt) < sinceMs) continue;
      try {
        runs.push(readRun(entry.transcript));
      } catch {
        // A transcript this version cannot read is not evidence either way.
      }
    }
    return runs;
  }

  check(lesson: Lesson): Verdict {
    const verdict = judge(lesson.check, this.runsFor(lesson), this.#harness.relay.info?.lab?.targets ?? []);
    this.verdicts[lesson.id] = verdict;
    if (verdict.solved && !this.progress.of(lesson.id).solvedAt) this.progress.update(lesson.id, { solvedAt: this.#relayNow().toISOString() });
    return verdict;
  }

  showHint(lesson: Lesson): void {
    const shown = this.progress.of(lesson.id).hintsShown;
    if (shown < lesson.hints.length) this.progress.update(lesson.id, { hintsShown: shown + 1 });
  }

  /** A trainer's own lesson file, for this browser session; a bad one is listed with its field. */
  async openFile(file: File): Promise<void> {
    try {
      const lesson = parseLesson(await file.text());
      this.lessons = [...this.lessons.filter((l) => l.id !== lesson.id), lesson];
      this.problems = this.problems.filter((p) => p.file !== file.name);
      this.selectedId = lesson.id;
    } catch (err) {
      const message = err instanceof LessonError ? err.message : describeError(err);
      this.problems = [...this.problems.filter((p) => p.file !== file.name), { file: file.name, message }];
    }
  }
}
