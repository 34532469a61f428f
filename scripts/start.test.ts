// `npm start` as a user runs it: a build only when the app's sources changed, and no npm
// notice that reads like a task for the user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAndStamp, buildNeeded, inputsHash } from './build-stamp.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Runs `node scripts/start.js` until the relay prints its URL, then stops it; the output and the time to the URL. */
function start(): Promise<{ out: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['scripts/start.js', '--port', '0', '--no-lab', '--quiet'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    const read = (d: Buffer) => {
      out += d;
      if (/Open: http/.test(out) && child.exitCode === null) {
        const ms = performance.now() - t0;
        child.once('exit', () => resolve({ out, ms }));
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', () => {
      clearTimeout(timer);
      if (!/Open: http/.test(out)) reject(new Error(`start.js exited before serving:\n${out}`));
    });
  });
}

test('npm start builds the app only when its sources changed: the second start serves at once', { timeout: 600_000 }, async () => {
  await start(); // builds when dist/web is missing or stale
  const again = await start();
  assert.doesNotMatch(again.out, /Building the web app/);
  assert.match(again.out, /up to date with its sources/);
});

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'harness-stamp-'));
  mkdirSync(join(root, 'web', 'src'), { recursive: true });
  mkdirSync(join(root, 'shared'), { recursive: true });
  mkdirSync(join(root, 'dist', 'web'), { recursive: true });
  writeFileSync(join(root, 'web', 'src', 'App.svelte'), '<h1>hi</h1>\n');
  writeFileSync(join(root, 'shared', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(root, 'shared', 'a.test.ts'), 'test\n');
  writeFileSync(join(root, 'vite.config.ts'), 'export default {};\n');
  writeFileSync(join(root, 'package-lock.json'), '{}\n');
  return root;
}

test('the build stamp: content of every input counts; mtimes, tests and a failed build do not make it current', () => {
  const root = tree();
  assert.equal(buildNeeded(root), true, 'never built');
  buildAndStamp(root, () => writeFileSync(join(root, 'dist', 'web', 'index.html'), 'built'));
  assert.equal(buildNeeded(root), false);
  const old = new Date(Date.now() - 86_400_000);
  utimesSync(join(root, 'shared', 'a.ts'), old, old);
  writeFileSync(join(root, 'shared', 'a.test.ts'), 'another test\n');
  assert.equal(buildNeeded(root), false, 'touched or a test edited: same sources');
  for (const [file, text] of [['shared/a.ts', 'export const a = 2;\n'], ['web/src/App.svelte', '<h1>ho</h1>\n'], ['vite.config.ts', '//\n'], ['package-lock.json', '{ }\n'], ['web/src/New.svelte', 'new\n']] as const) {
    const before = inputsHash(root);
    writeFileSync(join(root, file), text);
    assert.notEqual(inputsHash(root), before, file);
    assert.equal(buildNeeded(root), true, file);
    buildAndStamp(root, () => {});
  }
  assert.throws(() => buildAndStamp(root, () => { writeFileSync(join(root, 'shared', 'a.ts'), 'half\n'); throw new Error('build failed'); }));
  assert.equal(buildNeeded(root), true, 'a failed build leaves no stamp');
});

test('npm ci prints no install-scripts notice: the one install script (esbuild) is approved in package.json', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harness-ci-'));
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(ROOT, f), join(dir, f));
  const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
    execFile('npm', ['ci', '--dry-run', '--no-audit', '--no-fund'], { cwd: dir, timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: stdout + stderr }));
  });
  assert.equal(r.code, 0, r.out);
  assert.doesNotMatch(r.out, /install-scripts|allowScripts/);
});
