// The relay's log: one line per event on stderr, every field redacted on the way out.
import { redactDeep, redactText } from '../shared/redact.ts';

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(quiet = false, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const emit = (level: string, message: string, fields?: Record<string, unknown>) => {
    if (quiet && level === 'info') return;
    const extra = fields ? ` ${JSON.stringify(redactDeep(fields))}` : '';
    write(`${new Date().toISOString()} ${level} ${redactText(message)}${extra}\n`);
  };
  return {
    info: (m, f) => emit('info', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
