#!/usr/bin/env node
// Entry point for `harness` / `npx harness`: loads the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
// Output piped into `head` and the like: stop quietly when the reader goes away.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
const { main, terminalAsk } = await import('../server/cli.ts');
const code = await main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  // Questions (consent for a scenario's secrets) only to a person at a terminal.
  ...(process.stdin.isTTY ? { ask: terminalAsk } : {}),
});
process.exitCode = code;
