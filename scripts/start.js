// `npm start`: install what is missing, build the web app, then serve it with the lab.
import { spawn } from 'node:child_process';
import { ensureNodeModules, run, ROOT } from './ensure.js';

ensureNodeModules();
console.log('Building the web app…');
run('npx', ['vite', 'build', '--logLevel', 'warn']);
const child = spawn(process.execPath, ['bin/harness.js', 'serve', ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
