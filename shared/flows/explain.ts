// Why an authorization server or API refused. Real servers answer every client-authentication
// failure with the same `invalid_client` and every grant failure with `invalid_grant`, so the
// explanation comes from what the harness checked itself — claim lint, aud against the token
// endpoint and issuer, the key against the registered JWKS, the auth method against discovery,
// the certificate against the acceptable CA names — and names the candidates that remain.
import { INFERRED_PREFIX, type DiagnosisCode } from '../diagnoses.ts';
import type { LintCode, LintFinding } from '../jwt/lint.ts';
import type { RegisteredKeyCheck } from '../jwt/registered.ts';
import type { ClientAuthMethod } from './flow-request.ts';
import { describeOAuthError, descriptionHint, type Challenge, type OAuthError } from './oauth-errors.ts';

/** What the request was: a grant at the token endpoint, or an introspection or revocation request. */
export type GrantKind = 'client_credentials' | 'jwt-bearer' | 'jwt-exchange' | 'refresh_token' | 'authorization_code' | 'introspection' | 'revocation';

/** What the harness found when it checked one JWT of the request before sending it. */
export interface JwtCheck {
  /** "client assertion", "assertion", "jwt_token". */
  label: string;
  /** Set when the value is not a readable JWT. */
  decodeProblem?: string;
  /** The header's alg. */
  alg?: string;
  findings: LintFinding[];
  /** The signature checked against the registered keys (registeredJwks), when they are known. */
  registered?: RegisteredKeyCheck;
}

/** Problems the Inputs step found in the client certificate (shared/pki/problems.ts codes). */
interface CertProblem {
  code: string;
  message: string;
}

export interface TokenRefusal {
  grant: GrantKind;
  status: number;
  error: OAuthError | null;
  /** How the harness authenticated the client; undefined when it sent no client authentication. */
  authMethod?: ClientAuthMethod;
  /** From discovery, when it ran. */
  supportedAuthMethods?: string[];
  supportedGrantTypes?: string[];
  supportedScopes?: string[];
  supportedSigningAlgs?: string[];
  requestedScope?: string;
  clientAssertion?: JwtCheck;
  grantJwt?: JwtCheck;
  /** The method the client is registered with, when the harness knows (the built-in lab). */
  registeredMethod?: string;
  /** What the TLS connection to the token endpoint showed. */
  clientCert?: { sent: boolean; requested?: boolean; reachesAcceptableCA?: boolean; subject?: string; problems?: CertProblem[] };
  /** Server's Date header minus the relay's clock, in seconds, when the server sent one. */
  serverClockOffsetSec?: number;
}

export interface Explanation {
  code: DiagnosisCode;
  evidence: string[];
  /** A sharper one-line summary than the catalogue's, when the evidence allows one. */
  summary?: string;
}

/** Lint codes in the order they most likely explain a refusal, and the diagnosis each becomes. */
const LINT_PRIORITY: [LintCode, DiagnosisCode][] = [
  ['exp_past', 'jwt_expired'],
  ['nbf_future', 'jwt_not_yet_valid'],
  ['aud_mismatch', 'jwt_audience_mismatch'],
  ['alg_key_mismatch', 'jwt_alg_key_mismatch'],
  ['kid_not_in_jwks', 'jwt_key_unknown'],
  ['kid_is_thumbprint', 'jwt_key_unknown'],
  ['iss_mismatch', 'jwt_claims_invalid'],
  ['sub_mismatch', 'jwt_claims_invalid'],
  ['exp_missing', 'jwt_claims_invalid'],
  ['jti_missing', 'jwt_claims_invalid'],
  ['exp_not_after_iat', 'jwt_claims_invalid'],
  ['lifetime_too_long', 'jwt_lifetime_too_long'],
  ['clock_skew', 'clock_skew'],
];

const CLOCK_OFFSET_TOLERANCE_SEC = 60;

/** The diagnosis a lint finding becomes when it explains a refusal (or a risky acceptance). */
export function diagnosisForLint(code: LintCode): DiagnosisCode {
  return LINT_PRIORITY.find(([lint]) => lint === code)?.[1] ?? 'jwt_claims_invalid';
}

/** Lint findings that outrank the registered-key check: a server checks these before (or regardless of) the key. */
const BEFORE_KEY: readonly LintCode[] = ['exp_past', 'nbf_future', 'aud_mismatch', 'alg_key_mismatch'];

/** The registered-key check as a diagnosis, when it found the key or signature wrong. */
function registeredCause(check: JwtCheck): Explanation | null {
  const r = check.registered;
  if (!r || r.verdict === 'verified') return null;
  const evidence = [...check.findings.map((x) => `${check.label} ${x.code}: ${x.message}`), `${check.label} against registeredJwks: ${r.message}`];
  const summary = `The ${check.label} was refused: ${r.message}.`;
  return { code: r.verdict === 'signature_mismatch' ? 'jwt_signature_mismatch' : 'jwt_key_unknown', evidence, summary };
}

/** The most telling lint finding of a JWT check, as a diagnosis; errors before warnings. */
function jwtCause(check: JwtCheck | undefined, severities: LintFinding['severity'][] = ['error']): Explanation | null {
  if (!check) return null;
  if (check.decodeProblem) return { code: 'jwt_malformed', evidence: [`${check.label}: ${check.decodeProblem}`] };
  for (const [lint, code] of LINT_PRIORITY) {
    // The signature against the registered keys says more than the kid alone.
    if (!BEFORE_KEY.includes(lint) && severities.includes('error')) {
      const key = registeredCause(check);
      if (key) return key;
    }
    const f = check.findings.find((x) => x.code === lint && severities.includes(x.severity));
    if (f) {
      return {
        code,
        evidence: check.findings.map((x) => `${check.label} ${x.code}: ${x.message}`),
        summary: `The ${check.label} was refused: ${f.message}.`,
      };
    }
  }
  return null;
}

/** The key, ruled out as a cause by the registered-key check. */
function keyRuledOut(check: JwtCheck | undefined): string[] {
  const r = check?.registered;
  return r?.verdict === 'verified' ? [`ruled out: another key (${r.message}, checked against registeredJwks)`] : [];
}

/** The candidate every client-authentication refusal keeps unless the harness knows the registration. */
function otherMethod(r: TokenRefusal, method: string): string[] {
  return r.registeredMethod ? [] : [`the client is registered for another authentication method than ${method} (token_endpoint_auth_method)`];
}

/** What the Inputs step found wrong with the certificate that alone explains a refusal. */
const CERT_CAUSES: [string, DiagnosisCode, string][] = [
  ['cert_expired', 'client_cert_expired', 'the client certificate has expired'],
  ['cert_not_yet_valid', 'client_cert_not_yet_valid', 'the client certificate is not valid yet'],
  ['eku_missing_client_auth', 'client_cert_wrong_usage', 'the client certificate\'s EKU does not allow client authentication'],
];

function clockEvidence(r: TokenRefusal): string | null {
  const off = r.serverClockOffsetSec;
  if (off === undefined || Math.abs(off) <= CLOCK_OFFSET_TOLERANCE_SEC) return null;
  return `the server's Date header is ${Math.abs(Math.round(off))} s ${off > 0 ? 'ahead of' : 'behind'} the relay's clock`;
}

function list(items: string[]): string {
  return items.map((c, i) => `${i + 1}) ${c}`).join('; ');
}

function explainInvalidClient(r: TokenRefusal, evidence: string[]): Explanation {
  const method = r.authMethod;
  if (method === undefined) return { code: 'client_auth_missing', evidence };
  if (r.supportedAuthMethods && !r.supportedAuthMethods.includes(method)) {
    return {
      code: 'auth_method_not_supported',
      evidence: [...evidence, `discovery token_endpoint_auth_methods_supported: ${r.supportedAuthMethods.join(', ') || '(empty)'}`, `the harness used ${method}`],
      summary: `The server does not offer ${method}; it lists ${r.supportedAuthMethods.join(', ')}.`,
    };
  }
  if (r.registeredMethod && r.registeredMethod !== method) {
    return {
      code: 'auth_method_mismatch',
      evidence: [...evidence, `the client is registered with ${r.registeredMethod}`, `the harness used ${method}`],
      summary: `The client is registered for ${r.registeredMethod}, not ${method}.`,
    };
  }
  if (method === 'none') {
    return {
      code: 'client_auth_missing',
      evidence: [...evidence, 'the client sent only its client_id (method none)', `remaining candidates: ${list(['the client is confidential: it must authenticate', ...otherMethod(r, method), 'the client_id is not registered at this server'])}`],
    };
  }
  if (method === 'private_key_jwt') {
    const cause = jwtCause(r.clientAssertion);
    if (cause) return { ...cause, evidence: [...evidence, ...cause.evidence] };
    const alg = r.clientAssertion?.alg;
    if (alg && r.supportedSigningAlgs && !r.supportedSigningAlgs.includes(alg)) {
      return {
        code: 'jwt_alg_key_mismatch',
        evidence: [...evidence, `the client assertion is signed with ${alg}`, `discovery token_endpoint_auth_signing_alg_values_supported: ${r.supportedSigningAlgs.join(', ')}`],
        summary: `The server does not accept ${alg} client assertions; it lists ${r.supportedSigningAlgs.join(', ')}.`,
      };
    }
    const clock = clockEvidence(r);
    if (clock) return { code: 'clock_skew', evidence: [...evidence, clock] };
    const warn = jwtCause(r.clientAssertion, ['warning']);
    const checked = ['exp, nbf and lifetime', 'aud against the token endpoint and issuer', 'iss = sub = client_id', 'jti present'];
    return {
      code: 'client_assertion_rejected',
      evidence: [
        ...evidence,
        `checked and correct: ${checked.join('; ')}`,
        ...(warn ? warn.evidence : []),
        `remaining candidates: ${list([
          ...(r.clientAssertion?.registered?.verdict === 'verified' ? [] : ['the key is not the one registered for the client (the harness cannot see the server\'s registration unless you give registeredJwks)']),
          'the jti was used before',
          'the server pins another signing alg for this client',
          ...otherMethod(r, method),
        ])}`,
        ...keyRuledOut(r.clientAssertion),
      ],
    };
  }
  if (method === 'client_secret_jwt') {
    // The harness signed the assertion itself, so its claims are right unless the clock is off;
    // what it cannot check is the secret the server holds: the HMAC verifies only with the same one.
    const cause = jwtCause(r.clientAssertion);
    if (cause) return { ...cause, evidence: [...evidence, ...cause.evidence] };
    const alg = r.clientAssertion?.alg ?? 'HS256';
    if (r.supportedSigningAlgs && !r.supportedSigningAlgs.includes(alg)) {
      return {
        code: 'jwt_alg_key_mismatch',
        evidence: [...evidence, `the client assertion is signed with ${alg} (client_secret_jwt)`, `discovery token_endpoint_auth_signing_alg_values_supported: ${r.supportedSigningAlgs.join(', ')}`],
        summary: `The server does not accept ${alg} client assertions; it lists ${r.supportedSigningAlgs.join(', ')}.`,
      };
    }
    const clock = clockEvidence(r);
    if (clock) return { code: 'clock_skew', evidence: [...evidence, clock] };
    const registered = r.registeredMethod === method;
    return {
      code: 'client_secret_jwt_rejected',
      evidence: [
        ...evidence,
        `checked and correct: ${['exp, iat and lifetime', 'aud = the token endpoint', 'iss = sub = client_id', 'jti present', `alg ${alg}`].join('; ')}`,
        ...(registered ? ['the client is registered for client_secret_jwt'] : []),
        `remaining candidates: ${list([
          'the signature does not match: the secret is wrong or was rotated (the server verifies the HMAC with its own copy)',
          ...(registered ? [] : ['the client_id is not registered at this server (test vs production)']),
          'the server pins another HMAC alg (HS384, HS512) for this client',
          ...otherMethod(r, method),
        ])}`,
      ],
      ...(registered ? { summary: 'The server refused the HS256 client assertion although the method and every claim are right: the secret that signed it is not the one the server holds (signature mismatch).' } : {}),
    };
  }
  if (method === 'tls_client_auth' || method === 'self_signed_tls_client_auth') {
    const cert = r.clientCert;
    if (!cert?.sent) {
      return {
        code: 'tls_client_auth_no_certificate',
        evidence: [...evidence, cert?.requested === false ? 'the server did not ask for a client certificate on this connection' : 'no client certificate was given for the flow'],
      };
    }
    if (method === 'tls_client_auth' && cert.reachesAcceptableCA === false) {
      return { code: 'client_ca_not_acceptable', evidence: [...evidence, 'the client chain reaches none of the CA names the server listed', `${INFERRED_PREFIX}the server does not trust the certificate's issuer`] };
    }
    const problems = cert.problems ?? [];
    // PKI validation (tls_client_auth) refuses an expired, not yet valid or serverAuth-only
    // certificate whatever the registration says; the Inputs step already saw it.
    const found = method === 'tls_client_auth' ? CERT_CAUSES.find(([p]) => problems.some((x) => x.code === p)) : undefined;
    if (found) {
      const [p, code, what] = found;
      return {
        code,
        evidence: [...evidence, ...(cert.subject ? [`certificate sent: ${cert.subject}`] : []), `Inputs step ${p}: ${problems.find((x) => x.code === p)!.message}`, `${INFERRED_PREFIX}${what}, and tls_client_auth validates the certificate like any TLS server`],
        summary: `The server refused the client without saying why, and ${what}: that alone makes tls_client_auth fail (inferred from the Inputs step).`,
      };
    }
    const shouldNotMatter = problems.filter((x) => CERT_CAUSES.some(([p]) => p === x.code));
    return {
      code: 'tls_client_auth_rejected',
      evidence: [
        ...evidence,
        ...(cert.subject ? [`certificate sent: ${cert.subject}`] : []),
        ...shouldNotMatter.map((x) => `Inputs step ${x.code}: ${x.message}`),
        `remaining candidates: ${list(method === 'tls_client_auth'
          ? ['the subject DN or SAN differs from the one registered for the client', 'the server does not trust the issuing CA for client authentication', 'the TLS terminator does not pass the certificate on', ...otherMethod(r, method)]
          : ['the certificate is not registered in the client\'s JWKS (x5c / x5t#S256)', ...(shouldNotMatter.length ? ['the server checks the self-signed certificate\'s dates or EKU (see the Inputs step)'] : []), 'the TLS terminator does not pass the certificate on', ...otherMethod(r, method)])}`,
      ],
    };
  }
  // A secret method. A JWT exchange endpoint may say invalid_client about the JWT too.
  if (r.grant === 'jwt-exchange') {
    const cause = jwtCause(r.grantJwt);
    if (cause) return { ...cause, evidence: [...evidence, ...cause.evidence] };
  }
  return {
    code: 'client_secret_rejected',
    evidence: [
      ...evidence,
      ...(r.supportedAuthMethods ? [`${method} is among the methods the server offers`] : []),
      `remaining candidates: ${list(['the secret is wrong or was rotated', 'the client_id is not registered at this server (test vs production)', `the client is registered for another authentication method than ${method} (Basic header vs form fields, or a key or certificate)`])}`,
    ],
  };
}

function explainInvalidGrant(r: TokenRefusal, evidence: string[]): Explanation {
  switch (r.grant) {
    case 'refresh_token':
      return { code: 'refresh_token_rejected', evidence };
    case 'authorization_code':
      return { code: 'authorization_code_rejected', evidence };
    case 'introspection':
    case 'revocation':
      return { code: 'oauth_error', evidence, summary: `The server answered invalid_grant to ${r.grant === 'introspection' ? 'an introspection' : 'a revocation'} request${r.error?.description ? ` ("${r.error.description}")` : ''}, which carries no grant: read the description.` };
    case 'client_credentials':
      return { code: 'oauth_error', evidence, summary: `The server answered invalid_grant to a client_credentials request${r.error?.description ? ` ("${r.error.description}")` : ''}, which has no grant to be invalid: read the description.` };
    case 'jwt-bearer':
    case 'jwt-exchange': {
      const cause = jwtCause(r.grantJwt);
      if (cause) return { ...cause, evidence: [...evidence, ...cause.evidence] };
      const clock = clockEvidence(r);
      if (clock) return { code: 'clock_skew', evidence: [...evidence, clock] };
      const warn = jwtCause(r.grantJwt, ['warning']);
      if (warn && warn.code === 'jwt_lifetime_too_long') return { ...warn, evidence: [...evidence, ...warn.evidence] };
      return {
        code: 'grant_assertion_rejected',
        evidence: [
          ...evidence,
          ...(warn ? warn.evidence : []),
          `remaining candidates: ${list([
            ...(r.grantJwt?.registered?.verdict === 'verified' ? [] : ['the signing key is not registered for this iss', 'the signature does not verify (another key, or the token was altered)']),
            'sub is not a user the server knows',
            'the jti was used before',
          ])}`,
          ...keyRuledOut(r.grantJwt),
        ],
      };
    }
  }
}

/** Explains a refusal at the token endpoint (any non-2xx answer). */
export function explainTokenRefusal(r: TokenRefusal): Explanation {
  const evidence = [`HTTP ${r.status}`];
  if (r.error) evidence.push(`error ${describeOAuthError(r.error)}`);
  const clock = clockEvidence(r);
  if (clock) evidence.push(clock);
  const error = r.error;
  switch (error?.error) {
    case 'invalid_client':
      return explainInvalidClient(r, evidence);
    case 'invalid_grant':
      return explainInvalidGrant(r, evidence);
    case 'unauthorized_client':
      return { code: 'grant_not_allowed_for_client', evidence };
    case 'unsupported_grant_type':
      return { code: 'grant_type_not_supported', evidence: [...evidence, ...(r.supportedGrantTypes ? [`discovery grant_types_supported: ${r.supportedGrantTypes.join(', ')}`] : [])] };
    case 'invalid_scope': {
      const requested = (r.requestedScope ?? '').split(/\s+/).filter(Boolean);
      const unknown = r.supportedScopes ? requested.filter((s) => !r.supportedScopes!.includes(s)) : [];
      return {
        code: 'scope_rejected',
        evidence: [...evidence, ...(r.requestedScope !== undefined ? [`requested scope: ${r.requestedScope || '(none)'}`] : []), ...(unknown.length ? [`not in scopes_supported: ${unknown.join(', ')}`] : [])],
      };
    }
    case 'invalid_target':
      return { code: 'resource_target_rejected', evidence: [...evidence, ...(r.requestedScope !== undefined ? [`requested scope: ${r.requestedScope || '(none)'}`] : [])] };
    case 'server_error':
    case 'temporarily_unavailable':
      return { code: 'authorization_server_unavailable', evidence, summary: `The authorization server answered ${error!.error}${error!.description ? ` ("${error!.description}")` : ''}: it failed or is unavailable, whatever the request.` };
    case undefined:
      break;
    default: {
      // invalid_request and names outside the RFCs: the description may say more than the name.
      const e = error!;
      const hint = descriptionHint(e, r.grant);
      if (hint) {
        return {
          code: hint.code,
          evidence: [...evidence, `the error_description says ${hint.means}`],
          summary: `The server answered ${e.error}, and its description says ${hint.means}: "${e.description}".`,
        };
      }
      if (e.error === 'invalid_request') return { code: 'token_request_invalid', evidence };
      return { code: 'oauth_error', evidence, summary: `The authorization server answered ${describeOAuthError(e)}, an error the harness has no more specific explanation for.` };
    }
  }
  // No OAuth error body: a non-standard endpoint (the JWT exchange) or a wrong URL.
  if (r.status === 404 || r.status === 405) return { code: 'token_endpoint_not_found', evidence };
  if (r.status === 401 || r.status === 400 || r.status === 403) {
    const cause = jwtCause(r.grantJwt) ?? jwtCause(r.clientAssertion);
    if (cause) return { ...cause, evidence: [...evidence, ...cause.evidence] };
    if (r.status === 401 && r.authMethod && r.authMethod.startsWith('client_secret')) return explainInvalidClient(r, evidence);
  }
  return { code: 'http_error', evidence };
}

interface ApiRefusal {
  status: number;
  mode: 'bearer' | 'api-key';
  challenges: Challenge[];
  /** The access token's exp had passed by the relay's clock when it was sent. */
  tokenExpired?: boolean;
  /** The token is certificate-bound (cnf x5t#S256) and the call carried no or another certificate. */
  bindingProblem?: string;
}

/** Explains a refused call to a protected resource. */
export function explainApiRefusal(r: ApiRefusal): Explanation {
  const evidence = [`HTTP ${r.status}`];
  for (const c of r.challenges) {
    const params = Object.entries(c.params).map(([k, v]) => `${k}="${v}"`).join(', ');
    evidence.push(`WWW-Authenticate: ${c.scheme}${params ? ` ${params}` : ''}`);
  }
  if (r.mode === 'api-key') return { code: r.status === 401 || r.status === 403 ? 'api_key_rejected' : 'http_error', evidence };
  const bearerError = r.challenges.find((c) => c.scheme.toLowerCase() === 'bearer')?.params.error;
  if (r.bindingProblem && (r.status === 401 || r.status === 403)) return { code: 'access_token_binding_mismatch', evidence: [...evidence, r.bindingProblem] };
  if (r.status === 401) {
    if (r.tokenExpired) return { code: 'access_token_expired', evidence: [...evidence, 'the token\'s exp had passed when it was sent'] };
    return { code: 'api_token_rejected', evidence };
  }
  if (r.status === 403 || bearerError === 'insufficient_scope') return { code: 'api_forbidden', evidence };
  return { code: 'http_error', evidence };
}
