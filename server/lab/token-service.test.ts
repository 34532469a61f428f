// The lab authorization server's refusals over real HTTPS, one per part of it: the router's
// answer for an unknown tenant, a Refusal's body and headers, client authentication telling
// an unknown kid and a wrong HMAC secret, and the API telling an expired token from a bad one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { startLab, type RunningLab } from './lab.ts';

let lab: RunningLab;
let dir: string;
let issuer: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lab-token-service-'));
  lab = await startLab({ dataDir: dir, port: 0 });
  issuer = lab.tokens!.issuer;
});
after(async () => {
  await lab.close();
  await rm(dir, { recursive: true, force: true });
});

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; json: Record<string, unknown> }

function call(path: string, opts: { form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = opts.form ? new URLSearchParams(opts.form).toString() : undefined;
    const req = https.request(`${issuer}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      ca: lab.serverCaPem,
      agent: false,
      headers: { ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...opts.headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, json: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function assertion(sub: string, key: Parameters<SignJWT['sign']>[0], alg: string, kid?: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg, ...(kid ? { kid } : {}) })
    .setIssuer(sub).setSubject(sub).setAudience(`${issuer}/token`).setIssuedAt(now).setExpirationTime(now + 60)
    .sign(key);
}

/** An access token signed with the lab's own key (read from its data directory), expired a minute ago. */
async function expiredAccessToken(): Promise<string> {
  const keys = JSON.parse(await readFile(join(dir, 'token-service-keys.json'), 'utf8')) as { serverKey: JWK };
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ client_id: 'lab-basic' })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' })
    .setIssuer(issuer).setSubject('lab-basic').setAudience(`${issuer}/api`).setIssuedAt(now - 600).setExpirationTime(now - 60)
    .sign(await importJWK(keys.serverKey, 'RS256'));
}

const CASES: { name: string; request: () => Promise<Answer>; status: number; error?: string; description?: RegExp; reason?: RegExp; challenge?: RegExp }[] = [
  {
    name: 'the well-known metadata of a tenant that does not exist',
    request: () => call('/.well-known/oauth-authorization-server/t/no-such-tenant'),
    status: 404, error: 'not_found',
  },
  {
    name: 'a token request without grant_type',
    request: () => call('/token', { form: { client_id: 'lab-post', client_secret: 'lab-post-secret' } }),
    status: 400, error: 'invalid_request', description: /^missing required parameter 'grant_type'$/, reason: /^no grant_type$/,
  },
  {
    name: 'Basic with a wrong secret: one opaque invalid_client, the reason in a header, a Basic challenge',
    request: () => call('/token', { form: { grant_type: 'client_credentials' }, headers: { authorization: `Basic ${Buffer.from('lab-basic:wrong').toString('base64')}` } }),
    status: 401, error: 'invalid_client', description: /^client authentication failed$/, reason: /^wrong client secret$/, challenge: /^Basic realm="https:\/\/.+", error="invalid_client"$/,
  },
  {
    name: 'private_key_jwt with a kid the client never registered',
    request: async () => {
      const { privateKey } = await generateKeyPair('RS256');
      return call('/token', { form: { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await assertion('lab-pkjwt', privateKey, 'RS256', 'not-registered') } });
    },
    status: 401, error: 'invalid_client', reason: /^client assertion: kid not-registered is not a registered key$/,
  },
  {
    name: 'client_secret_jwt signed with another secret',
    request: async () => call('/token', { form: { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await assertion('lab-secretjwt', new TextEncoder().encode('not-the-secret-of-lab-secretjwt'), 'HS256') } }),
    status: 401, error: 'invalid_client', reason: /^client assertion: HMAC signature mismatch \(wrong client secret\)$/,
  },
  {
    name: 'an expired access token at the API',
    request: async () => call('/api/resource', { headers: { authorization: `Bearer ${await expiredAccessToken()}` } }),
    status: 401, error: 'invalid_token', description: /^the access token expired$/,
  },
  {
    name: 'an access token the lab did not sign at the API',
    request: async () => {
      const { privateKey } = await generateKeyPair('RS256');
      return call('/api/resource', { headers: { authorization: `Bearer ${await assertion('lab-basic', privateKey, 'RS256')}` } });
    },
    status: 401, error: 'invalid_token', description: /^the access token is not valid here$/,
  },
];

for (const c of CASES) {
  test(`lab refuses ${c.name}`, async () => {
    const a = await c.request();
    assert.equal(a.status, c.status);
    if (c.error) assert.equal(a.json.error, c.error);
    if (c.description) assert.match(String(a.json.error_description), c.description);
    if (c.reason) assert.match(String(a.headers['x-lab-reason']), c.reason);
    if (c.challenge) assert.match(String(a.headers['www-authenticate']), c.challenge);
  });
}
