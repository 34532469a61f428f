// docs/deployment.md shows the nginx configuration the cluster test and bench run: the block
// under "Several relays behind nginx" must be what server/testing/relays-nginx.ts generates
// for the documented relays, and real nginx must accept it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { relaysNginxConfig } from './testing/relays-nginx.ts';
import { mainConfig, NGINX_BINARY } from './testing/nginx.ts';

const DOC = fileURLToPath(new URL('../docs/deployment.md', import.meta.url));
/** The relays the documented block is generated for. */
const DOC_RELAYS = { listen: '8080', relays: [{ id: 'harness-0', address: '10.0.0.10:8080' }, { id: 'harness-1', address: '10.0.0.11:8080' }] };

async function documentedBlock(): Promise<string> {
  const text = await readFile(DOC, 'utf8');
  const section = text.slice(text.indexOf('## Several relays behind nginx'));
  const m = /```nginx\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'docs/deployment.md has an nginx block under "Several relays behind nginx"');
  return m[1]!;
}

test('the nginx configuration in docs/deployment.md is the one the cluster test runs', async () => {
  assert.equal(await documentedBlock(), relaysNginxConfig(DOC_RELAYS));
});

test('real nginx accepts the documented configuration (nginx -t)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'harness-doc-nginx-'));
  try {
    const conf = join(dir, 'nginx.conf');
    await writeFile(conf, mainConfig(dir, [await documentedBlock()], { logLevel: 'warn' }));
    const out = await new Promise<string>((resolve, reject) => execFile(NGINX_BINARY, ['-t', '-p', dir, '-c', conf, '-e', join(dir, 'error.log')], (err, _stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stderr))));
    assert.match(out, /syntax is ok/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
