// Secret canaries through token flows on a live relay: a careless token endpoint and API echo
// back everything they are sent and hand out tokens that are themselves canaries. No canary —
// from the request or obtained during the run — may appear in any frame.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { generateKeyPair } from 'jose';
import type { ServerMessage } from '../../shared/protocol/index.ts';
import type { FlowRequest } from '../../shared/flows/flow-request.ts';
import { templateClaims } from '../../shared/jwt/claims.ts';
import { signJwt } from '../../shared/jwt/sign.ts';
import { makeTestPki, type TestPki } from '../testing/test-pki.ts';
import { startRelay, type RunningRelay } from '../relay.ts';

const canary = (what: string) => `CANARY${what}${randomBytes(6).toString('hex')}`;
const M = {
  clientSecret: canary('SECRET'),
  refreshToken: canary('REFRESHIN'),
  apiKey: canary('APIKEY'),
  issuedAccess: canary('ACCESS'),
  issuedRefresh: canary('REFRESHOUT'),
  issuedId: canary('IDTOKEN'),
  seedSecret: canary('SEED'),
};

let pki: TestPki;
let relay: RunningRelay;
let echo: https.Server;
let base: string;
let assertion: string;

before(async () => {
  pki = await makeTestPki();
  echo = https.createServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const echoed = { method: req.method, url: req.url, headers: req.headers, body };
      if (req.url === '/token') {
        res.writeHead(200, { 'content-type': 'application/json', 'x-echo': String(req.headers.authorization) });
        res.end(JSON.stringify({ access_token: M.issuedAccess, token_type: 'Bearer', expires_in: 300, refresh_token: M.issuedRefresh, id_token: M.issuedId, echoed }));
      } else {
        // The API refuses, quoting the token it was given, then everything else.
        res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': `Bearer error="invalid_token", error_description="${String(req.headers.authorization)}"` });
        res.end(`refused: ${JSON.stringify(echoed)}`);
      }
    });
  });
  await new Promise<void>((ok) => echo.listen(0, '127.0.0.1', ok));
  base = `https://localhost:${(echo.address() as AddressInfo).port}`;
  const key = (await generateKeyPair('RS256', { extractable: true })).privateKey;
  assertion = await signJwt(templateClaims('client-assertion', { now: Date.now(), clientId: 'c', audience: `${base}/token`, jti: canary('JTI') }), { alg: 'RS256', kid: 'k' }, key);
  relay = await startRelay({ port: 0, quiet: true, dataDir: await mkdtemp(join(tmpdir(), 'flow-canary-')), webRoot: await mkdtemp(join(tmpdir(), 'flow-canary-web-')) });
});

after(async () => {
  await relay.close();
  echo.closeAllConnections();
  await new Promise<void>((ok) => echo.close(() => ok()));
});

async function frames(flow: FlowRequest): Promise<string[]> {
  const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/ws?token=${relay.token}`, { origin: relay.origin });
  const out: string[] = [];
  await new Promise<void>((ok, fail) => {
    ws.on('message', (d) => {
      out.push(String(d));
      const m = JSON.parse(String(d)) as ServerMessage;
      if (m.type === 'welcome') ws.send(JSON.stringify({ type: 'flow.start', id: 'x', flow }));
      if (m.type === 'run.finished' || m.type === 'error') ok();
    });
    ws.on('error', fail);
  });
  ws.close();
  return out;
}

test('no canary in any frame: request secrets, custom field names, and tokens obtained during the run', async () => {
  const tls = { caPem: pki.serverCa.cert };
  const call = { url: `${base}/api` };
  const flows: FlowRequest[] = [
    { kind: 'client-credentials', tokenUrl: `${base}/token`, clientAuth: { method: 'client_secret_basic', clientId: 'c', clientSecret: M.clientSecret }, tls, call },
    { kind: 'client-credentials', tokenUrl: `${base}/token`, clientAuth: { method: 'client_secret_post', clientId: 'c', clientSecret: M.clientSecret }, tls, call },
    { kind: 'client-credentials', tokenUrl: `${base}/token`, clientAuth: { method: 'private_key_jwt', clientId: 'c', clientAssertions: [assertion] }, tls, call },
    { kind: 'refresh-token', tokenUrl: `${base}/token`, refreshToken: M.refreshToken, clientAuth: { method: 'none', clientId: 'c' }, tls, call },
    { kind: 'jwt-exchange', tokenUrl: `${base}/token`, clientId: 'c', clientSecret: M.seedSecret, jwt: assertion, fieldNames: { clientSecret: 'partner_key', jwt: 'seed' }, tls, call },
    { kind: 'api-key', url: `${base}/api`, apiKey: M.apiKey, username: 'u', headerNames: { apiKey: 'X-Partner-Key' }, tls },
  ];
  for (const flow of flows) {
    const text = (await frames(flow)).join('\n');
    assert.match(text, /"run\.finished"/, `${flow.kind} ran`);
    for (const [name, value] of Object.entries(M)) assert.ok(!text.includes(value), `${flow.kind}: ${name} leaked`);
    assert.ok(!text.includes(assertion), `${flow.kind}: the client assertion leaked`);
  }
});

// ---- a target echoing every encoding (issue 10): Basic of id:secret, form, XML, JSON, query,
// and opaque tokens handed out in a form-encoded token response.

import { startHostileTarget, type HostileTarget } from '../testing/hostile-target.ts';

/** A canary wrapped in characters each encoding changes; its core survives every encoding but base64. */
const wrapped = (core: string) => `p+/= &<>"'\\${core}~!*()é`;
const H = {
  clientSecret: canary('HSECRET'), issuedAccess: canary('HACCESS'), issuedRefresh: canary('HREFRESH'),
  apiKey: canary('HAPIKEY'), xAuth: canary('HXAUTH'), pin: canary('HPIN'), queryToken: canary('HQUERY'),
};
let hostile: HostileTarget | undefined;
after(() => hostile?.close());

test('no canary in any frame when the target echoes every encoding and answers tokens form-encoded', async () => {
  hostile = await startHostileTarget(pki.server, { accessToken: wrapped(H.issuedAccess), refreshToken: wrapped(H.issuedRefresh) });
  const b = hostile.base;
  const tls = { caPem: pki.serverCa.cert };
  const query = new URLSearchParams({ access_token: wrapped(H.queryToken), page: '2' }).toString();
  const basic = { method: 'client_secret_basic', clientId: 'client-1', clientSecret: wrapped(H.clientSecret) } as const;
  const flows: FlowRequest[] = [
    { kind: 'client-credentials', tokenUrl: `${b}/token/form`, clientAuth: basic, tls },
    { kind: 'client-credentials', tokenUrl: `${b}/token/json`, clientAuth: basic, tls, call: { url: `${b}/echo/xml?${query}` } },
    { kind: 'client-credentials', tokenUrl: `${b}/token/json`, clientAuth: { ...basic, method: 'client_secret_post' }, tls, call: { url: `${b}/echo/form?${query}` } },
    ...(['json', 'xml', 'text', 'form'] as const).map((as): FlowRequest => ({
      kind: 'api-key', url: `${b}/echo/${as}?${query}`, apiKey: wrapped(H.apiKey), username: 'u', headerNames: { apiKey: 'X-Partner-Key' }, method: 'POST',
      headers: { 'X-Auth-Token': wrapped(H.xAuth), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ pin: wrapped(H.pin), note: 'hello' }).toString(), secretNames: ['pin'], tls,
    })),
  ];
  const credential = Buffer.from(`client-1:${encodeURIComponent(wrapped(H.clientSecret)).replace(/%20/g, '+')}`).toString('base64');
  for (const flow of flows) {
    const text = (await frames(flow)).join('\n');
    const where = `${flow.kind} ${'tokenUrl' in flow ? flow.tokenUrl : flow.kind === 'api-key' ? flow.url : ''}`;
    assert.match(text, /"run\.finished"/, `${where} ran`);
    assert.match(text, /HTTP 200/, `${where} reached the target`);
    for (const [name, value] of Object.entries(H)) {
      const at = text.indexOf(value);
      assert.ok(at < 0, `${where}: ${name} leaked: …${text.slice(Math.max(0, at - 100), at + 40)}…`);
    }
    assert.ok(!text.includes(credential), `${where}: the Basic credential leaked`);
  }
});
