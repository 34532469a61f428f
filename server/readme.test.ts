// The README's sample output is what the command prints: each block marked
// `<!-- output of: harness ARGS -->` is compared, line by line, with a real run of that command
// against the built-in lab. Only what changes from run to run (ports, timings, the lab CA's id,
// the body size) or with the OpenSSL underneath (the key exchange group: Node 24's OpenSSL 3.5
// offers X25519MLKEM768 first, Node 20's x25519) is normalised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { harness } from './testing/cli.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function normalise(text: string): string[] {
  return text
    .replace(/(localhost|127\.0\.0\.1):\d+/g, '$1:PORT')
    .replace(/\d+(\.\d+)? ms\b/g, 'N ms')
    .replace(/Harness Lab (Client|Regional) CA (EMEA )?[0-9a-f]{8}/g, (_m, kind: string, region: string | undefined) => `Harness Lab ${kind} CA ${region ?? ""}ID`)
    .replace(/\d+ bytes/g, 'N bytes')
    .replace(/(TLS_[A-Z0-9_]+ · )[A-Za-z0-9_-]+( · )/g, '$1GROUP$2')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '');
}

test('every README sample output marked "output of" is what the command prints today', async () => {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const samples = [...readme.matchAll(/<!-- output of: harness ([^>]+?) -->\n```[a-z]*\n([\s\S]*?)```/g)];
  assert.ok(samples.length >= 1, 'the README marks its sample output');
  const labDir = await mkdtemp(join(tmpdir(), 'harness-readme-lab-'));
  for (const [, command, sample] of samples) {
    const out = (await harness(command!.split(' '), { HARNESS_LAB_DIR: labDir })).stdout;
    assert.deepEqual(normalise(sample!), normalise(out), `README sample of "harness ${command}"`);
  }
});
