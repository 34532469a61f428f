// `harness serve` as an operator starts it: flags that shape the hosted relay's outbound guard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { makeTestPki } from './testing/test-pki.ts';
import { probeDiagnoses } from './testing/relay-client.ts';
import { HARNESS_BIN } from './testing/cli.ts';

/** Probes `target` through the relay whose page is `url` (the "Open:" line serve prints). */
function probeVia(url: string, target: string): Promise<string[]> {
  const page = new URL(url);
  const token = page.searchParams.get('token') ?? new URLSearchParams(page.hash.slice(1)).get('token') ?? '';
  return probeDiagnoses({ port: Number(page.port), token, origin: page.origin }, { url: target, verifyServer: false });
}

test('serve --hosted --allow-port N adds N to the default ports instead of replacing them', async () => {
  const pki = await makeTestPki();
  let hits = 0;
  const target = https.createServer({ cert: pki.server.cert, key: pki.server.key }, (_req, res) => { hits++; res.end('ok'); });
  await new Promise<void>((ok) => target.listen(0, '127.0.0.1', ok));
  const port = (target.address() as AddressInfo).port;
  const child = spawn(process.execPath, [HARNESS_BIN, 'serve', '--hosted', '--port', '0', '--no-lab', '--allow-target', 'localhost', '--allow-port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    const url = await new Promise<string>((ok, fail) => {
      child.stdout.on('data', (d) => {
        out += String(d);
        const m = /Open: (\S+)/.exec(out);
        if (m) ok(m[1]!);
      });
      child.once('exit', (code) => fail(new Error(`serve exited ${code}: ${out}`)));
    });
    // The added port: the probe reaches the real server.
    const reached = await probeVia(url, `https://localhost:${port}/`);
    assert.ok(!reached.includes('target_port_refused'), reached.join(', '));
    assert.equal(hits, 1, 'the probe reached the server on the added port');
    // A default port is still allowed: refused by the closed port, not by the guard.
    for (const p of [443, 8443, 9443]) {
      const diagnoses = await probeVia(url, `https://localhost:${p}/`);
      assert.ok(!diagnoses.includes('target_port_refused'), `port ${p}: ${diagnoses.join(', ')}`);
    }
    // Any other port is still refused.
    assert.deepEqual(await probeVia(url, 'https://localhost:22/'), ['target_port_refused']);
  } finally {
    child.kill('SIGTERM');
    target.close();
  }
});
