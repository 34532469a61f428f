// Proves the packed package works outside the checkout, as a partner installs it:
//   npm pack → npm install -g <tarball> --prefix <temp> → <temp>/bin/harness
// then, from a folder holding only certificate files: --version, a probe of a local mTLS server
// with a PKCS#12 client certificate (relative paths), and `serve` answering with the built app.
// Usage: node scripts/install-check.js   (exit 0 when every check passed; each step is printed)
// Needs the npm registry (the package's dependencies are installed) and openssl.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './ensure.js';

const work = mkdtempSync(join(tmpdir(), 'harness-install-'));
const prefix = join(work, 'prefix');
const certs = join(work, 'certs');
const bin = join(prefix, 'bin', process.platform === 'win32' ? 'harness.cmd' : 'harness');

function step(what, fn) {
  const t0 = performance.now();
  const out = fn();
  console.log(`ok  ${what}  (${Math.round(performance.now() - t0)} ms)`);
  return out;
}

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

/** Runs the installed harness; resolves with its exit code and output. */
function harness(args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { cwd: certs, env: { ...process.env, ...opts.env } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
    opts.onSpawn?.(child, () => out);
  });
}

function fail(message) {
  console.error(`FAILED: ${message}`);
  process.exitCode = 1;
}

try {
  const tarball = step('npm pack (builds dist/web first)', () => {
    const name = sh('npm', ['pack', '--silent', '--pack-destination', work], { cwd: ROOT }).trim().split('\n').pop();
    return join(work, name);
  });
  // --allow-scripts: npm 11 asks before running a dependency's install script (esbuild's).
  const installed = step(`npm install -g ${tarball} --prefix ${prefix}`, () => spawnSync('npm', ['install', '-g', tarball, '--prefix', prefix, '--no-audit', '--no-fund', '--allow-scripts=esbuild'], { encoding: 'utf8' }));
  if (installed.status !== 0) throw new Error(`npm install -g failed:\n${installed.stdout}${installed.stderr}`);
  if (/install-scripts/.test(installed.stderr)) fail(`npm install -g printed a notice for the user:\n${installed.stderr}`);

  // A partner's folder: a CA, a server certificate and a PKCS#12 client certificate.
  step('openssl: a CA, a server certificate and a client certificate in a PKCS#12 file', () => {
    sh('mkdir', ['-p', certs]);
    const ossl = (...args) => sh('openssl', args, { cwd: certs });
    ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=Install Check CA', '-days', '2');
    for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'], ['client', 'extendedKeyUsage=clientAuth']]) {
      writeFileSync(join(certs, `${name}.ext`), `${ext}\n`);
      ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=install-check-${name}`);
      ossl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
    }
    writeFileSync(join(certs, 'p12.pass'), 'install check pass\n');
    ossl('pkcs12', '-export', '-in', 'client.pem', '-inkey', 'client.key', '-passout', 'file:p12.pass', '-out', 'client.p12');
  });

  const version = await harness(['--version']);
  const want = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  if (version.code !== 0 || version.out.trim() !== want) fail(`harness --version printed ${JSON.stringify(version.out)} (exit ${version.code}), expected ${want}`);
  else console.log(`ok  harness --version → ${want}`);

  const server = createServer({ key: readFileSync(join(certs, 'server.key')), cert: readFileSync(join(certs, 'server.pem')), ca: readFileSync(join(certs, 'ca.pem')), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    res.end(`hello ${req.socket.getPeerCertificate().subject.CN}\n`);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `https://127.0.0.1:${server.address().port}/`;
  const probe = await harness(['probe', url, '--cert', 'client.p12', '--password-file', 'p12.pass', '--ca', 'ca.pem']);
  server.close();
  if (probe.code !== 0 || !/^PASSED/m.test(probe.out) || !/HTTP 200/.test(probe.out)) fail(`probe ${url} with client.p12:\n${probe.out}`);
  else console.log(`ok  harness probe ${url} --cert client.p12 --password-file p12.pass --ca ca.pem → PASSED`);

  const served = await harness(['serve', '--port', '0', '--no-lab', '--quiet'], {
    onSpawn: (child, out) => {
      const timer = setInterval(async () => {
        const m = out().match(/Open: (http:\/\/[^/]+)\//);
        if (!m) return;
        clearInterval(timer);
        const page = await fetch(`${m[1]}/`).then(async (r) => `${r.status} ${await r.text()}`, (e) => String(e));
        if (!/^200 [\s\S]*<div id="app"|^200 [\s\S]*<script/.test(page)) fail(`serve: GET / answered ${page.slice(0, 200)}`);
        else console.log('ok  harness serve answers with the built app');
        child.kill('SIGTERM');
      }, 100);
      setTimeout(() => {
        clearInterval(timer);
        child.kill('SIGKILL');
      }, 60_000);
    },
  });
  if (!/Open: http/.test(served.out)) fail(`serve did not start:\n${served.out}`);
} catch (err) {
  fail(`${err.message}${err.stderr ? `\n${err.stderr}` : ''}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (!process.exitCode) console.log('The installed harness works outside the checkout.');
