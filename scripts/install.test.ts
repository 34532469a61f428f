// The package as a partner installs it, away from the checkout: scripts/install-check.js packs
// it, installs it globally into a temporary prefix and runs the installed `harness` (--version,
// a probe of a local mTLS server with a PKCS#12 certificate, serve). It takes about a minute and
// a half and needs the npm registry, so it is a script this test runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./install-check.js', import.meta.url));

test('npm pack, then npm install -g into a temporary prefix: the installed harness runs, probes and serves', { timeout: 600_000 }, async () => {
  const r = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile(process.execPath, [SCRIPT], { timeout: 590_000 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr }));
  });
  assert.equal(r.code, 0, r.out);
  for (const want of [/^ok {2}harness --version/m, /^ok {2}harness probe .* --cert client\.p12 .*→ PASSED$/m, /^ok {2}harness serve answers with the built app$/m]) assert.match(r.out, want);
});
