// The relay's log: one line per event on stderr, every field redacted on the way out, as text
// for a person at a terminal or as JSON (pino) for a log collector (docs/deployment.md).
// Lines anyone on the network can cause (a refused upgrade, a refused connection) go through
// throttled(): a flood must not fill the operator's disk (unthrottled, ~1.9 GB an hour).
import { pino } from 'pino';
import { redactDeep, redactText } from '../shared/redact.ts';

/** `text`: "2026-01-01T00:00:00.000Z info message {fields}"; `json`: one pino object a line. */
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /**
   * An info line that at most `linesPerWindow` times per window is written per `reason`; the
   * rest are counted and summed up in one line when the window ends. `reason` must be a fixed
   * string chosen by the code (it keys the count), never input.
   */
  throttled(reason: string, message: string, fields?: Record<string, unknown>): void;
}

interface LogThrottle {
  /** Lines written per reason per window; the rest are counted. */
  linesPerWindow: number; // lines
  windowMs: number; // ms
}

const LOG_THROTTLE: LogThrottle = { linesPerWindow: 20, windowMs: 60_000 };

export function createLogger(quiet = false, write: (line: string) => void = (l) => process.stderr.write(l), throttle: LogThrottle = LOG_THROTTLE, format: LogFormat = 'text'): Logger {
  const json = format === 'json' ? jsonLogger(write) : null;
  const emit = (level: 'info' | 'error', message: string, fields?: Record<string, unknown>) => {
    if (quiet && level === 'info') return;
    // Redaction first, whatever the format: pino only ever sees masked values.
    const clean = fields ? redactDeep(fields) : undefined;
    const text = redactText(message);
    if (json) {
      json[level](clean ?? {}, text);
      return;
    }
    const extra = clean ? ` ${JSON.stringify(clean)}` : '';
    write(`${new Date().toISOString()} ${level} ${text}${extra}\n`);
  };
  const windows = new Map<string, { lines: number; more: number }>();
  return {
    info: (m, f) => emit('info', m, f),
    error: (m, f) => emit('error', m, f),
    throttled: (reason, message, fields) => {
      if (quiet) return;
      let window = windows.get(reason);
      if (!window) {
        const w = { lines: 0, more: 0 };
        window = w;
        windows.set(reason, w);
        setTimeout(() => {
          windows.delete(reason);
          if (w.more > 0) emit('info', `…and ${w.more} more ${message} (${reason}) in the last ${throttle.windowMs / 1000} s`);
        }, throttle.windowMs).unref();
      }
      if (window.lines < throttle.linesPerWindow) {
        window.lines++;
        emit('info', message, fields);
      } else {
        window.more++;
      }
    },
  };
}

/**
 * pino writing synchronously to `write` (no worker thread: a line is out before the process
 * exits): level as a word, ISO time, no host name or pid (a container's collector adds those).
 */
function jsonLogger(write: (line: string) => void): pino.Logger {
  return pino({
    base: null,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, { write });
}
