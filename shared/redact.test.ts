import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MASK, redactDeep, redactForm, redactHeaders, redactText } from './redact.ts';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLXZhbHVlLWhlcmU';

test('headers: credentials masked, scheme kept', () => {
  const out = redactHeaders({ Authorization: 'Bearer SECRET-1', Cookie: 'a=SECRET-2', apiKey: 'SECRET-3', 'content-type': 'text/plain' });
  assert.equal(out.Authorization, `Bearer ${MASK}`);
  assert.equal(out.Cookie, MASK);
  assert.equal(out.apiKey, MASK);
  assert.equal(out['content-type'], 'text/plain');
});

test('text: private keys and JWT signatures masked', () => {
  const key = '-----BEGIN PRIVATE KEY-----\nMIIEvSECRETSECRET\n-----END PRIVATE KEY-----';
  const out = redactText(`key ${key} token ${JWT}`);
  assert.ok(!out.includes('SECRETSECRET'));
  assert.ok(!out.includes('c2lnbmF0dXJl'));
  assert.ok(out.includes('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.'), 'header and claims stay readable');
  const rsa = redactText('-----BEGIN RSA PRIVATE KEY-----\nABCSECRET\n-----END RSA PRIVATE KEY-----');
  assert.ok(!rsa.includes('ABCSECRET'));
  const truncated = redactText('-----BEGIN EC PRIVATE KEY-----\nABCSECRET');
  assert.ok(!truncated.includes('ABCSECRET'), 'a key cut off before its END line is still masked');
});

test('deep: secret fields masked, codes stay readable', () => {
  const out = redactDeep({ client_secret: 's1', nested: [{ refresh_token: 's2', code: 'client_cert_required' }], privateKeyPem: 'k', password: '' });
  assert.deepEqual(out, { client_secret: MASK, nested: [{ refresh_token: MASK, code: 'client_cert_required' }], privateKeyPem: MASK, password: '' });
});

test('form bodies: OAuth secrets including code masked', () => {
  const out = redactForm('grant_type=authorization_code&code=SECRET1&client_id=abc&client_secret=SECRET2&jwt_token=SECRET3');
  assert.ok(!/SECRET/.test(out), out);
  assert.match(out, /client_id=abc/);
});

test('deep redaction is bounded on pathological depth', () => {
  let v: unknown = 'x';
  for (let i = 0; i < 1000; i++) v = [v];
  assert.doesNotThrow(() => redactDeep(v));
});

test('deep: a decoded JWT under a secret name keeps its claims; name maps keep their names', () => {
  const out = redactDeep({ jwt_token: { header: { alg: 'RS256' }, claims: { sub: 'u1' } }, headerNames: { apiKey: 'X-Api-Key' }, apiKey: 'SECRET-1' });
  assert.deepEqual(out, { jwt_token: { header: { alg: 'RS256' }, claims: { sub: 'u1' } }, headerNames: { apiKey: 'X-Api-Key' }, apiKey: MASK });
});
