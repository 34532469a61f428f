// Transcripts, reports, JUnit and diff from the command line, as support staff and CI use them:
// real runs against the lab, openssl s_server and an echoing server; JUnit read by a JUnit
// parser (Debian's python3-junitparser); secrets looked for in every file written.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTranscript, readRun } from '../../shared/transcript/transcript.ts';
import { makeTestPki, type TestPki } from '../testing/test-pki.ts';
import { opensslServer, type Peer } from '../testing/peers.ts';
import { harness } from '../testing/cli.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

let dir: string;
let labDir: string;

/** The lab's files go to this test's own dir, not the user's. */
const harnessWithLab = (args: string[]) => harness(args, { HARNESS_LAB_DIR: labDir });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'transcripts-cli-'));
  labDir = join(dir, 'lab');
});

test('run many scenarios: one exit code, a summary, a transcript each, one report, JUnit a JUnit parser reads', async () => {
  const files = ['probe-lab.json', 'probe-no-certificate.json', 'api-key.json', 'client-credentials-wrong-secret.json'].map((f) => join(EXAMPLES, f));
  const out = join(dir, 'many');
  const r = await harnessWithLab(['run', ...files, '--check', '--transcript', join(out, 'transcripts'), '--report', join(out, 'report.html'), '--junit', join(out, 'junit.xml')]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Summary: 4 of 4 as expected/);
  const written = await readdir(join(out, 'transcripts'));
  assert.equal(written.length, 4);
  const transcripts = await Promise.all(written.map(async (f) => parseTranscript(await readFile(join(out, 'transcripts', f), 'utf8'))));
  const byName = new Map(transcripts.map((t) => [t.name, readRun(t)]));
  assert.equal(byName.get('mTLS probe of the lab target')?.outcome, 'pass');
  assert.ok([...byName.values()].some((run) => run.diagnoses.includes('client_secret_rejected')));
  for (const t of transcripts) {
    assert.equal(t.recordedBy, 'cli');
    assert.equal(t.environment.node, process.versions.node);
    assert.equal(t.environment.openssl, process.versions.openssl);
    assert.ok(t.scenario, 'the scenario travels with the run');
  }

  const html = await readFile(join(out, 'report.html'), 'utf8');
  assert.equal(html.match(/<tr><td><a href="#run-/g)?.length, 4);
  assert.match(html, /4 of 4 runs as expected/);

  const py = `
import sys, junitparser
xml = junitparser.JUnitXml.fromfile(sys.argv[1])
suites = list(xml) if isinstance(xml, junitparser.JUnitXml) else [xml]
cases = [c for s in suites for c in s]
print(len(cases), sum(1 for c in cases if c.is_passed), ",".join(sorted(c.classname for c in cases)))
`;
  const parsed = await new Promise<string>((resolve, reject) => execFile('/usr/bin/python3', ['-c', py, join(out, 'junit.xml')], (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout.trim()))));
  assert.equal(parsed, '4 4 harness.flow,harness.flow,harness.probe,harness.probe');
});

test('without --check a failing run fails its JUnit case with the diagnosis; a bad file stops everything first', async () => {
  const out = join(dir, 'fails');
  const r = await harnessWithLab(['run', join(EXAMPLES, 'probe-lab.json'), join(EXAMPLES, 'probe-no-certificate.json'), '--junit', join(out, 'junit.xml')]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /Summary: 1 of 2 passed/);
  const py = `
import sys, junitparser
xml = junitparser.JUnitXml.fromfile(sys.argv[1])
for s in xml:
    for c in s:
        for res in c.result:
            print(type(res).__name__, res.message)
`;
  const parsed = await new Promise<string>((resolve, reject) => execFile('/usr/bin/python3', ['-c', py, join(out, 'junit.xml')], (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout.trim()))));
  assert.equal(parsed, 'Failure run failed: client_cert_required');

  await writeFile(join(dir, 'broken.json'), '{"version":1');
  const bad = await harnessWithLab(['run', join(EXAMPLES, 'probe-lab.json'), join(dir, 'broken.json')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /broken\.json: not valid JSON/);
  assert.doesNotMatch(bad.stdout, /Scenario:/, 'nothing ran');
});

let pki: TestPki;
let server: Peer;
before(async () => {
  pki = await makeTestPki();
  // Trusts only the client root: a client must send its intermediate.
  server = await opensslServer(['-cert', pki.server.certFile, '-key', pki.server.keyFile, '-CAfile', pki.clientCa.certFile, '-Verify', '4', '-verify_return_error', '-www']);
});
after(async () => server?.close());

test('diff names the missing intermediate between a passing and a failing run; show prints a recorded run', async () => {
  const scenario = (name: string, certFile: string) => ({
    version: 1, name, kind: 'probe',
    probe: { url: `https://localhost:${server.port}/`, caPem: { $secret: 'ca' }, client: { certificatePem: { $secret: 'cert' }, privateKeyPem: { $secret: 'key' } } },
    secrets: { ca: { file: 'server-ca.pem' }, cert: { file: certFile }, key: { file: 'client-via-int.key' } },
  });
  const leafOnly = pki.clientViaIntermediate.cert.split(/(?<=-----END CERTIFICATE-----\n)/)[0]!;
  await writeFile(join(pki.dir, 'leaf-only.pem'), leafOnly);
  await writeFile(join(pki.dir, 'good.json'), JSON.stringify(scenario('with the intermediate', 'client-via-int.pem')));
  await writeFile(join(pki.dir, 'bad.json'), JSON.stringify(scenario('leaf alone', 'leaf-only.pem')));
  const a = join(dir, 'a.json');
  const b = join(dir, 'b.json');
  assert.equal((await harnessWithLab(['run', join(pki.dir, 'good.json'), '--transcript', a])).code, 0);
  assert.equal((await harnessWithLab(['run', join(pki.dir, 'bad.json'), '--transcript', b])).code, 1);

  const d = await harnessWithLab(['diff', a, b]);
  assert.equal(d.code, 1, d.stderr);
  assert.match(d.stdout, /run B sent 1 certificate, run A 2: B's intermediate CN=Test Client Intermediate, O=Harness Tests is missing/);
  assert.equal((await harnessWithLab(['diff', a, a])).code, 0);

  const s = await harnessWithLab(['show', b]);
  assert.equal(s.code, 1);
  assert.match(s.stdout, /^Recorded run: leaf alone/);
  assert.match(s.stdout, /FAILED/);
  const shownJson = await harnessWithLab(['show', b, '--json']);
  const events = shownJson.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
  assert.equal(events[0]?.type, 'run.started');
  assert.equal(events.at(-1)?.type, 'run.finished');

  const notTranscript = await harnessWithLab(['show', join(pki.dir, 'good.json')]);
  assert.equal(notTranscript.code, 2);
  assert.match(notTranscript.stderr, /format: this is a scenario, not a transcript/);
  const diffBad = await harnessWithLab(['diff', a, join(dir, 'nope.json')]);
  assert.equal(diffBad.code, 2);
  assert.match(diffBad.stderr, /nope\.json: cannot read/);
});

test('no secret reaches a transcript, report or JUnit file, even from a server that echoes them back', async () => {
  const canary = { key: 'canary-api-key-7c1e9a', secret: 'canary-client-secret-4b2d8f' };
  const echo: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const status = req.url?.startsWith('/token') ? 401 : 200;
      res.writeHead(status, { 'content-type': 'application/json', 'x-echo-key': String(req.headers['x-api-key'] ?? req.headers.apikey ?? ''), 'x-echo-auth': String(req.headers.authorization ?? '') });
      res.end(JSON.stringify({ error: status === 401 ? 'invalid_client' : undefined, echoedHeaders: req.headers, echoedBody: body, text: `you sent ${body} and ${req.headers.authorization ?? ''}` }));
    });
  });
  await new Promise<void>((ok) => echo.listen(0, '127.0.0.1', ok));
  const port = (echo.address() as AddressInfo).port;
  try {
    await writeFile(join(dir, 'api-key-secret.txt'), canary.key);
    await writeFile(join(dir, 'client-secret.txt'), canary.secret);
    await writeFile(join(dir, 'echo-api-key.json'), JSON.stringify({
      version: 1, name: 'api key echoed', kind: 'flow',
      flow: { kind: 'api-key', url: `http://127.0.0.1:${port}/api`, apiKey: { $secret: 'k' }, username: 'someone' },
      secrets: { k: { file: 'api-key-secret.txt' } },
    }));
    await writeFile(join(dir, 'echo-basic.json'), JSON.stringify({
      version: 1, name: 'client secret echoed', kind: 'flow',
      flow: { kind: 'client-credentials', tokenUrl: `http://127.0.0.1:${port}/token`, clientAuth: { method: 'client_secret_basic', clientId: 'partner-app', clientSecret: { $secret: 's' } } },
      secrets: { s: { file: 'client-secret.txt' } },
    }));
    const out = join(dir, 'canary');
    const r = await harnessWithLab(['run', join(dir, 'echo-api-key.json'), join(dir, 'echo-basic.json'), '--json', '--transcript', join(out, 't'), '--report', join(out, 'r.html'), '--junit', join(out, 'j.xml')]);
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    const texts = [r.stdout, r.stderr, await readFile(join(out, 'r.html'), 'utf8'), await readFile(join(out, 'j.xml'), 'utf8')];
    for (const f of await readdir(join(out, 't'))) texts.push(await readFile(join(out, 't', f), 'utf8'));
    assert.equal(texts.length, 6);
    const basic = Buffer.from(`partner-app:${canary.secret}`).toString('base64');
    for (const text of texts) {
      for (const value of [canary.key, canary.secret, basic]) assert.ok(!text.includes(value), `a secret leaked: ${value.slice(0, 12)}…`);
    }
  } finally {
    await new Promise<void>((ok) => echo.close(() => ok()));
  }
});
