// Whether the built web app (dist/web) still matches its sources, so `npm start` builds only
// when something changed. The stamp is a SHA-256 over the path and content of every build
// input (not mtimes: a git checkout or a copy touches files without changing them). It lives
// beside dist/web, not in it: the build empties dist/web, and the relay serves what is in it.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** What `vite build` reads: the app, the shared code it bundles, and the build and dependency setup. */
export const BUILD_INPUTS = ['web', 'shared', 'vite.config.ts', 'package.json', 'package-lock.json', 'tsconfig.base.json', 'tsconfig.json', 'tsconfig.web.json'];

export const STAMP_FILE = join('dist', '.web-build-inputs');

function files(root, path) {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    // Tests are not bundled: editing one needs no new build.
    .flatMap((e) => (e.name === 'node_modules' || e.name.endsWith('.test.ts') ? [] : files(root, join(path, e.name))));
}

export function inputsHash(root) {
  const hash = createHash('sha256');
  for (const input of BUILD_INPUTS) {
    for (const path of files(root, input)) {
      const content = readFileSync(join(root, path));
      hash.update(`${relative(root, join(root, path))}\0${content.length}\0`).update(content);
    }
  }
  return hash.digest('hex');
}

/** True when dist/web is missing or was built from other sources (or by a build that did not finish). */
export function buildNeeded(root) {
  if (!existsSync(join(root, 'dist', 'web', 'index.html'))) return true;
  try {
    return readFileSync(join(root, STAMP_FILE), 'utf8').trim() !== inputsHash(root);
  } catch {
    return true;
  }
}

/** Runs `build()` and stamps its result; the old stamp goes first, so a failed build is never trusted. */
export function buildAndStamp(root, build) {
  rmSync(join(root, STAMP_FILE), { force: true });
  const hash = inputsHash(root);
  build();
  writeFileSync(join(root, STAMP_FILE), `${hash}\n`);
}
