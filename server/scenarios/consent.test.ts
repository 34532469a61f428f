// A scenario file from someone else (a ticket, a CI repo) reaches no further than its own folder
// unless the person running it agrees: environment variables and files outside the folder need a
// flag or a yes on a terminal, nothing is sent before that, and the run names each secret's
// source and destination host without printing a value. The token endpoint here is a real
// server that records everything it receives.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../commands/run.ts';
import { loadScenario, SECRET_FILE_MAX_BYTES } from './scenario.ts';
import { planSecrets } from './consent.ts';

const BIN = fileURLToPath(new URL('../../bin/harness.js', import.meta.url));
const VALUES = { abs: 'abs-file-secret-1111', dotdot: 'dotdot-file-secret-2222', env: 'ci-env-secret-3333', link: 'linked-file-secret-4444', inside: 'inside-file-secret-5555' } as const;

let dir: string;
let outside: string;
let tokenServer: http.Server;
let tokenUrl: string;
let received: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'consent-'));
  outside = join(dir, 'outside');
  await mkdir(outside);
  await mkdir(join(dir, 'ticket', 'secrets'), { recursive: true });
  await writeFile(join(outside, 'abs.txt'), `${VALUES.abs}\n`);
  await writeFile(join(outside, 'dotdot.txt'), `${VALUES.dotdot}\n`);
  await writeFile(join(outside, 'link-target.txt'), `${VALUES.link}\n`);
  await writeFile(join(dir, 'ticket', 'secrets', 'inside.txt'), `${VALUES.inside}\n`);
  await symlink(join(outside, 'link-target.txt'), join(dir, 'ticket', 'secrets', 'link.txt'));
  tokenServer = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += String(d); });
    req.on('end', () => {
      received.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''} ${body}`);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ access_token: 'opaque-access-token-value', token_type: 'Bearer', expires_in: 300 }));
    });
  });
  await new Promise<void>((ok) => tokenServer.listen(0, '127.0.0.1', ok));
  tokenUrl = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token`;
});
after(() => tokenServer.close());

/** A client-credentials scenario sending the named secrets as extra form parameters. */
async function ticket(name: string, secrets: Record<string, object>): Promise<string> {
  const file = join(dir, 'ticket', `${name}.json`);
  const extraParams = Object.fromEntries(Object.keys(secrets).map((k) => [`p_${k}`, { $secret: k }]));
  await writeFile(file, JSON.stringify({
    version: 1, name, kind: 'flow',
    flow: { kind: 'client-credentials', tokenUrl, clientAuth: { method: 'client_secret_post', clientId: 'c', clientSecret: 'not-a-real-secret' }, extraParams },
    secrets,
  }));
  return file;
}

const all = () => ({ a: { file: join(outside, 'abs.txt') }, b: { file: '../outside/dotdot.txt' }, c: { env: 'CI_SECRET' } });

function io(answers: boolean[] | null = null) {
  const out: string[] = [];
  const err: string[] = [];
  const asked: string[] = [];
  return {
    io: {
      stdout: (s: string) => out.push(s),
      stderr: (s: string) => err.push(s),
      ...(answers ? { ask: async (q: string) => { asked.push(q); return answers.shift() ?? false; } } : {}),
    },
    out, err, asked,
    text: () => out.join('') + err.join(''),
  };
}

async function runTicket(file: string, flags: string[], answers: boolean[] | null = null) {
  received = [];
  const r = io(answers);
  const code = await run([file, ...flags], r.io);
  const sent = received.join('\n');
  for (const v of Object.values(VALUES)) assert.ok(!r.text().includes(v), `the value ${v} was printed`);
  return { code, ...r, sent };
}

const sentValues = (sent: string) => Object.entries(VALUES).filter(([, v]) => sent.includes(v)).map(([k]) => k);

const refused: [string, string[], RegExp[], RegExp[]][] = [
  ['no flags', [], [/secret "a" comes from .*abs\.txt \(an absolute path\).*--allow-file/, /secret "b" comes from .*dotdot\.txt \(a path that leads out of the scenario's folder\)/, /secret "c" comes from the environment variable CI_SECRET .*--allow-env CI_SECRET/], []],
  ['only the env var allowed', ['--allow-env', 'CI_SECRET'], [/secret "a"/, /secret "b"/], [/secret "c"/]],
  ['only the files allowed', ['--allow-outside'], [/secret "c"/], [/secret "a"/, /secret "b"/]],
  ['the env var of another name', ['--allow-env', 'OTHER', '--allow-outside'], [/secret "c"/], []],
];

before(() => { process.env.CI_SECRET = VALUES.env; });

for (const [name, flags, named, notNamed] of refused) {
  test(`without consent nothing is sent and the run stops with exit 2: ${name}`, async () => {
    const r = await runTicket(await ticket('exfil', all()), flags);
    assert.equal(r.code, 2, r.text());
    assert.equal(received.length, 0, `nothing reaches the token endpoint: ${r.sent}`);
    assert.match(r.err.join(''), /nothing was sent/);
    for (const m of named) assert.match(r.err.join(''), m);
    for (const m of notNamed) assert.doesNotMatch(r.err.join(''), m);
  });
}

test('with consent by flags the secrets are sent, after a line per secret naming source and host', async () => {
  const host = new URL(tokenUrl).host;
  const r = await runTicket(await ticket('exfil', all()), ['--allow-env', 'CI_SECRET', '--allow-file', join(outside, 'abs.txt'), '--allow-file', join(outside, 'dotdot.txt')]);
  assert.equal(r.code, 0, r.text());
  assert.deepEqual(sentValues(r.sent), ['abs', 'dotdot', 'env']);
  const out = r.out.join('');
  assert.match(out, new RegExp(`Secrets this run sends:\\n  a \\(file [^)]*abs\\.txt\\) → ${host}\\n  b \\(file \\.\\./outside/dotdot\\.txt\\) → ${host}\\n  c \\(environment variable CI_SECRET\\) → ${host}\\n`));
  assert.ok(out.indexOf('Secrets this run sends') < out.indexOf('Flow '), 'listed before the run starts');
});

test('--json: the secrets line comes first, then the events', async () => {
  const r = await runTicket(await ticket('exfil', all()), ['--json', '--allow-all-env', '--allow-outside']);
  assert.equal(r.code, 0, r.text());
  const lines = r.out.join('').trim().split('\n').map((l) => JSON.parse(l) as { type: string; secrets?: unknown });
  assert.equal(lines[0]!.type, 'scenario.secrets');
  const host = new URL(tokenUrl).host;
  assert.deepEqual(lines[0]!.secrets, [
    { name: 'a', source: `file ${join(outside, 'abs.txt')}`, to: [host] },
    { name: 'b', source: 'file ../outside/dotdot.txt', to: [host] },
    { name: 'c', source: 'environment variable CI_SECRET', to: [host] },
  ]);
  assert.equal(lines[1]!.type, 'run.started');
});

test('files inside the scenario\'s folder need no consent; a link inside that leads out does', async () => {
  const inside = await runTicket(await ticket('inside', { i: { file: 'secrets/inside.txt' } }), []);
  assert.equal(inside.code, 0, inside.text());
  assert.deepEqual(sentValues(inside.sent), ['inside']);
  const linked = await ticket('linked', { l: { file: 'secrets/link.txt' } });
  const refusedLink = await runTicket(linked, []);
  assert.equal(refusedLink.code, 2);
  assert.equal(received.length, 0);
  assert.match(refusedLink.err.join(''), /secret "l" comes from .*link-target\.txt \(a link to .*link-target\.txt, outside the scenario's folder\)/);
  const allowed = await runTicket(linked, ['--allow-file', join(outside, 'link-target.txt')]);
  assert.equal(allowed.code, 0, allowed.text());
  assert.deepEqual(sentValues(allowed.sent), ['link']);
});

test('on a terminal each secret is asked about; a no stops the run before anything is sent', async () => {
  const file = await ticket('exfil', all());
  const no = await runTicket(file, [], [true, false, true]);
  assert.equal(no.asked.length, 3);
  assert.match(no.asked[2]!, /Secret "c" comes from the environment variable CI_SECRET and would be sent to 127\.0\.0\.1:\d+\. Allow\? \[y\/N\]/);
  assert.equal(no.code, 2);
  assert.equal(received.length, 0);
  assert.match(no.err.join(''), /secret "b"/);
  const yes = await runTicket(file, [], [true, true, true]);
  assert.equal(yes.code, 0, yes.text());
  assert.deepEqual(sentValues(yes.sent), ['abs', 'dotdot', 'env']);
});

/** `harness run` in a real pseudo-terminal (util-linux script), answering on its stdin. */
function harnessOnTerminal(args: string[], input: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const cmd = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, CI_SECRET: VALUES.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let answered = false;
    child.stdout.on('data', (d) => {
      output += String(d);
      if (!answered && /Allow\? \[y\/N\]/.test(output)) {
        answered = true;
        child.stdin.write(input);
      }
    });
    child.on('exit', (code) => resolve({ code: code ?? 1, output }));
  });
}

test('harness run on a terminal asks, and without a terminal refuses (spawned as a user runs it)', async () => {
  const file = await ticket('env-only', { c: { env: 'CI_SECRET' } });
  received = [];
  const asked = await harnessOnTerminal(['run', file], 'n\n');
  assert.equal(asked.code, 2, asked.output);
  assert.match(asked.output, /Secret "c" comes from the environment variable CI_SECRET/);
  assert.equal(received.length, 0);
  const piped = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, 'run', file], { env: { ...process.env, CI_SECRET: VALUES.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += String(d); });
    child.stdin.end('y\n'); // not a terminal: nobody is asked, whatever stdin holds
    child.on('exit', (code) => resolve({ code, stderr }));
  });
  assert.equal(piped.code, 2, piped.stderr);
  assert.match(piped.stderr, /allow it with --allow-env CI_SECRET/);
  assert.equal(received.length, 0);
  const agreed = await harnessOnTerminal(['run', file], 'y\n');
  assert.equal(agreed.code, 0, agreed.output);
  assert.deepEqual(sentValues(received.join('\n')), ['env']);
  assert.ok(!agreed.output.includes(VALUES.env));
});

test('text from the file cannot redraw the disclosure: control characters in a path are printed escaped', async () => {
  const name = 'a\u001b[2K\rb.txt';
  await writeFile(join(dir, 'ticket', 'secrets', name), `${VALUES.inside}\n`);
  const r = await runTicket(await ticket('escape', { e: { file: `secrets/${name}` } }), []);
  assert.equal(r.code, 0, r.text());
  assert.ok(!/[\u001b\r]/.test(r.out.join('')), 'no raw escape or carriage return printed');
  assert.match(r.out.join(''), /e \(file secrets\/a\\u001b\[2K\\u000db\.txt\) → 127\.0\.0\.1:\d+/);
  const outsideName = join(outside, 'c\u001b[1Ad.txt');
  await writeFile(outsideName, 'x');
  const refusedEsc = await runTicket(await ticket('escape-out', { o: { file: outsideName } }), []);
  assert.equal(refusedEsc.code, 2);
  assert.ok(!refusedEsc.err.join('').includes('\u001b'), refusedEsc.err.join(''));
});

test('a secret file must be a regular file of at most SECRET_FILE_MAX_BYTES', async () => {
  await writeFile(join(dir, 'ticket', 'secrets', 'huge.bin'), Buffer.alloc(SECRET_FILE_MAX_BYTES + 1, 0x41));
  const huge = await runTicket(await ticket('huge', { h: { file: 'secrets/huge.bin' } }), []);
  assert.equal(huge.code, 2);
  assert.match(huge.err.join(''), new RegExp(`huge\\.bin is ${SECRET_FILE_MAX_BYTES + 1} bytes, more than the ${SECRET_FILE_MAX_BYTES}`));
  const folder = await runTicket(await ticket('folder', { d: { file: 'secrets' } }), []);
  assert.equal(folder.code, 2);
  assert.match(folder.err.join(''), /secrets is not a regular file/);
  assert.equal(received.length, 0);
});

test('several scenarios: every one is checked before the first runs, so one without consent stops them all', async () => {
  const folder = join(dir, 'batch');
  await mkdir(join(folder, 'secrets'), { recursive: true });
  await writeFile(join(folder, 'secrets', 'inside.txt'), `${VALUES.inside}\n`);
  const scenario = (secrets: Record<string, object>) => JSON.stringify({
    version: 1, name: 'batch', kind: 'flow',
    flow: { kind: 'client-credentials', tokenUrl, clientAuth: { method: 'client_secret_post', clientId: 'c', clientSecret: 'not-a-real-secret' }, extraParams: Object.fromEntries(Object.keys(secrets).map((k) => [`p_${k}`, { $secret: k }])) },
    secrets,
  });
  await writeFile(join(folder, 'a-harmless.json'), scenario({ i: { file: 'secrets/inside.txt' } }));
  await writeFile(join(folder, 'b-exfil.json'), scenario({ c: { env: 'CI_SECRET' } }));
  const refusedAll = await runTicket(folder, []);
  assert.equal(refusedAll.code, 2, refusedAll.text());
  assert.match(refusedAll.err.join(''), /b-exfil\.json: .*secret "c" comes from the environment variable CI_SECRET/s);
  assert.equal(received.length, 0, 'not even the harmless scenario ran');
  const allowed = await runTicket(folder, ['--allow-env', 'CI_SECRET']);
  assert.equal(allowed.code, 0, allowed.text());
  assert.deepEqual(sentValues(allowed.sent), ['env', 'inside']);
});

test('a CA bundle from a file is shown as used locally, not as sent', async () => {
  await writeFile(join(dir, 'ticket', 'secrets', 'ca.pem'), 'not really a CA');
  const file = join(dir, 'ticket', 'probe-ca.json');
  await writeFile(file, JSON.stringify({ version: 1, name: 'probe', kind: 'probe', probe: { url: 'https://partner.example:8443/', caPem: { $secret: 'ca' }, headers: { 'x-api-key': { $secret: 'k' } } }, secrets: { ca: { file: 'secrets/ca.pem' }, k: { value: 'inline-api-key-9999' } } }));
  const { scenario, baseDir } = await loadScenario(file);
  assert.deepEqual(await planSecrets(scenario, baseDir), [
    { name: 'ca', source: 'file secrets/ca.pem', to: ['nowhere (used locally)'] },
    { name: 'k', source: 'inline value in the scenario', to: ['partner.example:8443'] },
  ]);
});
