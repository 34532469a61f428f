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

// ---- redaction is linear in its input (issue 10: `-eyJab` × 256 KiB froze the relay 16 s)

import fc from 'fast-check';
import { notLinear } from './testing/linear-time.ts';

/** The former regexes: right on small inputs, super-linear on hostile ones. The oracle. */
const OLD_PEM = /-----BEGIN ((?:ENCRYPTED |RSA |EC |OPENSSH )?PRIVATE KEY)-----[\s\S]*?(?:-----END \1-----|$)/g;
const OLD_JWT = /\b(eyJ[A-Za-z0-9_-]{2,}\.eyJ[A-Za-z0-9_-]{2,})\.[A-Za-z0-9_-]{10,}/g;
const oracle = (text: string) => text
  .replace(OLD_PEM, (_m, label: string) => `-----BEGIN ${label}----- ${MASK} (private key not shown) -----END ${label}-----`)
  .replace(OLD_JWT, (_m, signedPart: string) => `${signedPart}.${MASK}`);

const PIECES = ['eyJ', 'ab', 'abcdefghij', '-', '_', '.', ' ', '\n', 'é', 'x', '-----BEGIN ', '-----END ', 'RSA PRIVATE KEY-----', 'PRIVATE KEY-----', 'EC ', '-----'] as const;

test('text: the linear scan masks exactly what the former regexes masked', () => {
  fc.assert(fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 60 }), (pieces) => {
    const text = pieces.join('');
    assert.equal(redactText(text), oracle(text));
  }), { numRuns: 3000 });
});

/** Beginnings of what each mask looks for, repeated: the inputs that make a regex backtrack. */
const PREFIXES = [
  '-eyJab', 'eyJab.', '.eyJab', 'eyJabc.eyJabc.', 'eyJ', '-----BEGIN ', '-----BEGIN RSA PRIVATE KEY-----', '-----BEGIN PRIVATE KEY-----x-----END ',
  '<Password', '<Password ', '<Password>', '<Password>x</', '<a:SharedSecret x="', '</', '<', 'Bearer ', 'a'.repeat(70),
  '"access_token":"', '"access_token": "\\', '"a":"\\"', '"x":', '\nAuthorization: ', 'Authorization', '\nx-auth-token:',
] as const;
const SIZE = 256 * 1024;
const BUDGET_MS = 100;

test(`text: ${SIZE / 1024} KiB of any repeated pattern prefix is redacted within ${BUDGET_MS} ms, or in linear time`, () => {
  redactText('warm up eyJab.eyJab.abcdefghijkl <Password>x</Password>');
  const unitOf = fc.tuple(fc.array(fc.constantFrom(...PREFIXES), { minLength: 1, maxLength: 3 }), fc.constantFrom('', 'x', '-', '.', ' ', '>', '\n'));
  fc.assert(fc.property(unitOf, ([prefixes, filler]) => {
    const unit = prefixes.join('') + filler;
    const why = notLinear(redactText, (size) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size), SIZE, BUDGET_MS);
    assert.equal(why, undefined, `${JSON.stringify(unit)}: ${why}`);
  }), { numRuns: 60, examples: [[[['-eyJab'], '']], [[['-eyJab', 'eyJ'], '']], [[['-----BEGIN RSA PRIVATE KEY-----'], '']], [[['<Password '], '']]] });
});

test('text: XML elements named like secrets are masked, others kept', () => {
  const cases = [
    ['<Credential domain="NetworkId"><Identity>buyer</Identity><SharedSecret>S3cr3t-Canary</SharedSecret></Credential>', '<SharedSecret>••••••</SharedSecret>'],
    ['<wsse:Password Type="PasswordText">S3cr3t-Canary</wsse:Password>', '<wsse:Password Type="PasswordText">••••••</wsse:Password>'],
    ['<client_secret>S3cr3t-Canary</client_secret >', '<client_secret>••••••</client_secret>'],
    ['<access-token>S3cr3t-Canary</access-token>', '<access-token>••••••</access-token>'],
  ] as const;
  for (const [xml, expected] of cases) {
    const out = redactText(xml);
    assert.ok(!out.includes('S3cr3t-Canary'), out);
    assert.ok(out.includes(expected), out);
  }
  assert.equal(redactText('<Identity>buyer</Identity><Password></Password>'), '<Identity>buyer</Identity><Password></Password>');
});

test('text: secret members of JSON that does not parse, and secret header lines, are masked', () => {
  const cut = '{"access_token":"S3CRET-1","scope":"read","refresh_token" : "S3C\\"RET-2","id_token":"eyJ';
  assert.equal(redactText(cut), `{"access_token":"${MASK}","scope":"read","refresh_token" : "${MASK}","id_token":"eyJ`);
  assert.equal(redactText('GET /x\nAuthorization: Bearer S3CRET-3\nX-Auth-Token: S3CRET-4\nHost: h'), `GET /x\nAuthorization: Bearer ${MASK}\nX-Auth-Token: ${MASK}\nHost: h`);
});

test('headers: vendor token headers are secret', () => {
  const out = redactHeaders({ 'X-Auth-Token': 'S3cr3t-1', 'Private-Token': 'S3cr3t-2', 'X-Access-Token': 'S3cr3t-3', 'X-Request-Id': 'r1' });
  assert.deepEqual(out, { 'X-Auth-Token': MASK, 'Private-Token': MASK, 'X-Access-Token': MASK, 'X-Request-Id': 'r1' });
});

import { basicCredential, scrubDeep, secretValues } from './redact.ts';

test('secretValues: every encoding the relay gives a secret, longest first', () => {
  const secret = `p+/= &<>"'\\S3CRETé`;
  const values = secretValues({
    body: new URLSearchParams({ client_secret: secret, pin: 'PIN-S3CRET-2', grant_type: 'client_credentials' }).toString(),
    url: 'https://x/?access_token=QUERY-S3CRET&page=2',
    headers: { 'X-Auth-Token': 'XAUTH-S3CRET', 'X-Partner-Key': 'PARTNER-S3CRET', Authorization: `Basic ${basicCredential('id', 'BASIC+S3CRET')}` },
    names: ['pin', 'x-partner-key'],
    basic: [{ user: 'client 1', password: secret }],
  });
  const echoed = [
    secret, encodeURIComponent(secret), new URLSearchParams([['a', secret]]).toString().slice(2), JSON.stringify(secret).slice(1, -1), JSON.stringify(secret).slice(1, -1).replace(/\//g, '\\/'),
    secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'), basicCredential('client 1', secret), btoa(unescape(encodeURIComponent(`client 1:${secret}`))),
    encodeURIComponent(new URLSearchParams([['a', secret]]).toString().slice(2)), Buffer.from(secret).toString('latin1'),
    'PIN-S3CRET-2', 'QUERY-S3CRET', 'XAUTH-S3CRET', 'PARTNER-S3CRET', 'id:BASIC%2BS3CRET', 'BASIC+S3CRET',
  ];
  for (const e of echoed) assert.equal(scrubDeep(`echo: ${e}.`, values), `echo: ${MASK}.`, `${e} is scrubbed whole`);
  assert.deepEqual(values, [...values].sort((a, b) => b.length - a.length));
  assert.ok(!values.includes('client_credentials') && !values.includes('page=2'));
});

test('scrubDeep passes over strings shorter than the shortest secret and still finds one exactly as long', () => {
  const secret = 'MIIEvQIBADANBgkqhkiG9w0B';
  const longer = `${secret}AQEFAASCBKcwggSj`;
  const out = scrubDeep({ label: 'TLS', exact: secret, inside: ['x', `key ${longer} end`] }, [longer, secret]);
  assert.deepEqual(out, { label: 'TLS', exact: MASK, inside: ['x', `key ${MASK} end`] });
});

test('secretValues: a base64 value (a key line) gets every form the general encodings give it, and no other', () => {
  // The encodings secretValues documents, applied as written, twice (an echo may encode again).
  const latin1 = (v: string) => Array.from(new TextEncoder().encode(v), (b) => String.fromCharCode(b)).join('');
  const once = (v: string) => {
    const form = new URLSearchParams([['', v]]).toString().slice(1);
    const json = JSON.stringify(v).slice(1, -1);
    const xml = v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    return [v, encodeURIComponent(v), encodeURIComponent(v).replace(/%20/g, '+'), form, form.replace(/\+/g, '%20'), json, json.replace(/\//g, '\\/'), xml, xml.replace(/"/g, '&quot;').replace(/'/g, '&#39;'), latin1(v)];
  };
  fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9+/=_.%-]{16,80}$/), (v) => {
    const expected = new Set(once(v).flatMap(once));
    assert.deepEqual(new Set(secretValues({ extra: [v] })), expected);
  }), { numRuns: 300 });
});

import { cleanDeep } from './redact.ts';

test('cleanDeep: the same as scrubDeep(redactDeep()), for any JSON-like value', () => {
  const secrets = secretValues({ extra: ['S3CRET-VALUE/1+x', 'MIIEvQIBADANBgkqhkiG9w0B'] });
  const text = fc.constantFrom('plain', 'TLS_AES_256_GCM_SHA384', 'S3CRET-VALUE/1+x', 'S3CRET-VALUE%2F1%2Bx', `Bearer ${JWT}`, 'MIIEvQIBADANBgkqhkiG9w0B', '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----', '"access_token": "t0ken"', 'Authorization: Basic abc', '<Password>p</Password>', '');
  const key = fc.constantFrom('summary', 'client_secret', 'access_token', 'Authorization', 'headerNames', 'fieldNames', 'details', 'code', 'password', 'chain');
  const leaf = fc.oneof(fc.string(), text, fc.integer(), fc.boolean(), fc.constant(null));
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(key, tie('node'), { maxKeys: 5, noNullPrototype: true })),
  })).node;
  fc.assert(fc.property(value, (v) => {
    const before = structuredClone(v);
    // Compared as sent: a null-prototype object comes back as it is rather than as a plain copy.
    assert.equal(JSON.stringify(cleanDeep(v, secrets)), JSON.stringify(scrubDeep(redactDeep(v), secrets)));
    assert.deepEqual(v, before, 'the input is left as it was');
  }), { numRuns: 500 });
});

test('cleanDeep shares what it does not change and copies the path to what it does', () => {
  const evidence = { serverChain: [{ subject: 'CN=server', issuer: 'CN=lab CA' }], protocol: 'TLSv1.3' };
  const headers = { 'content-type': 'text/plain', authorization: 'Bearer abc.def' };
  const step = { id: 'tls', details: evidence, request: { headers }, echoed: ['fine', 'key S3CRET-VALUE/1+x'] };
  const out = cleanDeep(step, ['S3CRET-VALUE/1+x']);
  assert.equal(out.details, evidence, 'an unchanged subtree is the same object');
  assert.notEqual(out, step);
  assert.notEqual(out.request.headers, headers);
  assert.equal(out.request.headers.authorization, MASK);
  assert.deepEqual(out.echoed, ['fine', `key ${MASK}`]);
  assert.equal(step.request.headers.authorization, 'Bearer abc.def');
  const clean = { a: [{ b: 'nothing to hide' }] };
  assert.equal(cleanDeep(clean, ['S3CRET-VALUE/1+x']), clean, 'nothing to hide: nothing copied');
  const bytes = new Uint8Array([1, 2]);
  assert.deepEqual(cleanDeep({ bytes }, []), { bytes: { 0: 1, 1: 2 } }, 'a typed array becomes a plain object, as with redactDeep');
});
