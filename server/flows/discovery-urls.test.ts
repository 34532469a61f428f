// A discovery document whose endpoints are not URLs ends as a diagnosis naming the member and
// its value, never as an unhandled "Invalid URL". The authorization server is a real local
// server; the flows run through `harness run` as a user starts them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../commands/run.ts';

let server: http.Server;
let origin: string;
let dir: string;
const requests: string[] = [];

/** Per tenant (/t/<name>): the document's endpoints, the rest filled in with working ones. */
const TENANTS: Record<string, Record<string, unknown>> = {
  'jwks-not-url': { jwks_uri: 'not a url' },
  'token-empty-host': { token_endpoint: 'https://' },
  'token-relative': { token_endpoint: '/token' },
  'authorize-javascript': { authorization_endpoint: 'javascript:alert(1)' },
  'alias-bad': { mtls_endpoint_aliases: { token_endpoint: 'http//no-colon' } },
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'discovery-urls-'));
  server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const m = /^\/t\/([\w-]+)(\/.*)$/.exec(req.url ?? '');
    const tenant = m ? TENANTS[m[1]!] : undefined;
    if (!m || !tenant) return void res.writeHead(404).end();
    const issuer = `${origin}/t/${m[1]}`;
    if (m[2] === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
        issuer, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`, authorization_endpoint: `${issuer}/authorize`,
        token_endpoint_auth_methods_supported: ['client_secret_post'], ...tenant,
      }));
    } else if (m[2] === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1' }] }));
    } else if (m[2] === '/token') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'opaque-token-abcdef', token_type: 'Bearer', expires_in: 300 }));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

async function runFlow(name: string, flow: (issuer: string) => object) {
  const file = join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify({ version: 1, name, kind: 'flow', flow: flow(`${origin}/t/${name}`) }));
  const out: string[] = [];
  const err: string[] = [];
  const code = await run([file, '--json'], { stdout: (s) => out.push(s), stderr: (s) => err.push(s) });
  const events = out.join('').trim().split('\n').map((l) => JSON.parse(l) as { type: string; outcome?: string; diagnoses?: string[]; step?: { id: string; status: string; diagnosis?: { code: string; evidence: string[] } } });
  const finished = events.at(-1)!;
  const discovery = events.findLast((e) => e.type === 'step' && e.step?.id === 'discovery')?.step;
  return { code, err: err.join(''), finished, discovery };
}

const clientCredentials = (issuer: string) => ({ kind: 'client-credentials', issuer, clientAuth: { method: 'client_secret_post', clientId: 'c', clientSecret: 'not-a-real-secret' } });

const cases: [string, (issuer: string) => object, { code: number; outcome: string; status: string; evidence: RegExp }][] = [
  ['jwks-not-url', (issuer) => ({ kind: 'discovery', issuer }), { code: 1, outcome: 'fail', status: 'fail', evidence: /jwks_uri is "not a url": not an absolute URL/ }],
  ['token-empty-host', clientCredentials, { code: 1, outcome: 'fail', status: 'fail', evidence: /token_endpoint is "https:\/\/": not an absolute URL/ }],
  ['token-relative', clientCredentials, { code: 1, outcome: 'fail', status: 'fail', evidence: /token_endpoint is "\/token": not an absolute URL/ }],
  ['authorize-javascript', (issuer) => ({ kind: 'authorization-code', issuer, clientAuth: { method: 'none', clientId: 'c' }, callbackTimeoutMs: 1000 }), { code: 1, outcome: 'fail', status: 'fail', evidence: /authorization_endpoint is "javascript:alert\(1\)": a javascript: URL, not http\(s\)/ }],
  // Not needed by this flow: left out with a warning, and the flow goes on.
  ['jwks-not-url', clientCredentials, { code: 0, outcome: 'pass', status: 'warn', evidence: /jwks_uri is "not a url"/ }],
  ['alias-bad', clientCredentials, { code: 0, outcome: 'pass', status: 'warn', evidence: /mtls_endpoint_aliases\.token_endpoint is "http\/\/no-colon"/ }],
];

for (const [name, flow, want] of cases) {
  test(`discovery document with ${name}: ${want.outcome} with discovery_endpoint_invalid, not an unhandled error`, async () => {
    const r = await runFlow(name, flow);
    assert.equal(r.code, want.code, r.err);
    assert.equal(r.finished.type, 'run.finished');
    assert.equal(r.finished.outcome, want.outcome);
    assert.deepEqual(r.finished.diagnoses, ['discovery_endpoint_invalid']);
    assert.equal(r.discovery?.status, want.status);
    assert.equal(r.discovery?.diagnosis?.code, 'discovery_endpoint_invalid');
    assert.match(r.discovery!.diagnosis!.evidence.join(' | '), want.evidence);
  });
}
