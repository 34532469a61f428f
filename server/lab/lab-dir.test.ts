// One lab per user and machine: the directory every command agrees on, made once even when
// two processes start at the same moment, and shared by `serve` and `harness run`.
import { rfc4514FromDer } from '../../shared/pki/names.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultLabDir, readOrCreate } from './lab-dir.ts';
import { loadOrCreateLabPki } from './lab-pki.ts';
import { startRelay } from '../relay.ts';
import { generateKeyPair, createCsr, exportPkcs8Pem } from '../../shared/pki/issue.ts';

const BIN = fileURLToPath(new URL('../../bin/harness.js', import.meta.url));

test('defaultLabDir: HARNESS_LAB_DIR first, then the platform per-user data directory', () => {
  const cases: { env: NodeJS.ProcessEnv; platform: NodeJS.Platform; want: string }[] = [
    { env: { HARNESS_LAB_DIR: '/srv/lab' }, platform: 'linux', want: '/srv/lab' },
    { env: {}, platform: 'linux', want: '/home/u/.local/share/mtls-harness/lab' },
    { env: { XDG_DATA_HOME: '/data' }, platform: 'linux', want: '/data/mtls-harness/lab' },
    { env: {}, platform: 'darwin', want: '/home/u/Library/Application Support/mtls-harness/lab' },
  ];
  for (const c of cases) assert.equal(defaultLabDir(c.env, c.platform, '/home/u'), c.want, JSON.stringify(c));
});

test('readOrCreate: racing creators all get the first one written; an unusable file is replaced', async () => {
  const dir = join(await mkdtemp(join(tmpdir(), 'lab-race-')), 'lab');
  let made = 0;
  const make = async () => { made += 1; await new Promise((r) => setTimeout(r, 5)); return `content ${made}`; };
  const all = await Promise.all(Array.from({ length: 8 }, () => readOrCreate(dir, 'f.json', make)));
  assert.equal(new Set(all).size, 1, 'every caller sees the same content');
  assert.equal(await readFile(join(dir, 'f.json'), 'utf8'), all[0]);
  assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.new-')), [], 'no temporary files left');
  const replaced = await readOrCreate(dir, 'f.json', async () => 'fresh', (t) => t === 'fresh');
  assert.equal(replaced, 'fresh');
});

test('two labs started at once in one directory share one CA, named with the lab id', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lab-pki-'));
  const [a, b] = await Promise.all([loadOrCreateLabPki(dir), loadOrCreateLabPki(dir)]);
  assert.equal(a.clientCaPem, b.clientCaPem);
  assert.match(a.labId, /^[0-9a-f]{8}$/);
  assert.equal(rfc4514FromDer(new Uint8Array(a.clientCa.certificate.subjectName.toArrayBuffer())), `CN=Harness Lab Client CA ${a.labId}, O=mTLS Harness Lab`);
  assert.equal(await readFile(join(dir, 'client-ca.pem'), 'utf8'), a.clientCaPem, 'the public CA copy is there for people to use');
  const other = await loadOrCreateLabPki(await mkdtemp(join(tmpdir(), 'lab-pki-')));
  assert.notEqual(other.clientCa.certificate.subject, a.clientCa.certificate.subject, 'two labs can be told apart by name');
});

test('a certificate the app\'s lab issued passes `harness run` of a lab scenario (same lab by default)', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'lab-home-'));
  const env = { ...process.env, HARNESS_LAB_DIR: '', XDG_DATA_HOME: join(home, 'data') };
  // The relay started the way `harness serve` starts it: no dataDir given.
  const saved = { HARNESS_LAB_DIR: process.env.HARNESS_LAB_DIR, XDG_DATA_HOME: process.env.XDG_DATA_HOME };
  delete process.env.HARNESS_LAB_DIR;
  process.env.XDG_DATA_HOME = env.XDG_DATA_HOME;
  const relay = await startRelay({ port: 0, quiet: true, webRoot: home });
  t.after(async () => {
    await relay.close();
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  });
  const keys = await generateKeyPair('P-256', true);
  const signed = await relay.lab!.signCsr(await createCsr(keys, 'CN=lab-client, O=mTLS Harness Lab'));
  await writeFile(join(home, 'client.pem'), signed.certificatePem);
  await writeFile(join(home, 'client.key'), await exportPkcs8Pem(keys.privateKey));
  const scenario = {
    version: 1, name: 'saved from the app', kind: 'probe',
    probe: { url: 'lab:mtls', client: { certificatePem: { $secret: 'cert' }, privateKeyPem: { $secret: 'key' } } },
    secrets: { cert: { file: 'client.pem' }, key: { file: 'client.key' } },
    expect: { outcome: 'pass', diagnoses: [] },
  };
  await writeFile(join(home, 'saved.json'), JSON.stringify(scenario));
  const { HARNESS_LAB_DIR: _unset, ...childEnv } = env;
  const r = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile(process.execPath, [BIN, 'run', join(home, 'saved.json'), '--check'], { env: childEnv, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
    });
  });
  assert.equal(r.code, 0, r.out);
});
