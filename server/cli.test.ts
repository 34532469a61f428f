// The `harness` command as a user runs it: exit codes, JSON events, errors on bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { startLab } from './lab/lab.ts';
import { createCsr, exportPkcs8Pem, generateKeyPair } from '../shared/pki/issue.ts';

const BIN = fileURLToPath(new URL('../bin/harness.js', import.meta.url));

function harness(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const labDir = mkdtemp(join(tmpdir(), 'harness-cli-lab-'));

test('probe lab --lab-cert --json: one JSON event a line, last is a passing run.finished, exit 0', async () => {
  const r = await harness(['probe', 'lab', '--lab-cert', '--json'], { HARNESS_LAB_DIR: await labDir });
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(events[0].type, 'run.started');
  const last = events.at(-1);
  assert.equal(last.type, 'run.finished');
  assert.equal(last.outcome, 'pass');
  const tls = events.findLast((e: { type: string; step?: { id: string } }) => e.type === 'step' && e.step?.id === 'tls');
  assert.equal(tls.step.details.certificateRequested, true);
  // The lab's listener trusts its client CA and, for the rotation target, its regional CA.
  assert.equal(tls.step.details.acceptableCAs.length, 2);
  assert.match(tls.step.details.acceptableCAs[0], /^CN=Harness Lab Client CA [0-9a-f]{8}, O=mTLS Harness Lab$/);
  assert.match(tls.step.details.acceptableCAs[1], /^CN=Harness Lab Regional CA EMEA [0-9a-f]{8}, O=mTLS Harness Lab$/);
  assert.ok(!r.stdout.includes('PRIVATE KEY'), 'the generated key is never printed');
});

test('probe lab without a certificate: exit 1 and the diagnosis with its fix', async () => {
  const r = await harness(['probe', 'lab'], { HARNESS_LAB_DIR: await labDir });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /client_cert_required/);
  assert.match(r.stdout, /fix \(your side\)/);
  assert.match(r.stdout, /FAILED/);
});

test('usage errors exit 2 with a specific message', async () => {
  for (const [args, want] of [
    [['probe'], /exactly one URL/],
    [['probe', 'https://x/', '--key', 'a.key'], /--key needs --cert/],
    [['probe', 'lab', '--lab-cert', '--cert', 'a.p12'], /--lab-cert and --cert exclude each other/],
    [['probe', 'https://x/', '--cert', 'a.p12', '--password', 'x', '--password-env', 'P'], /give one of --password, --password-file and --password-env/],
    [['probe', 'https://x/', '--method', 'TRACE'], /not supported/],
    [['probe', 'https://x/', '-H', 'no colon'], /is not "Name: value"/],
    [['probe', 'https://x/', '--bogus'], /Unknown option/],
    [['serve', '--port', 'abc'], /must be a port number/],
    [['serve', '--limit', 'runTimeoutMs=-1'], /NAME=NUMBER/],
    [['serve', '--limit', 'nope=5', '--port', '0'], /limits\.nope is not a known limit/],
    [['frobnicate'], /unknown command/],
  ] as const) {
    const r = await harness([...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, want, args.join(' '));
  }
});

test('a missing, empty or unusable certificate or key file is bad input: exit 2 naming the file, no run', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'harness-cli-'));
  const lab = await labClientFiles();
  const file = async (name: string, text: string) => {
    await writeFile(join(dir, name), text);
    return join(dir, name);
  };
  const empty = await file('empty.pem', '');
  const blank = await file('blank.key', '  \n\n');
  const garbage = await file('garbage.pem', 'not a cert\n');
  for (const [args, want] of [
    [['--cert', lab.cert, '--key', join(dir, 'missing.key')], /cannot read key ".*missing\.key": ENOENT/],
    [['--cert', empty, '--key', lab.key], /certificate ".*empty\.pem" is empty/],
    [['--cert', lab.cert, '--key', blank], /key ".*blank\.key" is empty/],
    [['--cert', dir, '--key', lab.key], /cannot read certificate ".*": EISDIR/],
    [['--cert', garbage, '--key', lab.key], /certificate file ".*garbage\.pem" holds no certificate: input_unrecognized/],
    [['--cert', lab.key, '--key', lab.key], /certificate file ".*client\.key" holds no certificate: not_a_certificate/],
    [['--cert', lab.cert, '--key', lab.cert], /key file ".*client\.pem" holds no usable private key: not_a_key/],
    [['--cert', lab.cert], /--cert needs --key/],
  ] as const) {
    const r = await harness(['probe', 'lab', ...args], { HARNESS_LAB_DIR: await labDir });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, want, args.join(' '));
    assert.equal(r.stdout, '', 'no run started');
  }
});

/** A client certificate and key the lab in `labDir` trusts, as PEM files and as a PKCS#12 file. */
const labClientFiles = (() => {
  let made: Promise<{ dir: string; cert: string; key: string; p12: string; encryptedKey: string; password: string }> | undefined;
  return () => (made ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'harness-cli-p12-'));
    const lab = await startLab({ dataDir: await labDir });
    try {
      const keys = await generateKeyPair('P-256', true);
      const signed = await lab.signCsr(await createCsr(keys, 'CN=p12-client, O=Partner'));
      await writeFile(join(dir, 'client.pem'), signed.certificatePem);
      await writeFile(join(dir, 'client.key'), await exportPkcs8Pem(keys.privateKey));
    } finally {
      await lab.close();
    }
    const password = 'pkcs12 pass phrase 7';
    await writeFile(join(dir, 'pass.txt'), `${password}\n`);
    execFileSync('openssl', ['pkcs12', '-export', '-in', 'client.pem', '-inkey', 'client.key', '-passout', 'file:pass.txt', '-out', 'client.p12'], { cwd: dir });
    execFileSync('openssl', ['pkcs8', '-topk8', '-in', 'client.key', '-v2', 'aes-256-cbc', '-passout', 'file:pass.txt', '-out', 'client-enc.key'], { cwd: dir });
    return { dir, cert: join(dir, 'client.pem'), key: join(dir, 'client.key'), p12: join(dir, 'client.p12'), encryptedKey: join(dir, 'client-enc.key'), password };
  })());
})();

test('probe --cert x.p12: the PKCS#12 file opens with the password from a flag, a file or the environment', async () => {
  const f = await labClientFiles();
  const env = { HARNESS_LAB_DIR: await labDir, P12_PASS: f.password };
  for (const args of [
    ['--cert', f.p12, '--password', f.password],
    ['--cert', f.p12, '--password-file', join(f.dir, 'pass.txt')],
    ['--cert', f.p12, '--password-env', 'P12_PASS'],
    ['--cert', f.cert, '--key', f.encryptedKey, '--password-env', 'P12_PASS'],
  ]) {
    const r = await harness(['probe', 'lab', ...args], env);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /Inputs +CN=p12-client, O=Partner · P-256 · key matches certificate/);
    assert.match(r.stdout, /^PASSED/m);
    assert.ok(!`${r.stdout}${r.stderr}`.includes(f.password), 'the password is never printed');
  }
});

test('probe --cert x.p12 with a wrong or no password: exit 2 naming the file, the password not echoed', async () => {
  const f = await labClientFiles();
  const wrong = 'not the pass phrase 8';
  for (const [args, want] of [
    [['--password', wrong], /cannot open PKCS#12 file ".*client\.p12" \(wrong password\?\): p12_bad_password/],
    [[], /cannot open PKCS#12 file ".*client\.p12" \(give --password-file F.*\): p12_password_required/],
    [['--password-env', 'UNSET_HARNESS_PASS'], /--password-env UNSET_HARNESS_PASS: the environment variable UNSET_HARNESS_PASS is not set/],
    [['--key', f.key, '--password', f.password], /holds its own private key; leave out --key/],
  ] as const) {
    const r = await harness(['probe', 'lab', '--cert', f.p12, ...args], { HARNESS_LAB_DIR: await labDir });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, want);
    assert.ok(!r.stderr.includes(wrong) && !r.stderr.includes(f.password), 'no password in the message');
  }
});

test('probe: each step is printed once, in the order the steps began (the TLS step a server revises too)', async () => {
  const r = await harness(['probe', 'lab'], { HARNESS_LAB_DIR: await labDir });
  assert.equal(r.code, 1);
  const titles = r.stdout.split('\n').filter((l) => /^[✓✗!–…] /.test(l)).map((l) => l.slice(10).split(/ {2,}/)[0]);
  assert.deepEqual(titles, ['Inputs', 'DNS', 'TCP', 'TLS 1.3', 'Request', 'HTTP 400', 'Verdict: fail']);
  assert.match(r.stdout, /✗ FAIL    TLS 1\.3 +The server requires a client certificate/);
});
