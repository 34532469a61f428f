// The `harness` command as a user runs it: exit codes, JSON events, errors on bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  assert.equal(tls.step.details.acceptableCAs.length, 1);
  assert.match(tls.step.details.acceptableCAs[0], /^CN=Harness Lab Client CA [0-9a-f]{8}, O=mTLS Harness Lab$/);
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
    [['probe', 'https://x/', '--cert', 'a.pem'], /--cert and --key go together/],
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

test('unreadable input exits 2 naming the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'harness-cli-'));
  await writeFile(join(dir, 'cert.pem'), 'not a cert');
  const r = await harness(['probe', 'https://localhost:1/', '--cert', join(dir, 'cert.pem'), '--key', join(dir, 'missing.key')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot read key ".*missing\.key": ENOENT/);
});
