import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlowRequest, parseLabRegistration, flowTarget, FLOW_LIMITS, type FlowRequest } from './flow-request.ts';
import { parseClientMessage, ProtocolError } from '../protocol/index.ts';

const basic = { method: 'client_secret_basic', clientId: 'c', clientSecret: 's' };

const ok: { name: string; flow: object; want?: object }[] = [
  { name: 'discovery', flow: { kind: 'discovery', issuer: 'https://as.example' } },
  { name: 'jwt exchange with field names', flow: { kind: 'jwt-exchange', tokenUrl: 'https://as/t', clientId: 'c', clientSecret: 's', jwt: 'a.b.c', fieldNames: { jwt: 'assertion_jwt' } } },
  { name: 'jwt-bearer without client auth', flow: { kind: 'jwt-bearer', tokenUrl: 'https://as/t', assertion: 'a.b.c', scope: 'read' } },
  { name: 'client credentials, basic', flow: { kind: 'client-credentials', issuer: 'https://as', clientAuth: basic, scope: 'a b', extraParams: { resource: 'https://api' } } },
  { name: 'client credentials, private_key_jwt', flow: { kind: 'client-credentials', tokenUrl: 'https://as/t', clientAuth: { method: 'private_key_jwt', clientId: 'c', clientAssertions: ['a.b.c', 'd.e.f'] } } },
  { name: 'client credentials, tls_client_auth with a certificate', flow: { kind: 'client-credentials', tokenUrl: 'https://as/t', clientAuth: { method: 'tls_client_auth', clientId: 'c' }, tls: { client: { certificatePem: 'C', privateKeyPem: 'K' }, verifyServer: false } } },
  { name: 'refresh', flow: { kind: 'refresh-token', tokenUrl: 'https://as/t', refreshToken: 'r', clientAuth: { method: 'none', clientId: 'c' } } },
  { name: 'authorization code, everything', flow: { kind: 'authorization-code', issuer: 'https://as', clientAuth: basic, redirectKey: 'acme-1', pkce: true, scope: 'openid offline_access', extraAuthParams: { prompt: 'consent' }, requireRefreshToken: false, callbackTimeoutMs: 60_000, call: { url: 'https://api/x', method: 'GET', headers: { Accept: 'application/json' } }, registeredJwks: { keys: [{ kty: 'RSA', kid: 'k', n: 'n', e: 'AQAB' }] } } },
  { name: 'authorization code with a fixed redirect URI', flow: { kind: 'authorization-code', issuer: 'https://as', clientAuth: basic, redirectUri: 'http://127.0.0.1:8765/callback/partner' } },
  { name: 'authorization code with explicit endpoints', flow: { kind: 'authorization-code', authorizationUrl: 'https://as/a', tokenUrl: 'https://as/t', clientAuth: basic } },
  { name: 'api key with header names', flow: { kind: 'api-key', url: 'https://api/x', apiKey: 'k', username: 'u', headerNames: { apiKey: 'X-Api-Key', username: 'X-User' }, method: 'POST', body: '{}' } },
  { name: 'client credentials, client_secret_jwt', flow: { kind: 'client-credentials', issuer: 'https://as', clientAuth: { method: 'client_secret_jwt', clientId: 'c', clientSecret: 's' } } },
  { name: 'introspect by discovery', flow: { kind: 'introspect', issuer: 'https://as', token: 't', tokenTypeHint: 'refresh_token', clientAuth: basic, expectActive: false } },
  { name: 'introspect at a given URL', flow: { kind: 'introspect', introspectionUrl: 'https://as/i', tokenUrl: 'https://as/t', token: 't', clientAuth: basic } },
  { name: 'revoke, proven by introspection and a call', flow: { kind: 'revoke', issuer: 'https://as', token: 't', clientAuth: basic, introspectAfter: true, call: { url: 'https://api/x' } } },
  { name: 'revoke at given URLs', flow: { kind: 'revoke', revocationUrl: 'https://as/r', token: 't', clientAuth: basic, introspectAfter: true, introspectionUrl: 'https://as/i' } },
  { name: 'extra fields are ignored', flow: { kind: 'discovery', issuer: 'https://as', colour: 'blue' }, want: { kind: 'discovery', issuer: 'https://as' } },
];

for (const c of ok) {
  test(`parseFlowRequest accepts: ${c.name}`, () => {
    const got = parseFlowRequest(c.flow, 'r1');
    assert.deepEqual(JSON.parse(JSON.stringify(got)), c.want ?? c.flow);
  });
}

const bad: { name: string; flow: unknown; message: RegExp }[] = [
  { name: 'not an object', flow: 'x', message: /^flow must be an object$/ },
  { name: 'unknown kind', flow: { kind: 'saml' }, message: /flow\.kind "saml" is not a known flow/ },
  { name: 'discovery without issuer', flow: { kind: 'discovery' }, message: /flow\.issuer must be a string/ },
  { name: 'empty issuer', flow: { kind: 'discovery', issuer: ' ' }, message: /flow\.issuer must not be empty/ },
  { name: 'jwt exchange without tokenUrl', flow: { kind: 'jwt-exchange', issuer: 'https://as', clientId: 'c', jwt: 'a.b.c' }, message: /flow\.tokenUrl is required/ },
  { name: 'jwt exchange with a numeric jwt', flow: { kind: 'jwt-exchange', tokenUrl: 'https://as/t', clientId: 'c', jwt: 5 }, message: /flow\.jwt must be a string/ },
  { name: 'jwt too long', flow: { kind: 'jwt-bearer', tokenUrl: 'https://as/t', assertion: 'x'.repeat(FLOW_LIMITS.jwt + 1) }, message: /flow\.assertion is longer than/ },
  { name: 'duplicate field names', flow: { kind: 'jwt-exchange', tokenUrl: 'https://as/t', clientId: 'c', jwt: 'a.b.c', fieldNames: { clientId: 'x', jwt: 'x' } }, message: /three different names/ },
  { name: 'no issuer or tokenUrl', flow: { kind: 'client-credentials', clientAuth: basic }, message: /needs issuer .* or tokenUrl/ },
  { name: 'client credentials without clientAuth', flow: { kind: 'client-credentials', tokenUrl: 'https://as/t' }, message: /flow\.clientAuth is required/ },
  { name: 'unknown auth method', flow: { kind: 'client-credentials', tokenUrl: 'https://as/t', clientAuth: { method: 'client_secret_rsa', clientId: 'c' } }, message: /flow\.clientAuth\.method must be one of/ },
  { name: 'client_secret_jwt without secret', flow: { kind: 'client-credentials', tokenUrl: 'https://as/t', clientAuth: { method: 'client_secret_jwt', clientId: 'c' } }, message: /flow\.clientAuth\.clientSecret must be a string/ },
  { name: 'basic without secret', flow: { kind: 'client-credentials', tokenUrl: 'https://as/t', clientAuth: { method: 'client_secret_basic', clientId: 'c' } }, message: /flow\.clientAuth\.clientSecret must be a string/ },
  { name: 'private_key_jwt without assertions', flow: { kind: 'client-credentials', tokenUrl: 'https://as/t', clientAuth: { method: 'private_key_jwt', clientId: 'c', clientAssertions: [] } }, message: /clientAssertions must be a non-empty array/ },
  { name: 'too many assertions', flow: { kind: 'client-credentials', tokenUrl: 'https://as/t', clientAuth: { method: 'private_key_jwt', clientId: 'c', clientAssertions: Array(FLOW_LIMITS.clientAssertions + 1).fill('a.b.c') } }, message: /more than 8 entries/ },
  { name: 'assertion not a string', flow: { kind: 'client-credentials', tokenUrl: 'https://as/t', clientAuth: { method: 'private_key_jwt', clientId: 'c', clientAssertions: ['a.b.c', 7] } }, message: /clientAssertions\[1\]/ },
  { name: 'clientId missing', flow: { kind: 'client-credentials', tokenUrl: 'https://as/t', clientAuth: { method: 'none' } }, message: /flow\.clientAuth\.clientId must be a string/ },
  { name: 'tls client without key', flow: { kind: 'client-credentials', tokenUrl: 'https://as/t', clientAuth: basic, tls: { client: { certificatePem: 'C' } } }, message: /flow\.tls\.client\.privateKeyPem must be a string/ },
  { name: 'verifyServer as a string', flow: { kind: 'discovery', issuer: 'https://as', tls: { verifyServer: 'no' } }, message: /flow\.tls\.verifyServer must be true or false/ },
  { name: 'extraParams with a number', flow: { kind: 'client-credentials', tokenUrl: 'https://as/t', clientAuth: basic, extraParams: { resource: 1 } }, message: /flow\.extraParams\.resource must be a string/ },
  { name: 'extraParams with __proto__', flow: JSON.parse('{"kind":"client-credentials","tokenUrl":"https://as/t","clientAuth":{"method":"none","clientId":"c"},"extraParams":{"__proto__":"x"}}'), message: /not an acceptable name/ },
  { name: 'call without url', flow: { kind: 'client-credentials', tokenUrl: 'https://as/t', clientAuth: basic, call: {} }, message: /flow\.call\.url must be a string/ },
  { name: 'call with a bad method', flow: { kind: 'client-credentials', tokenUrl: 'https://as/t', clientAuth: basic, call: { url: 'https://x', method: 'TRACE' } }, message: /flow\.call\.method must be one of/ },
  { name: 'call header with a newline', flow: { kind: 'client-credentials', tokenUrl: 'https://as/t', clientAuth: basic, call: { url: 'https://x', headers: { A: 'x\ny' } } }, message: /flow\.call\.headers\.A must be a single-line string/ },
  { name: 'registered JWKS with a private key', flow: { kind: 'client-credentials', tokenUrl: 'https://as/t', clientAuth: basic, registeredJwks: { keys: [{ kty: 'RSA', d: 'secret' }] } }, message: /flow\.registeredJwks\.keys\[0\] is a private key/ },
  { name: 'registered JWKS without keys', flow: { kind: 'client-credentials', tokenUrl: 'https://as/t', clientAuth: basic, registeredJwks: {} }, message: /flow\.registeredJwks\.keys must be an array/ },
  { name: 'authorization code without endpoints', flow: { kind: 'authorization-code', tokenUrl: 'https://as/t', clientAuth: basic }, message: /issuer .* or both authorizationUrl and tokenUrl/ },
  { name: 'redirect key with a slash', flow: { kind: 'authorization-code', issuer: 'https://as', clientAuth: basic, redirectKey: 'a/b' }, message: /flow\.redirectKey may contain only/ },
  { name: 'redirect URI and key both', flow: { kind: 'authorization-code', issuer: 'https://as', clientAuth: basic, redirectKey: 'a', redirectUri: 'http://127.0.0.1:8765/callback/a' }, message: /give redirectUri or redirectKey, not both/ },
  { name: 'redirect URI not loopback', flow: { kind: 'authorization-code', issuer: 'https://as', clientAuth: basic, redirectUri: 'https://app.partner.example/callback/a' }, message: /flow\.redirectUri: .* is not a loopback HTTP URI/ },
  { name: 'redirect URI without a port', flow: { kind: 'authorization-code', issuer: 'https://as', clientAuth: basic, redirectUri: 'http://localhost/callback/a' }, message: /flow\.redirectUri: .* has no port/ },
  { name: 'callback timeout too long', flow: { kind: 'authorization-code', issuer: 'https://as', clientAuth: basic, callbackTimeoutMs: 3_600_000 }, message: /flow\.callbackTimeoutMs must be/ },
  { name: 'pkce as a string', flow: { kind: 'authorization-code', issuer: 'https://as', clientAuth: basic, pkce: 'yes' }, message: /flow\.pkce must be true or false/ },
  { name: 'api key with a newline', flow: { kind: 'api-key', url: 'https://api', apiKey: 'a\nb', username: 'u' }, message: /single-line/ },
  { name: 'api key header name with a space', flow: { kind: 'api-key', url: 'https://api', apiKey: 'k', username: 'u', headerNames: { apiKey: 'api key' } }, message: /flow\.headerNames\.apiKey "api key" is not a valid header name/ },
  { name: 'introspect without issuer or URL', flow: { kind: 'introspect', token: 't', clientAuth: basic }, message: /flow needs issuer \(to run discovery\) or introspectionUrl/ },
  { name: 'introspect without token', flow: { kind: 'introspect', issuer: 'https://as', clientAuth: basic }, message: /flow\.token must be a string/ },
  { name: 'introspect with a token on two lines', flow: { kind: 'introspect', issuer: 'https://as', token: 'a\nb', clientAuth: basic }, message: /flow\.token must be single-line/ },
  { name: 'introspect with an unknown hint', flow: { kind: 'introspect', issuer: 'https://as', token: 't', tokenTypeHint: 'id_token', clientAuth: basic }, message: /flow\.tokenTypeHint must be one of access_token, refresh_token/ },
  { name: 'introspect without client auth', flow: { kind: 'introspect', issuer: 'https://as', token: 't' }, message: /flow\.clientAuth is required/ },
  { name: 'introspect with expectActive as a string', flow: { kind: 'introspect', issuer: 'https://as', token: 't', clientAuth: basic, expectActive: 'no' }, message: /flow\.expectActive must be true or false/ },
  { name: 'revoke without issuer or URL', flow: { kind: 'revoke', token: 't', clientAuth: basic }, message: /flow needs issuer \(to run discovery\) or revocationUrl/ },
  { name: 'revoke proven by introspection nowhere to be found', flow: { kind: 'revoke', revocationUrl: 'https://as/r', token: 't', clientAuth: basic, introspectAfter: true }, message: /flow\.introspectAfter needs issuer .* or introspectionUrl/ },
  { name: 'revoke with an introspection URL but no introspection', flow: { kind: 'revoke', revocationUrl: 'https://as/r', token: 't', clientAuth: basic, introspectionUrl: 'https://as/i' }, message: /flow\.introspectionUrl is used only with introspectAfter: true/ },
  { name: 'revoke with a call without url', flow: { kind: 'revoke', issuer: 'https://as', token: 't', clientAuth: basic, call: {} }, message: /flow\.call\.url must be a string/ },
  { name: 'api key header names equal', flow: { kind: 'api-key', url: 'https://api', apiKey: 'k', username: 'u', headerNames: { apiKey: 'X-A', username: 'x-a' } }, message: /must differ/ },
];

for (const c of bad) {
  test(`parseFlowRequest refuses: ${c.name}`, () => {
    assert.throws(() => parseFlowRequest(c.flow, 'r9'), (err: unknown) => {
      assert.ok(err instanceof ProtocolError);
      assert.equal(err.code, 'bad_message');
      assert.equal(err.id, 'r9');
      assert.match(err.message, c.message);
      return true;
    });
  });
}

test('flow.start goes through parseClientMessage', () => {
  const msg = parseClientMessage(JSON.stringify({ type: 'flow.start', id: 'f1', flow: { kind: 'api-key', url: 'https://api', apiKey: 'k', username: 'u' } }));
  assert.equal(msg.type, 'flow.start');
  assert.throws(() => parseClientMessage(JSON.stringify({ type: 'flow.start', id: 'f2', flow: { kind: 'nope' } })), /not a known flow/);
});

test('parseLabRegistration', () => {
  assert.deepEqual(parseLabRegistration({ publicJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k', ext: true } }, 'i'), { publicJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k' } });
  assert.throws(() => parseLabRegistration({}, 'i'), /publicJwk is required/);
  assert.throws(() => parseLabRegistration({ publicJwk: { kty: 'EC', d: 'x' } }, 'i'), /private key/);
  const ec = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' };
  assert.throws(() => parseLabRegistration({ publicJwk: ec, method: 'self_signed_tls_client_auth' }, 'i'), /x5c/);
  assert.throws(() => parseLabRegistration({ publicJwk: ec, method: 'client_secret_basic' }, 'i'), /method must be one of/);
  assert.throws(() => parseLabRegistration({ publicJwk: { kty: 'oct', k: 'secret' } }, 'i'), /publicJwk\.kty must be RSA, EC or OKP/);
  assert.throws(() => parseLabRegistration({ publicJwk: { kty: 'RSA', n: 'n' } }, 'i'), /publicJwk\.e is required for a RSA key/);
});

test('flowTarget names the URL the run is aimed at', () => {
  const flows: [FlowRequest, string][] = [
    [{ kind: 'discovery', issuer: 'https://as' }, 'https://as'],
    [{ kind: 'api-key', url: 'https://api/x', apiKey: 'k', username: 'u' }, 'https://api/x'],
    [{ kind: 'client-credentials', issuer: 'https://as', tokenUrl: 'https://as/t', clientAuth: { method: 'none', clientId: 'c' } }, 'https://as/t'],
    [{ kind: 'authorization-code', issuer: 'https://as', clientAuth: { method: 'none', clientId: 'c' } }, 'https://as'],
    [{ kind: 'introspect', issuer: 'https://as', introspectionUrl: 'https://as/i', token: 't', clientAuth: { method: 'none', clientId: 'c' } }, 'https://as/i'],
    [{ kind: 'revoke', issuer: 'https://as', token: 't', clientAuth: { method: 'none', clientId: 'c' } }, 'https://as'],
  ];
  for (const [flow, want] of flows) assert.equal(flowTarget(flow), want);
});
