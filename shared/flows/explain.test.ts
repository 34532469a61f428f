import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainTokenRefusal, explainApiRefusal, type TokenRefusal, type JwtCheck } from './explain.ts';
import { parseOAuthError, parseWwwAuthenticate } from './oauth-errors.ts';
import { DIAGNOSES, diagnosis, INFERRED_PREFIX, isDiagnosisCode } from '../diagnoses.ts';

// oidc-provider's answer to every client-authentication failure.
const INVALID_CLIENT = { error: 'invalid_client', description: 'client authentication failed' };
const INVALID_GRANT = { error: 'invalid_grant', description: 'grant request is invalid' };
const clean: JwtCheck = { label: 'client assertion', alg: 'RS256', findings: [] };
const expired: JwtCheck = { label: 'client assertion', alg: 'RS256', findings: [{ code: 'exp_past', severity: 'error', message: 'expired 2 min ago', claim: 'exp' }, { code: 'clock_skew', severity: 'warning', message: 'iat is 3 min behind' }] };
const wrongAud: JwtCheck = { label: 'assertion', findings: [{ code: 'aud_mismatch', severity: 'error', message: 'aud is https://as; expected https://as/token', claim: 'aud' }] };
const unknownKid: JwtCheck = { label: 'client assertion', alg: 'RS256', findings: [{ code: 'kid_not_in_jwks', severity: 'error', message: 'kid "x" is not among the registered keys', claim: 'kid' }] };
const longLived: JwtCheck = { label: 'jwt_token', findings: [{ code: 'lifetime_too_long', severity: 'warning', message: 'lives 60 min' }] };
const METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls_client_auth'];

const cases: { name: string; r: TokenRefusal; want: string }[] = [
  { name: 'wrong secret (basic)', r: { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'client_secret_basic', supportedAuthMethods: METHODS }, want: 'client_secret_rejected' },
  { name: 'method not offered by discovery', r: { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'self_signed_tls_client_auth', supportedAuthMethods: METHODS }, want: 'auth_method_not_supported' },
  { name: 'registered for another method (lab knows)', r: { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'client_secret_basic', registeredMethod: 'private_key_jwt' }, want: 'auth_method_mismatch' },
  { name: 'nothing sent', r: { grant: 'client_credentials', status: 401, error: INVALID_CLIENT }, want: 'client_auth_missing' },
  { name: 'method none for a confidential client', r: { grant: 'authorization_code', status: 401, error: INVALID_CLIENT, authMethod: 'none' }, want: 'client_auth_missing' },
  { name: 'expired client assertion', r: { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'private_key_jwt', clientAssertion: expired }, want: 'jwt_expired' },
  { name: 'unknown kid', r: { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'private_key_jwt', clientAssertion: unknownKid }, want: 'jwt_key_unknown' },
  { name: 'alg not offered', r: { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'private_key_jwt', clientAssertion: { ...clean, alg: 'PS512' }, supportedSigningAlgs: ['RS256', 'ES256'] }, want: 'jwt_alg_key_mismatch' },
  { name: 'clean assertion, server clock off', r: { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'private_key_jwt', clientAssertion: clean, serverClockOffsetSec: 900 }, want: 'clock_skew' },
  { name: 'clean assertion, nothing else to see', r: { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'private_key_jwt', clientAssertion: clean, serverClockOffsetSec: 2 }, want: 'client_assertion_rejected' },
  { name: 'tls_client_auth without a certificate', r: { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'tls_client_auth', clientCert: { sent: false } }, want: 'tls_client_auth_no_certificate' },
  { name: 'tls_client_auth, chain outside the acceptable CAs', r: { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'tls_client_auth', clientCert: { sent: true, requested: true, reachesAcceptableCA: false } }, want: 'client_ca_not_acceptable' },
  { name: 'tls_client_auth, certificate accepted by TLS', r: { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'tls_client_auth', clientCert: { sent: true, requested: true, reachesAcceptableCA: true, subject: 'CN=x' } }, want: 'tls_client_auth_rejected' },
  { name: 'jwt exchange: invalid_client with an expired jwt_token', r: { grant: 'jwt-exchange', status: 401, error: INVALID_CLIENT, authMethod: 'client_secret_post', grantJwt: { ...expired, label: 'jwt_token' } }, want: 'jwt_expired' },
  { name: 'jwt exchange: invalid_client with a clean jwt_token', r: { grant: 'jwt-exchange', status: 401, error: INVALID_CLIENT, authMethod: 'client_secret_post', grantJwt: { label: 'jwt_token', findings: [] } }, want: 'client_secret_rejected' },
  { name: 'jwt-bearer with the wrong aud', r: { grant: 'jwt-bearer', status: 400, error: INVALID_GRANT, grantJwt: wrongAud }, want: 'jwt_audience_mismatch' },
  { name: 'jwt-bearer, clean, long-lived', r: { grant: 'jwt-bearer', status: 400, error: INVALID_GRANT, grantJwt: longLived }, want: 'jwt_lifetime_too_long' },
  { name: 'jwt-bearer, clean', r: { grant: 'jwt-bearer', status: 400, error: INVALID_GRANT, grantJwt: { label: 'assertion', findings: [] } }, want: 'grant_assertion_rejected' },
  { name: 'jwt-bearer, not a JWT', r: { grant: 'jwt-bearer', status: 400, error: INVALID_GRANT, grantJwt: { label: 'assertion', decodeProblem: 'three parts', findings: [] } }, want: 'jwt_malformed' },
  { name: 'refresh token refused', r: { grant: 'refresh_token', status: 400, error: INVALID_GRANT, authMethod: 'client_secret_basic' }, want: 'refresh_token_rejected' },
  { name: 'code refused', r: { grant: 'authorization_code', status: 400, error: INVALID_GRANT, authMethod: 'client_secret_basic' }, want: 'authorization_code_rejected' },
  { name: 'unauthorized_client', r: { grant: 'client_credentials', status: 400, error: { error: 'unauthorized_client' }, authMethod: 'client_secret_basic' }, want: 'grant_not_allowed_for_client' },
  { name: 'unsupported_grant_type', r: { grant: 'jwt-bearer', status: 400, error: { error: 'unsupported_grant_type' }, supportedGrantTypes: ['authorization_code'] }, want: 'grant_type_not_supported' },
  { name: 'invalid_scope', r: { grant: 'client_credentials', status: 400, error: { error: 'invalid_scope' }, requestedScope: 'read admin', supportedScopes: ['read'] }, want: 'scope_rejected' },
  { name: 'invalid_request', r: { grant: 'client_credentials', status: 400, error: { error: 'invalid_request', description: 'missing grant_type' } }, want: 'token_request_invalid' },
  { name: 'server_error', r: { grant: 'client_credentials', status: 500, error: { error: 'server_error' } }, want: 'authorization_server_unavailable' },
  { name: 'temporarily_unavailable', r: { grant: 'client_credentials', status: 503, error: { error: 'temporarily_unavailable' } }, want: 'authorization_server_unavailable' },
  { name: 'invalid_target (RFC 8707)', r: { grant: 'client_credentials', status: 400, error: { error: 'invalid_target', description: 'resource not allowed' } }, want: 'resource_target_rejected' },
  { name: 'invalid_request saying the grant is not allowed', r: { grant: 'client_credentials', status: 400, error: { error: 'invalid_request', description: 'grant type is not allowed for this client' } }, want: 'grant_not_allowed_for_client' },
  { name: 'invalid_request saying the grant is unsupported', r: { grant: 'jwt-bearer', status: 400, error: { error: 'invalid_request', description: 'Unsupported grant_type' } }, want: 'grant_type_not_supported' },
  { name: 'invalid_request naming an unknown scope', r: { grant: 'client_credentials', status: 400, error: { error: 'invalid_request', description: 'invalid scope: admin' } }, want: 'scope_rejected' },
  { name: 'invalid_request about redirect_uri in a code exchange', r: { grant: 'authorization_code', status: 400, error: { error: 'invalid_request', description: 'redirect_uri mismatch' } }, want: 'authorization_code_rejected' },
  { name: 'an error outside the RFCs', r: { grant: 'client_credentials', status: 400, error: { error: 'invalid_dpop_proof' } }, want: 'oauth_error' },
  { name: 'tls_client_auth, expired certificate seen by the Inputs step', r: { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'tls_client_auth', clientCert: { sent: true, requested: true, reachesAcceptableCA: true, problems: [{ code: 'cert_expired', message: 'expired on 2026-01-01' }] } }, want: 'client_cert_expired' },
  { name: 'tls_client_auth, serverAuth-only certificate', r: { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'tls_client_auth', clientCert: { sent: true, problems: [{ code: 'eku_missing_client_auth', message: 'EKU serverAuth only' }] } }, want: 'client_cert_wrong_usage' },
  { name: 'self_signed_tls_client_auth, expired: registration still the first candidate', r: { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'self_signed_tls_client_auth', clientCert: { sent: true, problems: [{ code: 'cert_expired', message: 'expired' }] } }, want: 'tls_client_auth_rejected' },
  { name: 'assertion signed by another key than its kid names', r: { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'private_key_jwt', clientAssertion: { ...clean, registered: { verdict: 'signature_mismatch', message: 'kid "k1" is registered, but the signature does not verify with that key' } } }, want: 'jwt_signature_mismatch' },
  { name: 'assertion signed by a registered key under another kid', r: { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'private_key_jwt', clientAssertion: { ...unknownKid, registered: { verdict: 'other_kid', message: 'kid "x" is not registered; the signature verifies with the registered key "k1"', verifiedKid: 'k1' } } }, want: 'jwt_key_unknown' },
  { name: 'expired assertion with a wrong key: expiry first', r: { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'private_key_jwt', clientAssertion: { ...expired, registered: { verdict: 'signature_mismatch', message: 'm' } } }, want: 'jwt_expired' },
  { name: 'jwt-bearer assertion signed by another key', r: { grant: 'jwt-bearer', status: 400, error: INVALID_GRANT, grantJwt: { label: 'assertion', findings: [], registered: { verdict: 'signature_mismatch', message: 'm' } } }, want: 'jwt_signature_mismatch' },
  { name: 'no OAuth body, 404', r: { grant: 'client_credentials', status: 404, error: null }, want: 'token_endpoint_not_found' },
  { name: 'no OAuth body, 401, expired jwt_token', r: { grant: 'jwt-exchange', status: 401, error: null, authMethod: 'client_secret_post', grantJwt: { ...expired, label: 'jwt_token' } }, want: 'jwt_expired' },
  { name: 'no OAuth body, 401, clean', r: { grant: 'jwt-exchange', status: 401, error: null, authMethod: 'client_secret_post', grantJwt: { label: 'jwt_token', findings: [] } }, want: 'client_secret_rejected' },
  { name: 'no OAuth body, 502', r: { grant: 'client_credentials', status: 502, error: null }, want: 'http_error' },
];

for (const c of cases) {
  test(`explainTokenRefusal: ${c.name} → ${c.want}`, () => {
    const e = explainTokenRefusal(c.r);
    assert.equal(e.code, c.want, e.evidence.join(' | '));
    assert.ok(isDiagnosisCode(e.code));
    assert.equal(e.evidence[0], `HTTP ${c.r.status}`);
  });
}

test('evidence names what was checked and which candidates remain', () => {
  const e = explainTokenRefusal({ grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'client_secret_basic', supportedAuthMethods: METHODS });
  assert.ok(e.evidence.includes('error invalid_client: client authentication failed'));
  assert.ok(e.evidence.some((x) => /client_secret_basic is among the methods the server offers/.test(x)));
  assert.ok(e.evidence.some((x) => /remaining candidates: 1\) the secret is wrong/.test(x)));
  const expiredE = explainTokenRefusal({ grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'private_key_jwt', clientAssertion: expired });
  assert.equal(expiredE.summary, 'The client assertion was refused: expired 2 min ago.');
  assert.ok(expiredE.evidence.includes('client assertion clock_skew: iat is 3 min behind'));
});

test('every client-authentication refusal lists "registered for another method" unless the registration is known', () => {
  const refusals: TokenRefusal[] = [
    { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'client_secret_basic' },
    { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'client_secret_post' },
    { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'private_key_jwt', clientAssertion: clean },
    { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'tls_client_auth', clientCert: { sent: true, reachesAcceptableCA: true } },
    { grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'self_signed_tls_client_auth', clientCert: { sent: true } },
    { grant: 'authorization_code', status: 401, error: INVALID_CLIENT, authMethod: 'none' },
  ];
  for (const r of refusals) {
    const e = explainTokenRefusal(r);
    assert.ok(e.evidence.some((x) => /remaining candidates:.*registered for another authentication method than/.test(x)), `${r.authMethod}: ${e.evidence.join(' | ')}`);
  }
});

test('an inferred cause says so; a registered key that verifies is ruled out instead of "cannot see the registration"', () => {
  const e = explainTokenRefusal({ grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'tls_client_auth', clientCert: { sent: true, problems: [{ code: 'cert_expired', message: 'expired on 2026-01-01' }] } });
  assert.ok(e.evidence.some((x) => x.startsWith(INFERRED_PREFIX)), e.evidence.join(' | '));
  assert.ok(e.evidence.includes('Inputs step cert_expired: expired on 2026-01-01'));
  assert.equal(diagnosis(e.code, e.evidence, e.summary).inferred, true);
  const verified = explainTokenRefusal({ grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'private_key_jwt', clientAssertion: { ...clean, registered: { verdict: 'verified', message: 'the signature verifies with the registered key "k1"' } } });
  assert.equal(verified.code, 'client_assertion_rejected');
  assert.doesNotMatch(verified.evidence.join('\n'), /cannot see the server's registration/);
  assert.match(verified.evidence.join('\n'), /ruled out: another key \(the signature verifies with the registered key "k1"/);
  const blind = explainTokenRefusal({ grant: 'client_credentials', status: 401, error: INVALID_CLIENT, authMethod: 'private_key_jwt', clientAssertion: clean });
  assert.match(blind.evidence.join('\n'), /cannot see the server's registration unless you give registeredJwks/);
});

// RFC 6749 §5.2, RFC 8707 §2 and RFC 8693 §2.2.2 token endpoint errors (and §4.1.2.1's, which some servers send here).
const RFC_ERRORS = ['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope', 'invalid_target', 'access_denied', 'server_error', 'temporarily_unavailable'];

test('every RFC error keeps its own name in the summary', () => {
  for (const error of RFC_ERRORS) {
    for (const grant of ['client_credentials', 'jwt-bearer', 'refresh_token'] as const) {
      const e = explainTokenRefusal({ grant, status: 400, error: { error }, authMethod: 'client_secret_basic', ...(grant === 'jwt-bearer' ? { grantJwt: { label: 'assertion', findings: [] } } : {}) });
      const summary = e.summary ?? DIAGNOSES[e.code].summary;
      assert.ok(summary.includes(error), `${grant} ${error} → ${e.code}: "${summary}"`);
    }
  }
});

const api: { name: string; r: Parameters<typeof explainApiRefusal>[0]; want: string }[] = [
  { name: 'bearer 401', r: { status: 401, mode: 'bearer', challenges: parseWwwAuthenticate('Bearer error="invalid_token"') }, want: 'api_token_rejected' },
  { name: 'bearer 401 with an expired token', r: { status: 401, mode: 'bearer', challenges: [], tokenExpired: true }, want: 'access_token_expired' },
  { name: 'bearer 401, bound token without the certificate', r: { status: 401, mode: 'bearer', challenges: [], bindingProblem: 'no certificate sent' }, want: 'access_token_binding_mismatch' },
  { name: 'bearer 403', r: { status: 403, mode: 'bearer', challenges: parseWwwAuthenticate('Bearer error="insufficient_scope", scope="write"') }, want: 'api_forbidden' },
  { name: 'api key 401', r: { status: 401, mode: 'api-key', challenges: [] }, want: 'api_key_rejected' },
  { name: 'api key 403', r: { status: 403, mode: 'api-key', challenges: [] }, want: 'api_key_rejected' },
  { name: 'bearer 500', r: { status: 500, mode: 'bearer', challenges: [] }, want: 'http_error' },
];

for (const c of api) {
  test(`explainApiRefusal: ${c.name} → ${c.want}`, () => {
    assert.equal(explainApiRefusal(c.r).code, c.want);
  });
}

test('parseOAuthError: JSON, form-encoded, and not an error', () => {
  assert.deepEqual(parseOAuthError('{"error":"invalid_client","error_description":"client authentication failed"}'), INVALID_CLIENT);
  assert.deepEqual(parseOAuthError('error=invalid_grant&error_description=bad+code', 'application/x-www-form-urlencoded'), { error: 'invalid_grant', description: 'bad code' });
  assert.equal(parseOAuthError('{"access_token":"x"}'), null);
  assert.equal(parseOAuthError('<html>nope</html>'), null);
  assert.equal(parseOAuthError('{broken'), null);
  assert.equal(parseOAuthError('{"error":5}'), null);
});

test('parseWwwAuthenticate: quoted values, escapes, several challenges', () => {
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="api", error="invalid_token", error_description="the \\"token\\" expired"'),
    [{ scheme: 'Bearer', params: { realm: 'api', error: 'invalid_token', error_description: 'the "token" expired' } }]);
  assert.deepEqual(parseWwwAuthenticate(['Basic realm="x"', 'DPoP algs="ES256"']), [{ scheme: 'Basic', params: { realm: 'x' } }, { scheme: 'DPoP', params: { algs: 'ES256' } }]);
  assert.deepEqual(parseWwwAuthenticate(undefined), []);
  assert.deepEqual(parseWwwAuthenticate('Bearer'), [{ scheme: 'Bearer', params: {} }]);
});
