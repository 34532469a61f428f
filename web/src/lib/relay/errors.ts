import type { ErrorCode } from '../../../../shared/protocol/index.ts';

/** Codes the browser adds to the relay's own when a request cannot be answered. */
type LocalErrorCode = 'not_connected' | 'disconnected' | 'timeout';

/** A request the relay refused or could not answer; `code` is stable, `message` is for people. */
export class RelayError extends Error {
  readonly code: ErrorCode | LocalErrorCode;
  constructor(code: ErrorCode | LocalErrorCode, message: string) {
    super(message);
    this.name = 'RelayError';
    this.code = code;
  }
}

/** A message fit to show for anything thrown by an action. */
export function describeError(err: unknown): string {
  if (err instanceof RelayError) return `${err.message} (${err.code})`;
  if (err instanceof Error) return err.message;
  return String(err);
}
