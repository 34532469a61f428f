// The password of a PKCS#12 file or an encrypted key, from one of three flags. `--password P`
// is visible to every user of the machine (ps, shell history); the file and the environment
// variable keep it out of both. The value never appears in a message.
import { readFile } from 'node:fs/promises';
import { BadInputFile } from './client-files.ts';

export const PASSWORD_OPTIONS = {
  password: { type: 'string' },
  'password-file': { type: 'string' },
  'password-env': { type: 'string' },
} as const;

export const PASSWORD_USAGE = '[--password-file F | --password-env NAME | --password P]';

interface PasswordFlags {
  password?: string;
  'password-file'?: string;
  'password-env'?: string;
}

/** The password given, or undefined. More than one source, an unset variable or an unreadable file is a BadInputFile. */
export async function passwordFrom(flags: PasswordFlags, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const given = (['password', 'password-file', 'password-env'] as const).filter((k) => flags[k] !== undefined);
  if (given.length > 1) throw new BadInputFile(`give one of --password, --password-file and --password-env, not ${given.map((g) => `--${g}`).join(' and ')}`);
  if (flags['password-env'] !== undefined) {
    const name = flags['password-env'];
    const value = env[name];
    if (value === undefined) throw new BadInputFile(`--password-env ${name}: the environment variable ${name} is not set`);
    return value;
  }
  if (flags['password-file'] !== undefined) {
    const path = flags['password-file'];
    try {
      // The first line, as `openssl … -passin file:` reads it: an editor's final newline is no part of the password.
      return (await readFile(path, 'utf8')).split(/\r?\n/)[0]!;
    } catch (err) {
      throw new BadInputFile(`cannot read password file "${path}": ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
  }
  return flags.password;
}
