// An opened flow scenario into the form: every field the file sets, and a note for each thing
// the browser cannot take from it (secrets named rather than stored, the scenario's own key).
import { CLIENT_AUTH_METHODS, FLOW_KINDS, HTTP_METHODS, type ClientAuthMethod, type FlowKind, type HttpMethod } from '../../../../shared/flows/flow-request.ts';
import { decodeJwt } from '../../../../shared/jwt/decode.ts';
import type { KeyRing } from '../keys/keyring.svelte.ts';
import { BROWSER_ALGS, type BrowserAlg } from '../jwt/signer.svelte.ts';
import { isJwtSpec, isObj, openClient, type JwtSpec, type Obj } from '../scenarios/resolve.ts';
import type { Scenario } from '../../../../shared/flows/scenario.ts';
import { paramLines, type FlowFields } from './fields.svelte.ts';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export function flowKindOf(request: Obj): FlowKind | null {
  return (FLOW_KINDS as readonly string[]).includes(str(request.kind)) ? (request.kind as FlowKind) : null;
}

function browserAlg(alg: string | undefined): BrowserAlg | null {
  if (alg === 'Ed25519') return 'EdDSA';
  return (BROWSER_ALGS as readonly string[]).includes(alg ?? '') ? (alg as BrowserAlg) : null;
}

function headerLines(h: unknown): string {
  return isObj(h) ? Object.entries(h).map(([k, v]) => `${k}: ${str(v)}`).join('\n') : '';
}

/**
 * Fills `f` (a form of the request's kind) from a resolved request; returns notes for the user.
 * `opening` are resolveScenario's notes; the scenario says which secrets a missing client certificate needs.
 */
export async function loadFlow(f: FlowFields, r: Obj, keyring: KeyRing, scenario: Scenario, opening: string[] = []): Promise<string[]> {
  let notes: string[] = [...opening];
  const set = <K extends keyof FlowFields>(key: K, value: FlowFields[K] | undefined) => {
    if (value !== undefined) (f as unknown as Record<string, unknown>)[key as string] = value;
  };
  const signedHere = (spec: JwtSpec, what: string) => {
    const alg = browserAlg(spec.alg) ?? 'RS256';
    if (spec.alg && !browserAlg(spec.alg)) notes.push(`The ${what} was ${spec.alg}; this browser signs RS256, PS256, ES256 or EdDSA, so it is RS256 here.`);
    notes.push(`The ${what} is signed again here, with this browser's ${alg} key; its kid is this key's, not the scenario's.`);
    if (spec.offsetSec) notes.push(`The scenario signs the ${what} ${Math.abs(spec.offsetSec)} s ${spec.offsetSec < 0 ? 'in the past' : 'ahead'}; add exp/iat to the extra claims to do the same here.`);
    return alg;
  };

  // Reset what a scenario may leave out, so nothing of the previous form leaks in.
  for (const key of ['issuer', 'tokenUrl', 'jwksUrl', 'authorizationUrl', 'scope', 'extraParamsText', 'callUrl', 'caPem', 'credentialId', 'redirectKey', 'extraAuthParamsText', 'headersText', 'body', 'jwtExtraClaims', 'jwtAudience'] as const) f[key] = '';
  f.callMethod = 'GET';
  f.verifyServer = true;
  f.clientNeed = null;

  set('issuer', str(r.issuer) || undefined);
  set('tokenUrl', str(r.tokenUrl) || undefined);
  set('jwksUrl', str(r.jwksUrl) || undefined);
  set('authorizationUrl', str(r.authorizationUrl) || undefined);
  set('scope', str(r.scope) || undefined);
  if (isObj(r.extraParams)) f.extraParamsText = paramLines(r.extraParams as Record<string, string>);
  if (isObj(r.call)) {
    f.callUrl = str(r.call.url);
    if ((HTTP_METHODS as readonly string[]).includes(str(r.call.method))) f.callMethod = r.call.method as HttpMethod;
  }

  if (isObj(r.tls)) {
    const tls = r.tls;
    f.caPem = str(tls.caPem);
    f.verifyServer = tls.verifyServer !== false;
    const raw = isObj(scenario.request) && isObj(scenario.request.tls) ? scenario.request.tls.client : undefined;
    const opened = await openClient(keyring, scenario, raw, tls.client, notes);
    f.credentialId = opened.credentialId;
    f.clientNeed = opened.need;
    notes = opened.notes;
  }

  const auth = r.clientAuth;
  if (isObj(auth) && (CLIENT_AUTH_METHODS as readonly string[]).includes(str(auth.method))) {
    f.authMethod = auth.method as ClientAuthMethod;
    f.clientId = str(auth.clientId);
    f.clientSecret = str(auth.clientSecret);
    const assertions = auth.clientAssertions;
    if (isJwtSpec(assertions)) f.assertionAlg = signedHere(assertions.$jwt, 'client assertion');
    else if (auth.method === 'private_key_jwt') notes.push('Client assertions are signed here for every run, with this browser’s key: the ones in the file are not reused.');
  } else if (f.kind === 'jwt-bearer') {
    f.authMethod = 'omit';
  }

  switch (f.kind) {
    case 'jwt-exchange':
    case 'jwt-bearer': {
      if (f.kind === 'jwt-exchange') {
        f.clientId = str(r.clientId);
        f.clientSecret = str(r.clientSecret);
        const names = isObj(r.fieldNames) ? r.fieldNames : {};
        f.fieldClientId = str(names.clientId) || 'client_id';
        f.fieldClientSecret = str(names.clientSecret) || 'client_secret';
        f.fieldJwt = str(names.jwt) || 'jwt_token';
      }
      const jwt = f.kind === 'jwt-exchange' ? r.jwt : r.assertion;
      const what = f.kind === 'jwt-exchange' ? 'JWT' : 'assertion';
      if (isJwtSpec(jwt)) {
        const spec = jwt.$jwt;
        f.jwtSource = 'sign';
        f.jwtAlg = signedHere(spec, what);
        if (spec.subject) f.jwtSubject = spec.subject;
        if (f.kind === 'jwt-bearer') f.jwtIssuer = spec.issuer ?? spec.clientId ?? '';
        if (f.kind === 'jwt-exchange' && spec.clientId && spec.clientId !== f.clientId) notes.push(`The JWT's iss was ${spec.clientId}; here it is the client id.`);
        if (typeof spec.audience === 'string') f.jwtAudience = spec.audience;
        if (typeof spec.lifetimeSec === 'number') f.jwtLifetimeSec = spec.lifetimeSec;
        if (isObj(spec.claims) && Object.keys(spec.claims).length) f.jwtExtraClaims = JSON.stringify(spec.claims, null, 2);
      } else if (typeof jwt === 'string' && jwt) {
        f.jwtSource = 'paste';
        f.pastedJwt = jwt;
        const d = decodeJwt(jwt);
        if (d.ok && typeof d.jwt.claims.exp === 'number' && d.jwt.claims.exp * 1000 < Date.now()) notes.push(`The ${what} in the file expired at ${new Date(d.jwt.claims.exp * 1000).toISOString()}: choose "Sign here" to make a fresh one.`);
      }
      break;
    }
    case 'refresh-token':
      f.refreshToken = str(r.refreshToken);
      break;
    case 'authorization-code':
      f.redirectKey = str(r.redirectKey);
      f.pkce = r.pkce !== false;
      f.requireRefreshToken = r.requireRefreshToken !== false;
      if (isObj(r.extraAuthParams)) f.extraAuthParamsText = paramLines(r.extraAuthParams as Record<string, string>);
      f.callbackTimeoutSec = typeof r.callbackTimeoutMs === 'number' ? Math.round(r.callbackTimeoutMs / 1000) : 120;
      break;
    case 'api-key': {
      f.url = str(r.url);
      f.method = (HTTP_METHODS as readonly string[]).includes(str(r.method)) ? (r.method as HttpMethod) : 'GET';
      f.apiKey = str(r.apiKey);
      f.username = str(r.username);
      const names = isObj(r.headerNames) ? r.headerNames : {};
      f.apiKeyHeader = str(names.apiKey) || 'apiKey';
      f.usernameHeader = str(names.username) || 'username';
      f.headersText = headerLines(r.headers);
      f.body = str(r.body);
      break;
    }
    case 'introspect':
    case 'revoke':
      f.token = str(r.token);
      f.tokenTypeHint = r.tokenTypeHint === 'access_token' || r.tokenTypeHint === 'refresh_token' ? r.tokenTypeHint : '';
      f.endpointUrl = str(f.kind === 'introspect' ? r.introspectionUrl : r.revocationUrl);
      if (f.kind === 'introspect') f.expectActive = r.expectActive !== false;
      else f.introspectAfter = r.introspectAfter === true;
      break;
    case 'discovery':
    case 'client-credentials':
      break;
  }
  return notes;
}
