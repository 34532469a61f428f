// The harness's own errors share one base: a stable `code`, `name` from the class, and
// `instanceof` to tell them apart. The scan keeps it so for classes added later.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HarnessError } from './errors.ts';
import { ProtocolError } from './protocol/index.ts';
import { CheckInputError } from './check/request.ts';
import { ScenarioError } from './flows/scenario.ts';
import { CsrError } from './pki/issue.ts';
import { CertificateError } from './pki/inspect.ts';
import { DerError } from './pki/der.ts';
import { KeyError } from './pki/keys.ts';
import { PbeError } from './pki/pbe.ts';
import { Pkcs12Error } from './pki/pkcs12.ts';
import { ShareLinkError } from './transcript/share-link.ts';
import { TranscriptError } from './transcript/transcript.ts';

const cases: { err: HarnessError; name: string; code: string; message: string }[] = [
  { err: new ProtocolError('bad_message', 'no type', 'r1'), name: 'ProtocolError', code: 'bad_message', message: 'no type' },
  { err: new CheckInputError('url', 'must be https'), name: 'CheckInputError', code: 'check_input_invalid', message: 'url: must be https' },
  { err: new ScenarioError('name must be a non-empty string'), name: 'ScenarioError', code: 'scenario_invalid', message: 'name must be a non-empty string' },
  { err: new CsrError('not a CSR'), name: 'CsrError', code: 'csr_invalid', message: 'not a CSR' },
  { err: new CertificateError('cannot be parsed'), name: 'CertificateError', code: 'cert_malformed', message: 'cannot be parsed' },
  { err: new DerError('der_truncated', 'cut short'), name: 'DerError', code: 'der_truncated', message: 'cut short' },
  { err: new KeyError('key_malformed', 'bad key'), name: 'KeyError', code: 'key_malformed', message: 'bad key' },
  { err: new PbeError('bad_password', 'wrong'), name: 'PbeError', code: 'bad_password', message: 'wrong' },
  { err: new Pkcs12Error('p12_unsupported', 'RC4'), name: 'Pkcs12Error', code: 'p12_unsupported', message: 'RC4' },
  { err: new ShareLinkError('too long'), name: 'ShareLinkError', code: 'share_link_invalid', message: 'too long' },
  { err: new TranscriptError('events[3]', 'unknown type'), name: 'TranscriptError', code: 'transcript_invalid', message: 'events[3]: unknown type' },
];

test('each shared error is a HarnessError with its code, its class name and its message', () => {
  for (const c of cases) {
    assert.ok(c.err instanceof HarnessError, c.name);
    assert.ok(c.err instanceof Error, c.name);
    assert.equal(c.err.name, c.name);
    assert.equal(c.err.code, c.code, c.name);
    assert.equal(c.err.message, c.message, c.name);
    assert.match(String(c.err), new RegExp(`^${c.name}: `));
  }
  assert.equal((cases[0]!.err as ProtocolError).id, 'r1');
});

test('the cause is kept', () => {
  const cause = new Error('low level');
  assert.equal(new HarnessError('x', 'high level', { cause }).cause, cause);
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

test('no error class in shared/ or server/ bypasses the base', () => {
  const root = new URL('..', import.meta.url).pathname;
  const files = [...sources(join(root, 'shared')), ...sources(join(root, 'server'))];
  assert.ok(files.length > 50);
  const offenders = files.filter((f) => !f.endsWith(join('shared', 'errors.ts')) && /\bextends Error\b/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(offenders, []);
});
