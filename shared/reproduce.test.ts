import { test } from 'node:test';
import assert from 'node:assert/strict';
import { curlCommand, opensslCommand, shellQuote } from './reproduce.ts';

test('shellQuote', () => {
  assert.equal(shellQuote('simple/path.pem'), 'simple/path.pem');
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.equal(shellQuote('a b'), `'a b'`);
  assert.equal(shellQuote('$(rm -rf /)'), `'$(rm -rf /)'`);
});

test('curl: certificate files, method, headers, body; secret headers become variables', () => {
  const cmd = curlCommand({
    url: 'https://partner.example:8443/orders?x=1&y=2',
    method: 'POST',
    headers: { 'Content-Type': 'text/xml', apiKey: 'SECRET-VALUE' },
    body: '<cXML/>',
    client: { certificatePem: 'C', privateKeyPem: 'K' },
    caPem: 'CA',
  });
  assert.equal(cmd, `curl --verbose --show-error --cert client.pem --key client.key --cacert ca.pem --request POST --header 'Content-Type: text/xml' --header "apiKey: \${APIKEY}" --data-binary @body.txt 'https://partner.example:8443/orders?x=1&y=2'`);
  assert.ok(!cmd.includes('SECRET'));
});

test('curl: GET without a client certificate, insecure', () => {
  assert.equal(curlCommand({ url: 'https://localhost:1/', verifyServer: false }), 'curl --verbose --show-error --insecure https://localhost:1/');
});

test('openssl s_client: SNI for names, not for IPs; chain file only when there are intermediates', () => {
  assert.equal(
    opensslCommand({ url: 'https://partner.example/orders', client: { certificatePem: 'C', privateKeyPem: 'K' } }, { clientChainLength: 2 }),
    'openssl s_client -connect partner.example:443 -servername partner.example -cert client.pem -key client.key -cert_chain client-chain.pem -verify_return_error -showcerts -state </dev/null',
  );
  assert.equal(opensslCommand({ url: 'https://127.0.0.1:8443/', caPem: 'x' }), 'openssl s_client -connect 127.0.0.1:8443 -CAfile ca.pem -verify_return_error -showcerts -state </dev/null');
  assert.equal(opensslCommand({ url: 'https://[::1]:8443/' }), "openssl s_client -connect '[::1]:8443' -verify_return_error -showcerts -state </dev/null");
});

test('curl: secret query values and headers marked secret become variables', () => {
  const cmd = curlCommand({ url: 'https://api.example/x?access_token=S3CRET-1&page=2&api_key=S3CRET-2&pin=S3CRET-3&q=a$b', headers: { 'X-Partner-Key': 'S3CRET-4', 'X-Auth-Token': 'S3CRET-5' }, secretNames: ['x-partner-key', 'pin'] });
  assert.ok(!cmd.includes('S3CRET'), cmd);
  assert.ok(cmd.endsWith(' "https://api.example/x?access_token=${ACCESS_TOKEN}&page=2&api_key=${API_KEY}&pin=${PIN}&q=a\\$b"'), cmd);
  assert.ok(cmd.includes('"X-Partner-Key: ${X_PARTNER_KEY}"') && cmd.includes('"X-Auth-Token: ${X_AUTH_TOKEN}"'), cmd);
  assert.ok(curlCommand({ url: 'https://api.example/x?page=2&q=a' }).endsWith(" 'https://api.example/x?page=2&q=a'"), 'a URL without secrets stays single-quoted');
});
