// Makes a fresh checkout runnable: installs npm dependencies when they are missing and the
// Debian packages the tests drive (Chromium, openssl, nginx, Apache) when asked to.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export function ensureNodeModules() {
  const marker = join(ROOT, 'node_modules', '.package-lock.json');
  if (existsSync(marker)) return;
  console.log('Installing npm dependencies (npm ci)…');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

/** Debian package → the binary that proves it is installed. */
export const SYSTEM_PACKAGES = {
  chromium: '/usr/bin/chromium',
  openssl: '/usr/bin/openssl',
  'nginx-light': '/usr/sbin/nginx',
  apache2: '/usr/sbin/apache2',
  // A JUnit parser: the harness's JUnit XML is read back with it (server/transcripts/).
  'python3-junitparser': '/usr/lib/python3/dist-packages/junitparser/__init__.py',
  curl: '/usr/bin/curl',
};

export function ensureSystemPackages(names = Object.keys(SYSTEM_PACKAGES)) {
  const missing = names.filter((n) => !existsSync(SYSTEM_PACKAGES[n]));
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync('which', ['apt-get']).status === 0;
  if (!isRoot || !hasApt) {
    console.error(`The tests need these Debian packages: ${missing.join(' ')}\nInstall them with:\n  sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`);
    process.exit(1);
  }
  console.log(`Installing Debian packages: ${missing.join(' ')}…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], env);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], env);
  // The Debian packages start system-wide services; the tests run their own instances.
  spawnSync('sh', ['-c', 'service nginx stop; service apache2 stop'], { stdio: 'ignore' });
}

export function run(cmd, args, env = process.env) {
  execFileSync(cmd, args, { stdio: 'inherit', cwd: ROOT, env });
}
