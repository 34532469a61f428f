// Where the built-in lab keeps its CA and keys. One lab per user and machine: `harness serve`,
// `harness probe lab` and `harness run` all use the same directory, so a certificate the app's
// lab issued is trusted by the lab a scenario starts from the command line.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { link, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';

/**
 * `$HARNESS_LAB_DIR`, else the platform's per-user data directory:
 * `$XDG_DATA_HOME/mtls-harness/lab` (default `~/.local/share/mtls-harness/lab`) on Linux,
 * `~/Library/Application Support/mtls-harness/lab` on macOS, `%LOCALAPPDATA%\mtls-harness\lab`
 * on Windows.
 */
export function defaultLabDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = homedir()): string {
  if (env.HARNESS_LAB_DIR) return env.HARNESS_LAB_DIR;
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'mtls-harness', 'lab');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'mtls-harness', 'lab');
  return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'mtls-harness', 'lab');
}

/**
 * Reads `name` in `dir`, or makes it with `make()` when it is missing or `usable()` refuses it.
 * Two processes starting at once (an app and a scenario run) end up with the same content: the
 * new file is written aside and linked into place, which fails when another process was first,
 * and then that one's file is read.
 */
export async function readOrCreate(dir: string, name: string, make: () => Promise<string>, usable: (text: string) => Promise<boolean> | boolean = () => true): Promise<string> {
  const path = join(dir, name);
  const existing = await readFile(path, 'utf8').catch(() => null);
  if (existing !== null && await usable(existing)) return existing;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const text = await make();
  const aside = await mkdtemp(join(dir, '.new-'));
  try {
    const tmp = join(aside, name);
    await writeFile(tmp, text, { mode: 0o600 });
    if (existing !== null) {
      // Replace the unusable one; a rename is atomic, so readers see the old or the new file.
      await rename(tmp, path);
      return text;
    }
    try {
      await link(tmp, path);
      return text;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return readFile(path, 'utf8');
    }
  } finally {
    await rm(aside, { recursive: true, force: true });
  }
}
