// Secrets an operator gives the relay instead of letting it make one per start: the access
// secret (the WebSocket token), so restarts and replicas accept the pages already open, and the
// metrics token. From a file (a mounted secret) or an environment variable, never a flag (a
// flag shows in `ps`). Errors name the source, never the value.
import { readFile } from 'node:fs/promises';
import { HarnessError } from '../shared/errors.ts';

/** Characters that survive a URL query unchanged (the token travels in `?token=`). */
const SECRET_SHAPE = /^[A-Za-z0-9._~-]+$/;
export const SECRET_LIMITS = {
  /** Shortest secret accepted: 32 characters of hex are 128 bits. */
  minChars: 32, // characters
  maxChars: 512, // characters
} as const;

export class SecretError extends HarnessError<'secret_invalid'> {
  constructor(message: string) {
    super('secret_invalid', message);
  }
}

/** Checks a secret's shape; `source` names where it came from in the error. */
export function checkSecret(value: string, source: string): string {
  const secret = value.trim();
  if (secret.length < SECRET_LIMITS.minChars) throw new SecretError(`${source} holds ${secret.length} characters; a secret needs at least ${SECRET_LIMITS.minChars} (make one with: openssl rand -hex 32)`);
  if (secret.length > SECRET_LIMITS.maxChars) throw new SecretError(`${source} holds more than ${SECRET_LIMITS.maxChars} characters`);
  if (!SECRET_SHAPE.test(secret)) throw new SecretError(`${source} may hold only letters, digits and . _ ~ - (it travels in a URL; make one with: openssl rand -hex 32)`);
  return secret;
}

/** The secret from `file` (first) or the environment variable `envName`; undefined when neither is set. */
export async function readSecret(file: string | undefined, envName: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new SecretError(`cannot read the secret file "${file}": ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
    return checkSecret(text, `the secret file "${file}"`);
  }
  const fromEnv = env[envName];
  if (fromEnv !== undefined && fromEnv !== '') return checkSecret(fromEnv, `$${envName}`);
  return undefined;
}
