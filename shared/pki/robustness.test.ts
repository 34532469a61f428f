// Whatever a user drops in, the workshop answers with data, never an exception: damaged copies
// of real inputs (bytes flipped, cut, spliced) go through every entry point.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkClientCredentials } from './credentials.ts';
import { opensslPki } from './fixtures.test.ts';
import { inspectSet } from './inspect-set.ts';
import { PROBLEMS } from './problems.ts';
import { readInput } from './read.ts';

const pki = opensslPki();
const binaries = ['client.der', 'client.p12', 'client-legacy.p12', 'client-key.der', 'client-sec1.der'].map((n) => pki.readBytes(n));
const texts = ['chain.pem', 'client.key', 'client-enc.key', 'server-rsa.key', 'chain.p7b', 'ed.pem'].map((n) => pki.read(n));

const damagedBytes = fc
  .tuple(fc.constantFrom(...binaries), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }), fc.option(fc.nat()))
  .map(([source, flips, cut]) => {
    const bytes = source.slice();
    for (const [at, xor] of flips) bytes[at % bytes.length]! ^= xor;
    return cut === null ? bytes : bytes.subarray(0, cut % bytes.length);
  });

const damagedText = fc
  .tuple(fc.constantFrom(...texts), fc.nat(), fc.nat(), fc.string({ maxLength: 8 }))
  .map(([source, from, length, insert]) => {
    const start = from % source.length;
    return source.slice(0, start) + insert + source.slice(start + (length % 40));
  });

function checkShape(problems: { code: string; severity: string; message: string }[]): void {
  for (const p of problems) {
    assert.ok(p.code in PROBLEMS, `unknown code ${p.code}`);
    assert.equal(p.severity, PROBLEMS[p.code as keyof typeof PROBLEMS].severity);
    assert.ok(p.message.length > 0);
  }
}

test('damaged binary inputs never throw', async () => {
  await fc.assert(
    fc.asyncProperty(damagedBytes, async (bytes) => {
      const read = await readInput(bytes, { password: 'p12 secret' });
      checkShape(read.problems);
      const report = await inspectSet([{ name: 'x', data: bytes }], { password: 'p12 secret' });
      checkShape(report.problems);
    }),
    { numRuns: 150 },
  );
});

test('damaged text inputs never throw, in any field', async () => {
  await fc.assert(
    fc.asyncProperty(damagedText, damagedText, async (certificate, key) => {
      const report = await checkClientCredentials(certificate, key, new Date('2027-01-01T00:00:00Z'));
      checkShape(report.problems);
      checkShape(report.notes);
      assert.equal(report.ok, !report.problems.some((p) => p.severity === 'error'));
    }),
    { numRuns: 150 },
  );
});

test('the problem catalogue holds every code the issue asks for, each explained', () => {
  const required = [
    'cert_expired',
    'cert_not_yet_valid',
    'chain_missing_intermediate',
    'chain_wrong_order',
    'chain_duplicate',
    'chain_leaf_only',
    'key_cert_mismatch',
    'eku_missing_client_auth',
    'expires_soon',
    'pem_malformed',
    'pem_mismatched_markers',
    'der_truncated',
    'p12_bad_password',
    'key_encrypted',
    'not_a_key',
    'not_a_certificate',
    'rotation_no_upcoming',
  ];
  for (const code of required) assert.ok(code in PROBLEMS, code);
  for (const [code, info] of Object.entries(PROBLEMS)) {
    assert.match(code, /^[a-z0-9_]+$/);
    assert.ok(['error', 'warning', 'info'].includes(info.severity), code);
    assert.ok(info.title.length > 3 && info.explanation.length > 40, code);
  }
});
