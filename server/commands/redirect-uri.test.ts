// A fixed redirect URI for `harness run` against a provider that matches redirect URIs exactly:
// oidc-provider 9 (certified) in-process over HTTPS, one client registered with
// http://127.0.0.1:PORT/callback/partner. The test plays the person at the browser: it takes the
// authorization URL the command prints and follows it (login and consent granted).
import { autoConsent } from '../flows/testing/oidc-consent.ts';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { makeTestPki, type TestPki } from '../testing/test-pki.ts';
import { followRedirects } from '../flows/user-agent.ts';
import { parseLoopbackRedirect } from '../../shared/flows/redirect-uri.ts';
import { run } from './run.ts';

let pki: TestPki;
let server: https.Server;
let issuer: string;
let fixedUri: string;
let dir: string;

/** A port free right now: the one the partner "registered". */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}

before(async () => {
  pki = await makeTestPki();
  fixedUri = `http://127.0.0.1:${await freePort()}/callback/partner`;
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  server = https.createServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => handler(req, res));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  issuer = `https://localhost:${(server.address() as AddressInfo).port}`;
  const opKey = await generateKeyPair('RS256', { extractable: true });
  const provider = new Provider(issuer, {
    clients: [{ client_id: 'partner', client_secret: 'partner-secret-1', token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: [fixedUri] }],
    jwks: { keys: [{ ...(await exportJWK(opKey.privateKey)), kid: 'op-1', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: ['harness-redirect-uri-cookie-key'] },
    scopes: ['openid'],
    findAccount: async (_ctx: unknown, id: string) => ({ accountId: id, claims: async () => ({ sub: id }) }),
    features: { devInteractions: { enabled: false } },
  });
  const callback = provider.callback();
  handler = (req, res) => {
    if ((req.url ?? '').startsWith('/interaction/')) autoConsent(provider, req, res).catch(() => res.writeHead(500).end());
    else callback(req, res);
  };
  dir = await mkdtemp(join(tmpdir(), 'harness-redirect-'));
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((ok) => server.close(() => ok()));
});

async function scenario(name: string, flowExtra: object): Promise<string> {
  const file = join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify({
    version: 1,
    name,
    kind: 'flow',
    flow: {
      kind: 'authorization-code', issuer, tls: { caPem: pki.serverCa.cert },
      clientAuth: { method: 'client_secret_basic', clientId: 'partner', clientSecret: { $secret: 'client_secret' } },
      scope: 'openid', requireRefreshToken: false, callbackTimeoutMs: 4000, ...flowExtra,
    },
    secrets: { client_secret: { value: 'partner-secret-1' } },
  }));
  return file;
}

/** `harness run ARGS` in-process; the authorization URL it prints is opened as a browser would. */
async function harnessRun(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string; sentRedirectUri?: string }> {
  let stdout = '';
  let stderr = '';
  let sentRedirectUri: string | undefined;
  const code = await run(argv, {
    stdout: (s) => (stdout += s),
    stderr: (s) => {
      stderr += s;
      const url = /^\s+(https:\/\/\S+)$/m.exec(s)?.[1];
      if (url) {
        sentRedirectUri = new URL(url).searchParams.get('redirect_uri') ?? undefined;
        followRedirects(url, { ca: [pki.serverCa.cert] }).catch(() => {});
      }
    },
  });
  return { code, stdout, stderr, ...(sentRedirectUri ? { sentRedirectUri } : {}) };
}

test('harness run --redirect-uri: the provider matching redirect URIs exactly accepts the registered one', async () => {
  const r = await harnessRun(await scenario('flag', {}), '--redirect-uri', fixedUri);
  assert.equal(r.sentRedirectUri, fixedUri);
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /Redirect back/);
  assert.match(r.stdout, /^PASSED/m);
});

test('scenario field flow.redirectUri does the same without the flag', async () => {
  const r = await harnessRun(await scenario('field', { redirectUri: fixedUri }));
  assert.equal(r.sentRedirectUri, fixedUri);
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
});

test('without a fixed URI the random loopback port is refused by the same provider (why the flag exists)', async () => {
  const r = await harnessRun(await scenario('random', { redirectKey: 'partner' }));
  assert.notEqual(r.sentRedirectUri, fixedUri);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /callback_timeout/);
});

test('a redirect URI the command line cannot listen on is bad input, exit 2, before anything is sent', async () => {
  const file = await scenario('bad', {});
  for (const [uri, want] of [
    ['https://127.0.0.1:8765/callback/x', /not a loopback HTTP URI/],
    ['http://partner.example:8765/callback/x', /not a loopback HTTP URI/],
    ['http://127.0.0.1/callback/x', /has no port/],
    ['http://127.0.0.1:8765/cb', /path must be \/callback\/KEY/],
    ['http://LOCALHOST:8765/callback/x', /not in normal form; register and give http:\/\/localhost:8765\/callback\/x/],
  ] as const) {
    assert.equal(typeof parseLoopbackRedirect(uri), 'string', uri);
    const r = await harnessRun(file, '--redirect-uri', uri);
    assert.equal(r.code, 2, `${uri}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, want, uri);
    assert.equal(r.sentRedirectUri, undefined);
  }
  const clientCredentials = join(dir, 'cc.json');
  await writeFile(clientCredentials, JSON.stringify({ version: 1, name: 'cc', kind: 'flow', flow: { kind: 'client-credentials', issuer, clientAuth: { method: 'client_secret_basic', clientId: 'partner', clientSecret: { $secret: 's' } } }, secrets: { s: { value: 'x' } } }));
  const r = await harnessRun(clientCredentials, '--redirect-uri', fixedUri);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--redirect-uri applies to authorization-code scenarios only/);
});

test('a redirect URI whose port is taken: exit 2 naming the port', async () => {
  const blocker = net.createServer();
  await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
  const uri = `http://127.0.0.1:${(blocker.address() as AddressInfo).port}/callback/partner`;
  try {
    const r = await harnessRun(await scenario('taken', {}), '--redirect-uri', uri);
    assert.equal(r.code, 2, `${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /port \d+ of the redirect URI .* is in use/);
  } finally {
    blocker.close();
  }
});
