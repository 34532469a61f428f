// `npm test`: every check in order — types, unit and integration tests against real peers,
// then the browser tests in Chromium — and one closing line with the totals.
// `node scripts/test.js unit` (or check, build, e2e) runs only those stages.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ensureNodeModules, ensureSystemPackages, ROOT } from './ensure.js';

ensureNodeModules();
ensureSystemPackages();

const only = new Set(process.argv.slice(2));
const want = (name) => only.size === 0 || only.has(name);

/** Node 20's test runner takes no globs: list the test files ourselves. */
function testFiles(dir) {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : testFiles(path);
    return e.name.endsWith('.test.ts') ? [relative(ROOT, join(ROOT, path))] : [];
  });
}

const totals = { passed: 0, failed: 0 };

function stage(name, cmd, args, count) {
  console.log(`\n=== ${name}`);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FORCE_COLOR: '0' } });
    let out = '';
    child.stdout.on('data', (d) => { process.stdout.write(d); out += d; });
    child.on('exit', (code) => {
      const { passed, failed } = count ? count(out) : { passed: 0, failed: 0 };
      totals.passed += passed;
      // A stage that fails without a failed test to show for it (type check, build, a runner
      // that crashed) counts as one failure: the closing line never says 0 failed for a failed run.
      totals.failed += code !== 0 && failed === 0 ? 1 : failed;
      if (code !== 0) console.log(`=== ${name} failed (exit ${code})`);
      resolve(code === 0);
    });
  });
}

const nodeCount = (out, word) => Number(out.match(new RegExp(`^(?:#|ℹ) ${word} (\\d+)`, 'm'))?.[1] ?? 0);
const nodeCounts = (out) => ({
  passed: nodeCount(out, 'pass'),
  failed: nodeCount(out, 'fail') + nodeCount(out, 'cancelled') + nodeCount(out, 'skipped') + nodeCount(out, 'todo'),
});
const playwrightCounts = (out) => ({
  passed: Number(out.match(/(\d+) passed/)?.[1] ?? 0),
  failed: Number(out.match(/(\d+) failed/)?.[1] ?? 0) + Number(out.match(/(\d+) skipped/)?.[1] ?? 0) + Number(out.match(/(\d+) flaky/)?.[1] ?? 0),
});

const results = [];
if (want('check')) results.push(await stage('type check (tsc + svelte-check)', 'npm', ['run', '--silent', 'check']));
if (want('unit')) {
  results.push(await stage('unit and integration tests (node:test)', process.execPath, [
    '--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2',
    ...testFiles('shared'), ...testFiles('server'), ...testFiles('web/src'),
  ], nodeCounts));
  // One at a time: `npm start` and `npm pack` both build dist/web, and a build empties it first,
  // so side by side one could pack or serve a half-written app (seen on a fresh clone).
  results.push(await stage('packaging and start-up tests (node:test, one at a time)', process.execPath, [
    '--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...testFiles('scripts'),
  ], nodeCounts));
}
if (want('build') || want('e2e')) results.push(await stage('build', 'npx', ['vite', 'build', '--logLevel', 'warn']));
if (want('e2e')) results.push(await stage('browser tests (Playwright + Chromium)', 'npx', ['playwright', 'test'], playwrightCounts));

const ok = results.every(Boolean);
console.log(`\n${ok ? 'All checks passed.' : 'Some checks FAILED.'}`);
console.log(`total: ${totals.passed} passed, ${totals.failed} failed`);
process.exit(ok && totals.failed === 0 ? 0 : 1);
