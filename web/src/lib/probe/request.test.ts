// The probe form's parsing: what the user typed becomes a request, or a message naming the line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIELD_LIMITS } from '../../../../shared/protocol/index.ts';
import { buildProbeRequest, checkCaBundle, checkTargetUrl, parseHeaderLines, parseSecretNames } from './request.ts';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

test('header lines: names and values trimmed, blank lines ignored, a bad line named by number', () => {
  assert.deepEqual(parseHeaderLines('Accept: text/xml\n\n  X-Api-Key :  k1 \r\n'), { ok: true, value: { Accept: 'text/xml', 'X-Api-Key': 'k1' } });
  assert.deepEqual(parseHeaderLines('Accept: a\nno colon here'), { ok: false, message: 'Header line 2 is not "Name: value".' });
  assert.equal(parseHeaderLines(': value').ok, false);
  assert.equal(parseHeaderLines('Bad Name: v').ok, false);
});

test('target URL: https and http only, anything else says why', () => {
  assert.deepEqual(checkTargetUrl(' https://partner.example:8443/orders '), { ok: true, value: 'https://partner.example:8443/orders' });
  assert.equal(checkTargetUrl('http://127.0.0.1/').ok, true);
  const ftp = checkTargetUrl('ftp://x.example/');
  assert.equal(ftp.ok, false);
  assert.match(!ftp.ok ? ftp.message : '', /not ftp:/);
  assert.match(!checkTargetUrl('partner.example').ok ? (checkTargetUrl('partner.example') as { message: string }).message : '', /full URL/);
});

test('secret names: split on commas and spaces, bounded in count and shape', () => {
  assert.deepEqual(parseSecretNames('X-Partner-Key, pin  token'), { ok: true, value: ['X-Partner-Key', 'pin', 'token'] });
  assert.deepEqual(parseSecretNames(''), { ok: true, value: [] });
  assert.equal(parseSecretNames(Array.from({ length: FIELD_LIMITS.secretNames + 1 }, (_, i) => `n${i}`).join(',')).ok, false);
  const bad = parseSecretNames('ok, bad:name');
  assert.equal(bad.ok, false);
  assert.match(!bad.ok ? bad.message : '', /"bad:name" is not a header/);
});

test('CA bundle: certificates kept, a private key in it refused by its label', () => {
  assert.deepEqual(checkCaBundle('  '), { ok: true, value: undefined });
  const only = checkCaBundle(`junk before\n${CERT}`);
  assert.equal(only.ok, true);
  assert.match(only.ok ? only.value ?? '' : '', /BEGIN CERTIFICATE/);
  const withKey = checkCaBundle(CERT + KEY);
  assert.equal(withKey.ok, false);
  assert.match(!withKey.ok ? withKey.message : '', /PRIVATE KEY/);
  assert.equal(checkCaBundle('not pem').ok, false);
});

test('request: body only where the method has one, options only when they differ from the default', () => {
  const get = buildProbeRequest({ url: 'https://a.example/', method: 'GET', headersText: '', body: 'ignored' });
  assert.deepEqual(get, { ok: true, value: { url: 'https://a.example/', method: 'GET' } });
  const post = buildProbeRequest({ url: 'https://a.example/p', method: 'POST', headersText: 'Content-Type: text/xml', body: '<x/>', verifyServer: false, trustLab: false, secretNamesText: 'pin', caPem: CERT });
  assert.equal(post.ok, true);
  if (!post.ok) return;
  assert.deepEqual({ ...post.value, caPem: undefined }, { url: 'https://a.example/p', method: 'POST', headers: { 'Content-Type': 'text/xml' }, body: '<x/>', verifyServer: false, trustLab: false, secretNames: ['pin'], caPem: undefined });
  assert.match(post.value.caPem ?? '', /BEGIN CERTIFICATE/);
  assert.equal(buildProbeRequest({ url: 'https://a.example/', method: 'GET', headersText: 'oops', body: '' }).ok, false);
});
