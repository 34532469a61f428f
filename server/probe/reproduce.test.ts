// The copied commands are real: run them with curl and openssl against a real server.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTestPki } from '../testing/test-pki.ts';
import { opensslServer, type Peer } from '../testing/peers.ts';
import { curlCommand, opensslCommand, REPRO_FILES } from '../../shared/reproduce.ts';

const exec = promisify(execFile);
const peers: Peer[] = [];
after(() => Promise.all(peers.map((p) => p.close())));

test('"Copy as curl" and "Copy as openssl s_client" reproduce a passing probe', async () => {
  const pki = await makeTestPki();
  const peer = await opensslServer(['-cert', pki.server.certFile, '-key', pki.server.keyFile, '-CAfile', pki.clientCa.certFile, '-Verify', '2', '-verify_return_error', '-www']);
  peers.push(peer);
  const req = { url: `https://localhost:${peer.port}/`, client: { certificatePem: pki.client.cert, privateKeyPem: pki.client.key }, caPem: pki.serverCa.cert };
  await writeFile(join(pki.dir, REPRO_FILES.cert), pki.client.cert);
  await writeFile(join(pki.dir, REPRO_FILES.key), pki.client.key);
  await writeFile(join(pki.dir, REPRO_FILES.ca), pki.serverCa.cert);

  const curl = await exec('sh', ['-c', curlCommand(req)], { cwd: pki.dir });
  assert.match(curl.stdout, /s_server|<HTML>|Ciphers/i);

  const openssl = await exec('sh', ['-c', opensslCommand(req)], { cwd: pki.dir });
  assert.match(openssl.stdout, /Verify return code: 0 \(ok\)/);
  assert.match(openssl.stdout, /Acceptable client certificate CA names/);
});

test('the copied curl command fails the same way without a certificate', async () => {
  const pki = await makeTestPki();
  const peer = await opensslServer(['-cert', pki.server.certFile, '-key', pki.server.keyFile, '-CAfile', pki.clientCa.certFile, '-Verify', '2', '-verify_return_error', '-www', '-tls1_3']);
  peers.push(peer);
  await writeFile(join(pki.dir, REPRO_FILES.ca), pki.serverCa.cert);
  const req = { url: `https://localhost:${peer.port}/`, caPem: pki.serverCa.cert };
  await assert.rejects(exec('sh', ['-c', curlCommand(req)], { cwd: pki.dir }), (err: { code?: number; stderr?: string }) => {
    assert.match(String(err.stderr), /certificate required|alert/i);
    return true;
  });
});
