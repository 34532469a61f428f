// A request exported as a scenario (what the app's "Save as scenario" does) carries no secret
// unless asked, maps lab URLs to lab:<target>, turns signed JWTs into templates — and runs
// again to the same verdict once its secrets are supplied.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlowRequest } from '../../shared/flows/flow-request.ts';
import { toScenario } from '../../shared/flows/scenario.ts';
import { newJti, templateClaims } from '../../shared/jwt/claims.ts';
import { importSigningKey, signJwt } from '../../shared/jwt/sign.ts';
import { startLab, type RunningLab } from '../lab/lab.ts';
import { parseScenario, resolveScenario, checkExpect } from './scenario.ts';
import { runScenario } from '../commands/run.ts';

let lab: RunningLab;
let dir: string;
const url = (id: string) => lab.info.targets.find((t) => t.id === id)!.url;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'export-'));
  lab = await startLab({ dataDir: join(dir, 'lab') });
  await writeFile(join(dir, 'signing-key.pem'), lab.tokens!.demo.signingKeyPem);
});
after(() => lab.close());

async function roundTrip(flow: FlowRequest, env: Record<string, string>) {
  const file = toScenario({ kind: 'flow', flow }, { name: 'saved', labTargets: lab.info.targets, expect: { outcome: 'pass', diagnoses: [] } });
  const text = JSON.stringify(file, null, 2);
  const scenario = parseScenario(text);
  const events: unknown[] = [];
  const result = await runScenario(scenario, { baseDir: dir, lab, env, consent: { env: new Set(Object.keys(env)) }, onEvent: (m) => events.push(m) });
  return { file, text, result, check: checkExpect(scenario, result)! };
}

test('client_secret_basic: the secret becomes an environment variable, lab URLs become lab:<target>', async () => {
  const flow: FlowRequest = { kind: 'client-credentials', issuer: url('issuer'), clientAuth: { method: 'client_secret_basic', clientId: 'lab-basic', clientSecret: 'lab-basic-secret' }, call: { url: url('api'), headers: { Authorization: 'Bearer should-not-be-here-123' } } };
  const { file, text, check } = await roundTrip({ ...flow, call: { url: url('api') } }, { CLIENT_SECRET: 'lab-basic-secret' });
  assert.ok(check.ok, check.message);
  assert.doesNotMatch(text, /lab-basic-secret/);
  assert.deepEqual(file.secrets, { client_secret: { env: 'CLIENT_SECRET' } });
  assert.equal((file.flow as { issuer: string }).issuer, 'lab:issuer');
  assert.equal((file.flow as { call: { url: string } }).call.url, 'lab:api');
  const withHeader = toScenario({ kind: 'flow', flow }, { name: 'x' });
  assert.doesNotMatch(JSON.stringify(withHeader), /should-not-be-here/);
  assert.deepEqual(withHeader.secrets?.authorization, { env: 'AUTHORIZATION' });
});

test('private_key_jwt: signed assertions become a template over a key file, and run again', async () => {
  const key = await importSigningKey(lab.tokens!.demo.signingKeyPem, 'RS256');
  const sign = () => signJwt(templateClaims('client-assertion', { now: Date.now(), clientId: 'lab-pkjwt', audience: url('token'), jti: newJti(), lifetimeSec: 90 }), { alg: 'RS256', kid: lab.tokens!.demo.signingKid }, key);
  const flow: FlowRequest = { kind: 'client-credentials', issuer: url('issuer'), clientAuth: { method: 'private_key_jwt', clientId: 'lab-pkjwt', clientAssertions: [await sign(), await sign()] } };
  const { file, check } = await roundTrip(flow, {});
  assert.ok(check.ok, check.message);
  const spec = (file.flow as { clientAuth: { clientAssertions: { $jwt: Record<string, unknown> } } }).clientAuth.clientAssertions.$jwt;
  assert.deepEqual(spec, { template: 'client-assertion', key: 'signing_key', alg: 'RS256', kid: lab.tokens!.demo.signingKid, lifetimeSec: 90, audience: 'lab:token', count: 2 });
  assert.deepEqual(file.secrets, { signing_key: { file: 'signing-key.pem' } });
  // With secrets kept the assertions are still a template: a signed one would have expired.
  const included = toScenario({ kind: 'flow', flow }, { name: 'x', includeSecrets: true, labTargets: lab.info.targets });
  assert.deepEqual(included.flow, file.flow);
  assert.doesNotMatch(JSON.stringify(included), /eyJ/);
});

test('jwt exchange: the seed JWT keeps its subject and issuer; includeSecrets keeps the client secret, the JWT stays a template', async () => {
  const key = await importSigningKey(lab.tokens!.demo.signingKeyPem, 'RS256');
  const jwt = await signJwt(templateClaims('seed', { now: Date.now(), clientId: 'lab-seed', subject: 'user-5', claims: { tenant: 'acme' } }), { alg: 'RS256', kid: lab.tokens!.demo.signingKid }, key);
  const flow: FlowRequest = { kind: 'jwt-exchange', tokenUrl: url('jwt-exchange'), clientId: 'lab-seed', clientSecret: 'lab-seed-secret', jwt };
  const { file, check } = await roundTrip(flow, { CLIENT_SECRET: 'lab-seed-secret' });
  assert.ok(check.ok, check.message);
  assert.deepEqual((file.flow as { jwt: unknown }).jwt, { $jwt: { template: 'seed', key: 'signing_key', alg: 'RS256', kid: lab.tokens!.demo.signingKid, lifetimeSec: 60, clientId: 'lab-seed', subject: 'user-5', claims: { tenant: 'acme' } } });
  // Secrets included: the client secret's value, the JWT still a template signed at run time.
  const included = toScenario({ kind: 'flow', flow }, { name: 'x', includeSecrets: true, labTargets: lab.info.targets });
  assert.deepEqual(included.secrets, { signing_key: { file: 'signing-key.pem' }, client_secret: { value: 'lab-seed-secret' } });
  const resolved = await resolveScenario(parseScenario(JSON.stringify(included)), { baseDir: dir, lab });
  assert.equal(resolved.kind === 'flow' && resolved.flow.kind === 'jwt-exchange' ? resolved.flow.clientSecret : null, 'lab-seed-secret');
});

test('a client the lab registered for a browser key is saved as what makes it again: a key for the run and its registration', async () => {
  // What the app does: register this browser's public key, sign with it.
  const { generateKeyPair, exportJWK } = await import('jose');
  const pair = await generateKeyPair('ES256', { extractable: true });
  const { kty, crv, x, y } = await exportJWK(pair.publicKey);
  const reg = await lab.tokens!.register({ publicJwk: { kty: kty!, crv: crv!, x: x!, y: y! } });
  const sign = (template: 'seed' | 'jwt-bearer' | 'client-assertion', audience: string) =>
    signJwt(templateClaims(template, { now: Date.now(), clientId: reg.clientId, audience, jti: newJti(), subject: 'user-7' }), { alg: 'ES256', kid: reg.kid }, pair.privateKey);
  const flows: FlowRequest[] = [
    { kind: 'jwt-exchange', tokenUrl: url('jwt-exchange'), clientId: reg.clientId, clientSecret: reg.clientSecret, jwt: await sign('seed', url('jwt-exchange')) },
    { kind: 'jwt-bearer', tokenUrl: url('token'), assertion: await sign('jwt-bearer', url('token')) },
    { kind: 'client-credentials', tokenUrl: url('token'), clientAuth: { method: 'private_key_jwt', clientId: reg.clientId, clientAssertions: [await sign('client-assertion', url('token'))] } },
  ];
  for (const flow of flows) {
    for (const includeSecrets of [false, true]) {
      const file = toScenario({ kind: 'flow', flow }, { name: flow.kind, includeSecrets, labTargets: lab.info.targets, expect: { outcome: 'pass', diagnoses: [] } });
      const text = JSON.stringify(file);
      assert.doesNotMatch(text, /lab-reg-/, `${flow.kind}: no client that lives only in one relay's memory`);
      assert.doesNotMatch(text, new RegExp(reg.clientSecret), `${flow.kind}: no registration secret`);
      assert.deepEqual(file.secrets?.signing_key, { generate: 'ES256' });
      assert.deepEqual(file.secrets?.lab_client_id, { lab: 'registered-client:signing_key' });
      // Run by a lab that never saw the browser's key: it registers the run's own key.
      const other = await startLab({ dataDir: join(dir, 'lab') });
      try {
        const scenario = parseScenario(text);
        const result = await runScenario(scenario, { baseDir: dir, lab: other, env: {}, onEvent: () => {} });
        const verdict = checkExpect(scenario, result)!;
        assert.ok(verdict.ok, `${flow.kind} (includeSecrets ${includeSecrets}): ${verdict.message}`);
      } finally {
        await other.close();
      }
    }
  }
});

test('probe: the private key becomes a file reference, the certificate stays', () => {
  const file = toScenario({ kind: 'probe', probe: { url: url('mtls'), client: { certificatePem: 'CERT', privateKeyPem: 'KEY' }, headers: { 'X-Api-Key': 'k-123456' } } }, { name: 'p', labTargets: lab.info.targets });
  assert.deepEqual(file.probe, { url: 'lab:mtls', client: { certificatePem: 'CERT', privateKeyPem: { $secret: 'client_key' } }, headers: { 'X-Api-Key': { $secret: 'x_api_key' } } });
  assert.deepEqual(file.secrets, { client_key: { file: 'client-key.pem' }, x_api_key: { env: 'X_API_KEY' } });
  const tenant = toScenario({ kind: 'flow', flow: { kind: 'discovery', issuer: url('no-state') } }, { name: 'd', labTargets: lab.info.targets });
  assert.equal((tenant.flow as { issuer: string }).issuer, 'lab:no-state');
});

test('refresh token from an earlier run against the lab: saved as one the lab issues, and the file runs', async () => {
  const flow: FlowRequest = { kind: 'refresh-token', issuer: url('issuer'), clientAuth: { method: 'client_secret_basic', clientId: 'lab-basic', clientSecret: 'lab-basic-secret' }, refreshTokenFromRun: 'r0123456789ab' };
  const { file, text, check } = await roundTrip(flow, { CLIENT_SECRET: 'lab-basic-secret' });
  assert.ok(check.ok, check.message);
  assert.deepEqual(file.secrets?.refresh_token, { lab: 'refresh-token:lab-basic' });
  assert.doesNotMatch(text, /refreshTokenFromRun|r0123456789ab/);
});

test('refresh token against a partner: named, never saved, whether pasted or from a run', () => {
  const base = { kind: 'refresh-token', issuer: 'https://login.partner.example', clientAuth: { method: 'client_secret_post', clientId: 'acme', clientSecret: 's3cret-value' } } as const;
  const fromRun = toScenario({ kind: 'flow', flow: { ...base, refreshTokenFromRun: 'r0123456789ab' } }, { name: 'p', includeSecrets: true });
  assert.deepEqual(fromRun.secrets?.refresh_token, { env: 'REFRESH_TOKEN' });
  const pasted = toScenario({ kind: 'flow', flow: { ...base, refreshToken: 'rt-pasted-value' } }, { name: 'p' });
  assert.deepEqual(pasted.secrets?.refresh_token, { env: 'REFRESH_TOKEN' });
  assert.doesNotMatch(JSON.stringify(pasted), /rt-pasted-value/);
});

test('introspect and revoke (client_secret_jwt): the token and the secret become environment variables, and run again', async () => {
  const introspect: FlowRequest = { kind: 'introspect', issuer: url('issuer'), token: lab.tokens!.issueRefreshToken('lab-secretjwt'), clientAuth: { method: 'client_secret_jwt', clientId: 'lab-secretjwt', clientSecret: 'lab-secretjwt-secret' } };
  const a = await roundTrip(introspect, { TOKEN: introspect.token, CLIENT_SECRET: 'lab-secretjwt-secret' });
  assert.ok(a.check.ok, a.check.message);
  assert.deepEqual(a.file.secrets, { client_secret: { env: 'CLIENT_SECRET' }, token: { env: 'TOKEN' } });
  assert.ok(!a.text.includes(introspect.token) && !a.text.includes('lab-secretjwt-secret'));
  const rt = lab.tokens!.issueRefreshToken('lab-basic');
  const revoke: FlowRequest = { kind: 'revoke', revocationUrl: `${url('issuer')}/revoke`, introspectAfter: true, introspectionUrl: `${url('issuer')}/introspect`, token: rt, clientAuth: { method: 'client_secret_basic', clientId: 'lab-basic', clientSecret: 'lab-basic-secret' } };
  const b = await roundTrip(revoke, { TOKEN: rt, CLIENT_SECRET: 'lab-basic-secret' });
  assert.ok(b.check.ok, b.check.message);
  assert.ok(!b.text.includes(rt));
});
