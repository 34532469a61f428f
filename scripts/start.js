// `npm start`: install what is missing, build the web app when its sources changed since the
// last build (scripts/build-stamp.js), then serve it with the lab.
import { spawn } from 'node:child_process';
import { ensureNodeModules, run, ROOT } from './ensure.js';
import { buildAndStamp, buildNeeded } from './build-stamp.js';

ensureNodeModules();
if (buildNeeded(ROOT)) {
  console.log('Building the web app…');
  buildAndStamp(ROOT, () => run('npx', ['vite', 'build', '--logLevel', 'warn']));
} else {
  console.log('The web app is up to date with its sources (dist/web); no build needed.');
}
const child = spawn(process.execPath, ['bin/harness.js', 'serve', ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
