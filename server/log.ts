// The relay's log: one line per event on stderr, every field redacted on the way out.
// Lines anyone on the network can cause (a refused upgrade, a refused connection) go through
// throttled(): a flood must not fill the operator's disk (unthrottled, ~1.9 GB an hour).
import { redactDeep, redactText } from '../shared/redact.ts';

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

export interface LogThrottle {
  /** Lines written per reason per window; the rest are counted. */
  linesPerWindow: number; // lines
  windowMs: number; // ms
}

export const LOG_THROTTLE: LogThrottle = { linesPerWindow: 20, windowMs: 60_000 };

export function createLogger(quiet = false, write: (line: string) => void = (l) => process.stderr.write(l), throttle: LogThrottle = LOG_THROTTLE): Logger {
  const emit = (level: string, message: string, fields?: Record<string, unknown>) => {
    if (quiet && level === 'info') return;
    const extra = fields ? ` ${JSON.stringify(redactDeep(fields))}` : '';
    write(`${new Date().toISOString()} ${level} ${redactText(message)}${extra}\n`);
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
