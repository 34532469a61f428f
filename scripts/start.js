// `npm start`: install what is missing, build the web app when its sources changed since the
// last build (scripts/build-stamp.js), then serve it with the lab.
// HARNESS_NO_BUILD=1 skips the build (an image that built dist/ already).
//
// npm runs this under `sh -c`, and a SIGTERM to npm reaches that shell, which dies without
// passing it on: so besides forwarding SIGTERM/SIGINT, this script stops the relay when its own
// parent goes away. The relay gets an IPC channel too, so it stops if this script is killed.
import { spawn } from 'node:child_process';
import { ensureNodeModules, run, ROOT } from './ensure.js';
import { buildAndStamp, buildNeeded } from './build-stamp.js';

ensureNodeModules();
if (process.env.HARNESS_NO_BUILD === '1') {
  console.log('HARNESS_NO_BUILD=1: serving the web app as built (dist/web).');
} else if (buildNeeded(ROOT)) {
  console.log('Building the web app…');
  buildAndStamp(ROOT, () => run('npx', ['vite', 'build', '--logLevel', 'warn']));
} else {
  console.log('The web app is up to date with its sources (dist/web); no build needed.');
}
// Its own process group: a Ctrl+C at the terminal reaches the relay once (forwarded from here),
// not twice (a second signal cancels the runs in flight at once).
const child = spawn(process.execPath, ['bin/harness.js', 'serve', ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  detached: process.platform !== 'win32',
});
const forward = (sig) => {
  if (child.exitCode === null && child.signalCode === null) child.kill(sig);
};
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => forward(sig === 'SIGHUP' ? 'SIGTERM' : sig));
const parent = process.ppid;
const orphaned = setInterval(() => {
  if (process.ppid !== parent) {
    clearInterval(orphaned);
    forward('SIGTERM');
  }
}, 500);
orphaned.unref();
child.on('exit', (code, signal) => {
  clearInterval(orphaned);
  process.exit(code ?? (signal ? 1 : 0));
});
