// The lab's stable ports: slides and lesson texts name them, so the lab takes them when it can
// and says so when it cannot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLab } from './lab.ts';
import { labPorts } from './listen.ts';

const BIN = fileURLToPath(new URL('../../bin/harness.js', import.meta.url));

/** A first port whose next two are free too (held for a moment, then released). */
async function freeRun(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = 20_000 + Math.floor(Math.random() * 30_000);
    const held: net.Server[] = [];
    try {
      for (const p of labPorts(first)) {
        const s = net.createServer();
        await new Promise<void>((ok, fail) => { s.once('error', fail); s.listen(p, '127.0.0.1', ok); });
        held.push(s);
      }
      return first;
    } catch {
      // taken: try another run of three
    } finally {
      await Promise.all(held.map((s) => new Promise((ok) => s.close(ok))));
    }
  }
  throw new Error('no three consecutive free ports');
}

const portsOf = (urls: string[]) => [...new Set(urls.map((u) => Number(new URL(u).port)))].sort((a, b) => a - b);

test('the lab listens on its three stable ports; a second lab on the same ports takes free ones and says which', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lab-ports-'));
  const first = await freeRun();
  const lab = await startLab({ dataDir: dir, port: first });
  const taken: Array<[number, number]> = [];
  const second = await startLab({ dataDir: dir, port: first, onPortTaken: (wanted, got) => taken.push([wanted, got]) });
  try {
    // The targets are the mTLS port and the token service's; the login page is the third.
    assert.deepEqual(portsOf(lab.info.targets.map((t) => t.url)), labPorts(first).slice(0, 2));
    assert.deepEqual(taken.map(([wanted]) => wanted), labPorts(first), 'each stable port in use is reported');
    const elsewhere = portsOf(second.info.targets.map((t) => t.url));
    assert.equal(elsewhere.filter((p) => labPorts(first).includes(p)).length, 0, 'the second lab is on other ports');
    assert.deepEqual(elsewhere, taken.slice(0, 2).map(([, got]) => got).sort((a, b) => a - b));
  } finally {
    await Promise.all([lab.close(), second.close()]);
    await rm(dir, { recursive: true, force: true });
  }
});

function serve(args: string[], dir: string): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HARNESS_LAB_DIR: dir } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += String(d);
    if (/Ctrl\+C stops/.test(out)) child.kill('SIGTERM');
  });
  child.stderr.on('data', (d) => { err += String(d); });
  return new Promise((ok) => child.once('exit', (code) => ok({ code, out, err })));
}

test('harness serve: --lab-port N puts the lab on N and the next two; a taken one is named; a bad one is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lab-ports-'));
  try {
    const first = await freeRun();
    const fine = await serve(['--lab-port', String(first)], dir);
    assert.match(fine.out, new RegExp(`Lab: {2}Lab mTLS target at https://localhost:${first}/orders`));
    assert.doesNotMatch(fine.out, /Note: a lab port/);

    const blocker = net.createServer();
    await new Promise<void>((ok) => blocker.listen(first + 1, '127.0.0.1', ok));
    try {
      const moved = await serve(['--lab-port', String(first)], dir);
      assert.match(moved.out, new RegExp(`Note: a lab port of ${first}, ${first + 1}, ${first + 2} was in use`));
    } finally {
      await new Promise((ok) => blocker.close(ok));
    }

    const bad = await serve(['--lab-port', '65534'], dir);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--lab-port takes the first of three ports/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
