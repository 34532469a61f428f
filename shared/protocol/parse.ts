// Validation at the edge: every client frame is parsed here into a ClientMessage or refused
// with a ProtocolError naming the field. Unknown extra fields are ignored; missing or mistyped
// ones are named in the message. See docs/protocol.md.
import { CHECK_KINDS, ISSUED_TOKEN_NAMES, LAB_SIGN_PROFILES, type IssuedTokenName, type LabSignProfile } from './constants.ts';
import { CHECK_FIELD_LIMITS, FIELD_LIMITS, FLOW_LIMITS, INBOUND_FIELD_LIMITS } from './limits.ts';
import type { ClientMessage, ErrorCode, InboundRequest, InboundRule, ProbeRequest, ServerMessage } from './messages.ts';
import {
  CLIENT_AUTH_METHODS, FLOW_KINDS, HTTP_METHODS, TOKEN_TYPE_HINTS,
  type ApiCall, type ApiKeyFlow, type AuthorizationCodeFlow, type ClientAuth, type ClientCredentials, type ClientCredentialsFlow, type DiscoveryFlow, type FlowKind, type FlowRequest, type FlowTls,
  type IntrospectFlow, type JwtBearerFlow, type JwtExchangeFlow, type LabRegistration, type RefreshTokenFlow, type RevokeFlow, type ServerRef, type TokenFlowBase,
} from './flows.ts';
import type { Jwks, PublicJwk } from '../jwt/keys.ts';
import type { MtlsCheckRequest } from '../check/request.ts';
import type { ResourceCheckRequest, SignedJwtCheckRequest } from '../check/jwt-request.ts';
import { parseLoopbackRedirect } from '../flows/redirect-uri.ts';
import { HarnessError } from '../errors.ts';

export class ProtocolError extends HarnessError<ErrorCode> {
  readonly id: string | undefined;
  constructor(code: ErrorCode, message: string, id?: string) {
    super(code, message);
    this.id = id;
  }
}

// ---- the rules: one set for every message ---------------------------------------------

/** An HTTP token (RFC 9110 §5.6.2): what a header, form-field or query-parameter name may be here. */
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Names that would reach an object's prototype if used as keys. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isHeaderName(name: string): boolean {
  return name.length > 0 && name.length <= FIELD_LIMITS.headerName && HTTP_TOKEN.test(name);
}

/** Reads one request's fields; every refusal is a bad_message naming the field, with the request's id. */
class Parser {
  readonly #id: string | undefined;
  constructor(id: string | undefined) {
    this.#id = id;
  }

  fail(message: string): never {
    throw new ProtocolError('bad_message', message, this.#id);
  }

  obj(v: unknown, path: string, what = ''): Obj {
    if (!isObj(v)) this.fail(`${path} must be an object${what}`);
    return v;
  }

  str(o: Obj, key: string, max: number, path: string, opts: { nonEmpty?: boolean } = {}): string {
    const v = o[key];
    if (typeof v !== 'string') this.fail(`${path}${key} must be a string`);
    if (v.length > max) this.fail(`${path}${key} is longer than ${max} characters`);
    if (opts.nonEmpty && v.trim() === '') this.fail(`${path}${key} must not be empty`);
    return v;
  }

  optStr(o: Obj, key: string, max: number, path: string, opts: { nonEmpty?: boolean } = {}): string | undefined {
    return o[key] === undefined ? undefined : this.str(o, key, max, path, opts);
  }

  optBool(o: Obj, key: string, path: string): boolean | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') this.fail(`${path}${key} must be true or false`);
    return v;
  }

  optEnum<T extends string>(o: Obj, key: string, allowed: readonly T[], path: string): T | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !allowed.includes(v as T)) this.fail(`${path}${key} must be one of ${allowed.join(', ')}`);
    return v as T;
  }

  /** A flat object of strings: headers (header-name keys) or form parameters. */
  strings(v: unknown, path: string, kind: 'header' | 'param'): Record<string, string> {
    const o = this.obj(v, path);
    const entries = Object.entries(o);
    const maxCount = kind === 'header' ? FIELD_LIMITS.headers : FLOW_LIMITS.params;
    if (entries.length > maxCount) this.fail(`${path} has more than ${maxCount} entries`);
    const out: Record<string, string> = Object.create(null);
    for (const [name, value] of entries) {
      if (FORBIDDEN_KEYS.has(name)) this.fail(`${path}: "${name}" is not an acceptable name`);
      if (kind === 'header' && !isHeaderName(name)) this.fail(`${path}: "${name.slice(0, 40)}" is not a valid header name`);
      if (kind === 'param' && (name.length === 0 || name.length > FLOW_LIMITS.paramName)) this.fail(`${path}: parameter names must be 1-${FLOW_LIMITS.paramName} characters`);
      const max = kind === 'header' ? FIELD_LIMITS.headerValue : FLOW_LIMITS.paramValue;
      if (typeof value !== 'string' || value.length > max || (kind === 'header' && /[\r\n\0]/.test(value))) {
        this.fail(`${path}.${name} must be a ${kind === 'header' ? 'single-line ' : ''}string of at most ${max} characters`);
      }
      out[name] = value;
    }
    return out;
  }

  /** A client certificate and its key (PEM), as a probe, a flow's tls and the resource check take them. */
  optClient(o: Obj, path: string): ClientCredentials | undefined {
    if (o.client === undefined) return undefined;
    const c = this.obj(o.client, `${path}client`, ' with certificatePem and privateKeyPem');
    return {
      certificatePem: this.str(c, 'certificatePem', FIELD_LIMITS.pem, `${path}client.`),
      privateKeyPem: this.str(c, 'privateKeyPem', FIELD_LIMITS.pem, `${path}client.`),
    };
  }

  /** A request's `secretNames` (probe and flows): at most 32 HTTP tokens of at most 64 characters. */
  secretNames(v: unknown, path: string): string[] {
    if (!Array.isArray(v)) this.fail(`${path} must be an array of header, field or parameter names`);
    if (v.length > FIELD_LIMITS.secretNames) this.fail(`${path} has more than ${FIELD_LIMITS.secretNames} names`);
    return v.map((name, i) => {
      if (typeof name !== 'string' || name.length === 0 || name.length > FIELD_LIMITS.secretName) this.fail(`${path}[${i}] must be a name of 1 to ${FIELD_LIMITS.secretName} characters`);
      if (!HTTP_TOKEN.test(name)) this.fail(`${path}[${i}] "${name.slice(0, 40)}" is not a valid name (letters, digits and !#$%&'*+.^_\`|~-)`);
      return name;
    });
  }

  headerName(o: Obj, key: string, path: string): string | undefined {
    const v = this.optStr(o, key, FIELD_LIMITS.headerName, path);
    if (v !== undefined && !isHeaderName(v)) this.fail(`${path}${key} "${v.slice(0, 40)}" is not a valid header name`);
    return v;
  }

  tls(v: unknown, path: string): FlowTls {
    const o = this.obj(v, path);
    const p = `${path}.`;
    const out: FlowTls = {};
    const client = this.optClient(o, p);
    if (client) out.client = client;
    const caPem = this.optStr(o, 'caPem', FIELD_LIMITS.pem, p);
    if (caPem !== undefined) out.caPem = caPem;
    const verifyServer = this.optBool(o, 'verifyServer', p);
    if (verifyServer !== undefined) out.verifyServer = verifyServer;
    const trustLab = this.optBool(o, 'trustLab', p);
    if (trustLab !== undefined) out.trustLab = trustLab;
    return out;
  }

  clientAuth(v: unknown, path: string): ClientAuth {
    const o = this.obj(v, path);
    const p = `${path}.`;
    const method = this.optEnum(o, 'method', CLIENT_AUTH_METHODS, p);
    if (method === undefined) this.fail(`${p}method is required (one of ${CLIENT_AUTH_METHODS.join(', ')})`);
    const clientId = this.str(o, 'clientId', FLOW_LIMITS.clientId, p, { nonEmpty: true });
    switch (method) {
      case 'client_secret_basic':
      case 'client_secret_post':
      case 'client_secret_jwt':
        return { method, clientId, clientSecret: this.str(o, 'clientSecret', FLOW_LIMITS.secret, p, { nonEmpty: true }) };
      case 'private_key_jwt': {
        const list = o.clientAssertions;
        if (!Array.isArray(list) || list.length === 0) this.fail(`${p}clientAssertions must be a non-empty array of signed JWTs (one per token request)`);
        if (list.length > FLOW_LIMITS.clientAssertions) this.fail(`${p}clientAssertions has more than ${FLOW_LIMITS.clientAssertions} entries`);
        const clientAssertions = list.map((a, i) => {
          if (typeof a !== 'string' || a.length === 0 || a.length > FLOW_LIMITS.jwt) this.fail(`${p}clientAssertions[${i}] must be a JWT of at most ${FLOW_LIMITS.jwt} characters`);
          return a;
        });
        return { method, clientId, clientAssertions };
      }
      default:
        return { method, clientId };
    }
  }

  call(v: unknown, path: string): ApiCall {
    const o = this.obj(v, path);
    const p = `${path}.`;
    const call: ApiCall = { url: this.str(o, 'url', FIELD_LIMITS.url, p, { nonEmpty: true }) };
    const method = this.optEnum(o, 'method', HTTP_METHODS, p);
    if (method) call.method = method;
    if (o.headers !== undefined) call.headers = this.strings(o.headers, `${p}headers`, 'header');
    const body = this.optStr(o, 'body', FIELD_LIMITS.body, p);
    if (body !== undefined) call.body = body;
    return call;
  }

  jwks(v: unknown, path: string): Jwks {
    const o = this.obj(v, path);
    if (!Array.isArray(o.keys)) this.fail(`${path}.keys must be an array of JWKs`);
    if (o.keys.length > FLOW_LIMITS.jwksKeys) this.fail(`${path}.keys has more than ${FLOW_LIMITS.jwksKeys} keys`);
    return { keys: o.keys.map((k, i) => this.jwk(k, `${path}.keys[${i}]`)) };
  }

  jwk(v: unknown, path: string): PublicJwk {
    const o = this.obj(v, path);
    const kty = this.str(o, 'kty', 8, `${path}.`, { nonEmpty: true });
    if ('d' in o) this.fail(`${path} is a private key (it has "d"); send only the public key`);
    const out: PublicJwk = { kty };
    for (const [k, val] of Object.entries(o)) {
      if (FORBIDDEN_KEYS.has(k) || k === 'kty') continue;
      if (k === 'x5c') {
        if (!Array.isArray(val) || val.length > 10 || !val.every((c) => typeof c === 'string' && c.length <= FIELD_LIMITS.pem)) this.fail(`${path}.x5c must be an array of base64 certificates`);
        out.x5c = val as string[];
      } else if (typeof val === 'string') {
        if (val.length > FLOW_LIMITS.jwkMember) this.fail(`${path}.${k} is longer than ${FLOW_LIMITS.jwkMember} characters`);
        out[k] = val;
      } else if (k === 'key_ops' && Array.isArray(val)) {
        continue;
      } else if (typeof val !== 'boolean') {
        this.fail(`${path}.${k} must be a string`);
      }
    }
    return out;
  }

  serverRef(o: Obj, target: ServerRef, opts: { tokenUrlRequired?: boolean } = {}): void {
    const issuer = this.optStr(o, 'issuer', FIELD_LIMITS.url, 'flow.', { nonEmpty: true });
    const tokenUrl = this.optStr(o, 'tokenUrl', FIELD_LIMITS.url, 'flow.', { nonEmpty: true });
    if (opts.tokenUrlRequired && tokenUrl === undefined) this.fail('flow.tokenUrl is required');
    if (issuer === undefined && tokenUrl === undefined) this.fail('flow needs issuer (to run discovery) or tokenUrl');
    if (issuer !== undefined) target.issuer = issuer;
    if (tokenUrl !== undefined) target.tokenUrl = tokenUrl;
    const jwksUrl = this.optStr(o, 'jwksUrl', FIELD_LIMITS.url, 'flow.', { nonEmpty: true });
    if (jwksUrl !== undefined) target.jwksUrl = jwksUrl;
    if (o.registeredJwks !== undefined) target.registeredJwks = this.jwks(o.registeredJwks, 'flow.registeredJwks');
  }

  /** introspect and revoke: the endpoint (or an issuer to discover it), the token, the client. */
  tokenEndpointFlow<T extends IntrospectFlow | RevokeFlow>(o: Obj, flow: T, urlKey: 'introspectionUrl' | 'revocationUrl'): T {
    const issuer = this.optStr(o, 'issuer', FIELD_LIMITS.url, 'flow.', { nonEmpty: true });
    const url = this.optStr(o, urlKey, FIELD_LIMITS.url, 'flow.', { nonEmpty: true });
    if (issuer === undefined && url === undefined) this.fail(`flow needs issuer (to run discovery) or ${urlKey}`);
    if (issuer !== undefined) flow.issuer = issuer;
    if (url !== undefined) (flow as unknown as Record<string, unknown>)[urlKey] = url;
    const tokenUrl = this.optStr(o, 'tokenUrl', FIELD_LIMITS.url, 'flow.', { nonEmpty: true });
    if (tokenUrl !== undefined) flow.tokenUrl = tokenUrl;
    if (o.registeredJwks !== undefined) flow.registeredJwks = this.jwks(o.registeredJwks, 'flow.registeredJwks');
    flow.token = this.str(o, 'token', FLOW_LIMITS.jwt, 'flow.', { nonEmpty: true });
    if (/[\r\n\0]/.test(flow.token)) this.fail('flow.token must be single-line');
    const hint = this.optEnum(o, 'tokenTypeHint', TOKEN_TYPE_HINTS, 'flow.');
    if (hint) flow.tokenTypeHint = hint;
    if (o.clientAuth === undefined) this.fail('flow.clientAuth is required');
    flow.clientAuth = this.clientAuth(o.clientAuth, 'flow.clientAuth');
    if (o.tls !== undefined) flow.tls = this.tls(o.tls, 'flow.tls');
    return flow;
  }

  tokenBase(o: Obj, target: TokenFlowBase, opts: { tokenUrlRequired?: boolean } = {}): void {
    this.serverRef(o, target, opts);
    const scope = this.optStr(o, 'scope', FLOW_LIMITS.scope, 'flow.');
    if (scope !== undefined) target.scope = scope;
    if (o.extraParams !== undefined) target.extraParams = this.strings(o.extraParams, 'flow.extraParams', 'param');
    if (o.call !== undefined) target.call = this.call(o.call, 'flow.call');
    if (o.tls !== undefined) target.tls = this.tls(o.tls, 'flow.tls');
  }
}

/** Validates a request's `secretNames` (probe and flows): at most 32 tokens of at most 64 characters. */
export function parseSecretNames(v: unknown, path: string, id?: string): string[] {
  return new Parser(id).secretNames(v, path);
}

// ---- the messages ------------------------------------------------------------------

function parseProbe(v: unknown, id: string): ProbeRequest {
  const read: Parser = new Parser(id);
  if (!isObj(v)) read.fail('probe must be an object');
  const p = 'probe.';
  const probe: ProbeRequest = { url: read.str(v, 'url', FIELD_LIMITS.url, p) };
  const method = read.optEnum(v, 'method', HTTP_METHODS, p);
  if (method !== undefined) probe.method = method;
  if (v.headers !== undefined) probe.headers = read.strings(v.headers, 'probe.headers', 'header');
  const body = read.optStr(v, 'body', FIELD_LIMITS.body, p);
  if (body !== undefined) probe.body = body;
  const client = read.optClient(v, p);
  if (client) probe.client = client;
  const caPem = read.optStr(v, 'caPem', FIELD_LIMITS.pem, p);
  if (caPem !== undefined) probe.caPem = caPem;
  const verifyServer = read.optBool(v, 'verifyServer', p);
  if (verifyServer !== undefined) probe.verifyServer = verifyServer;
  const trustLab = read.optBool(v, 'trustLab', p);
  if (trustLab !== undefined) probe.trustLab = trustLab;
  if (v.secretNames !== undefined) probe.secretNames = read.secretNames(v.secretNames, 'probe.secretNames');
  return probe;
}

const RULE_FIELDS = new Set(['cnEquals', 'sanDnsEquals']);

function parseInbound(v: unknown, id: string): InboundRequest {
  const read: Parser = new Parser(id);
  if (!isObj(v)) read.fail('inbound must be an object');
  const p = 'inbound.';
  const inbound: InboundRequest = { caPem: read.str(v, 'caPem', FIELD_LIMITS.pem, p) };
  if (!inbound.caPem.includes('-----BEGIN CERTIFICATE-----')) read.fail('inbound.caPem must be a PEM bundle with at least one -----BEGIN CERTIFICATE----- block');
  if (v.port !== undefined) {
    if (typeof v.port !== 'number' || !Number.isInteger(v.port) || v.port < 0 || v.port > 65535) read.fail('inbound.port must be an integer from 0 to 65535 (0 picks a free port)');
    inbound.port = v.port;
  }
  const host = read.optStr(v, 'host', INBOUND_FIELD_LIMITS.host, p);
  if (host !== undefined) {
    const ipv4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(host);
    const ipv6 = /^[0-9A-Fa-f:.]+$/.test(host) && host.includes(':');
    if (!ipv4 && !ipv6 && host !== 'localhost') read.fail('inbound.host must be an IP address or localhost (default 127.0.0.1)');
    inbound.host = host;
  }
  if (v.rule !== undefined) {
    if (!isObj(v.rule)) read.fail('inbound.rule must be an object');
    // A misspelt condition must not quietly let every certificate through.
    for (const key of Object.keys(v.rule)) {
      if (!RULE_FIELDS.has(key)) read.fail(`inbound.rule.${key.slice(0, 40)} is not a rule field; use cnEquals or sanDnsEquals`);
    }
    const rule: InboundRule = {};
    for (const key of ['cnEquals', 'sanDnsEquals'] as const) {
      const value = read.optStr(v.rule, key, INBOUND_FIELD_LIMITS.ruleValue, 'inbound.rule.');
      if (value === undefined) continue;
      if (value === '' || /[\0-\x1f\x7f]/.test(value)) read.fail(`inbound.rule.${key} must be a non-empty single-line string`);
      rule[key] = value;
    }
    inbound.rule = rule;
  }
  if (v.verifyDepth !== undefined) {
    const d = v.verifyDepth;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > INBOUND_FIELD_LIMITS.maxVerifyDepth) {
      read.fail(`inbound.verifyDepth must be an integer from 0 to ${INBOUND_FIELD_LIMITS.maxVerifyDepth} (CA certificates above the client certificate, root included)`);
    }
    inbound.verifyDepth = d;
  }
  return inbound;
}

/**
 * A jwks.fetch URL: absolute http(s) without credentials. Whether plain http:// is allowed
 * depends on the lab's endpoints, which only the relay knows; it refuses the rest.
 */
function parseJwksFetch(raw: Obj, id: string): Extract<ClientMessage, { type: 'jwks.fetch' }> {
  const read: Parser = new Parser(id);
  const url = read.str(raw, 'url', FIELD_LIMITS.url, '');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    read.fail('url must be an absolute https:// URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') read.fail(`url: ${parsed.protocol}// is not HTTP; use https://`);
  if (parsed.username || parsed.password) read.fail('url must not contain a user name or password');
  const caPem = read.optStr(raw, 'caPem', FIELD_LIMITS.pem, '');
  if (caPem !== undefined && !caPem.includes('-----BEGIN CERTIFICATE-----')) read.fail('caPem must be a PEM bundle with at least one -----BEGIN CERTIFICATE----- block');
  return { type: 'jwks.fetch', id, url, ...(caPem !== undefined ? { caPem } : {}) };
}

/** How a check trusts the server's own certificate: an extra CA bundle, and whether the lab's CA counts. */
function serverTrust(v: Obj, path: string, id: string): { caPem?: string; trustLab?: boolean } {
  const read: Parser = new Parser(id);
  const caPem = read.optStr(v, 'caPem', FIELD_LIMITS.pem, path);
  const trustLab = read.optBool(v, 'trustLab', path);
  return { ...(caPem !== undefined ? { caPem } : {}), ...(trustLab !== undefined ? { trustLab } : {}) };
}

/** The JWT check's shape at the edge: strings and sizes. The key never comes: a request carrying one is refused. */
function parseJwtCheck(v: unknown, id: string): SignedJwtCheckRequest {
  const read: Parser = new Parser(id);
  if (!isObj(v)) read.fail('jwt must be an object (the JWT check: kind, tokenUrl, clientId, assertions, …)');
  const p = 'jwt.';
  if (v.privateKeyPem !== undefined) read.fail('jwt.privateKeyPem: the key stays in the browser; send the signed assertions instead');
  if (!isObj(v.assertions)) read.fail('jwt.assertions must be an object of one signed assertion per case id');
  const entries = Object.entries(v.assertions);
  if (entries.length > CHECK_FIELD_LIMITS.assertions) read.fail(`jwt.assertions has more than ${CHECK_FIELD_LIMITS.assertions} entries`);
  const assertions: Record<string, string> = Object.create(null);
  for (const [caseId] of entries) {
    if (caseId.length > 40 || !/^[a-z0-9_]+$/.test(caseId)) read.fail(`jwt.assertions: "${caseId.slice(0, 40)}" is not a case id`);
    assertions[caseId] = read.str(v.assertions, caseId, FLOW_LIMITS.jwt, 'jwt.assertions.');
  }
  const jwt: SignedJwtCheckRequest = {
    kind: read.str(v, 'kind', 32, p) as SignedJwtCheckRequest['kind'],
    tokenUrl: read.str(v, 'tokenUrl', FIELD_LIMITS.url, p),
    clientId: read.str(v, 'clientId', FLOW_LIMITS.clientId, p),
    assertions,
  };
  for (const [key, max] of [['clientSecret', FLOW_LIMITS.secret], ['kid', CHECK_FIELD_LIMITS.text], ['audience', FIELD_LIMITS.url], ['issuer', FLOW_LIMITS.clientId], ['subject', FLOW_LIMITS.clientId]] as const) {
    const value = read.optStr(v, key, max, p);
    if (value !== undefined) jwt[key] = value;
  }
  return { ...jwt, ...serverTrust(v, p, id) };
}

/** The resource check's shape at the edge. A bound token's certificate key goes to the relay for this check, as a probe's does. */
function parseResourceCheck(v: unknown, id: string): ResourceCheckRequest {
  const read: Parser = new Parser(id);
  if (!isObj(v)) read.fail('resource must be an object (the resource check: url, accessToken, …)');
  const p = 'resource.';
  const resource: ResourceCheckRequest = { url: read.str(v, 'url', FIELD_LIMITS.url, p), accessToken: read.str(v, 'accessToken', FLOW_LIMITS.jwt, p) };
  const client = read.optClient(v, p);
  if (client) resource.client = client;
  return { ...resource, ...serverTrust(v, p, id) };
}

function parseCheckStart(raw: Obj, id: string): Extract<ClientMessage, { type: 'check.start' }> {
  const read: Parser = new Parser(id);
  const kind = raw.kind ?? 'mtls';
  switch (kind) {
    case 'mtls':
      return { type: 'check.start', id, check: parseCheck(raw.check, id) };
    case 'jwt':
      return { type: 'check.start', id, kind: 'jwt', jwt: parseJwtCheck(raw.jwt, id) };
    case 'resource':
      return { type: 'check.start', id, kind: 'resource', resource: parseResourceCheck(raw.resource, id) };
    default:
      read.fail(`kind must be one of ${CHECK_KINDS.join(', ')} (default mtls)`);
  }
}

/** The shape of a check request at the edge: strings and sizes. Meaning is checked by the relay. */
function parseCheck(v: unknown, id: string): MtlsCheckRequest {
  const read: Parser = new Parser(id);
  if (!isObj(v)) read.fail('check must be an object');
  const p = 'check.';
  if (!isObj(v.ca)) read.fail('check.ca must be an object with the test CA\'s PEMs');
  const ca = {
    rootCertificatePem: read.str(v.ca, 'rootCertificatePem', FIELD_LIMITS.pem, 'check.ca.'),
    rootPrivateKeyPem: read.str(v.ca, 'rootPrivateKeyPem', FIELD_LIMITS.pem, 'check.ca.'),
    intermediateCertificatePem: read.str(v.ca, 'intermediateCertificatePem', FIELD_LIMITS.pem, 'check.ca.'),
    intermediatePrivateKeyPem: read.str(v.ca, 'intermediatePrivateKeyPem', FIELD_LIMITS.pem, 'check.ca.'),
  };
  if (!isObj(v.rule)) read.fail('check.rule must be {cnEquals: "…"} or {sanDnsEquals: "…"}');
  const rule: Record<string, string> = {};
  for (const key of Object.keys(v.rule)) rule[key.slice(0, 40)] = read.str(v.rule, key, CHECK_FIELD_LIMITS.text, 'check.rule.');
  if (typeof v.verifyDepth !== 'number') read.fail('check.verifyDepth must be a number');
  const check: MtlsCheckRequest = { url: read.str(v, 'url', FIELD_LIMITS.url, p), ca, rule: rule as unknown as MtlsCheckRequest['rule'], verifyDepth: v.verifyDepth };
  Object.assign(check, serverTrust(v, p, id));
  if (v.custom !== undefined) {
    if (!Array.isArray(v.custom) || v.custom.length > CHECK_FIELD_LIMITS.customCases) read.fail(`check.custom must be a list of at most ${CHECK_FIELD_LIMITS.customCases} cases`);
    check.custom = v.custom.map((c, i) => {
      const path = `check.custom[${i}].`;
      if (!isObj(c)) read.fail(`${path.slice(0, -1)} must be an object`);
      if (c.expect !== 'accept' && c.expect !== 'refuse') read.fail(`${path}expect must be "accept" or "refuse"`);
      const cap = read.optStr(c, 'capIfNotEnforced', 1, path);
      return {
        title: read.str(c, 'title', CHECK_FIELD_LIMITS.text, path),
        expect: c.expect,
        certificatePem: read.str(c, 'certificatePem', FIELD_LIMITS.pem, path),
        privateKeyPem: read.str(c, 'privateKeyPem', FIELD_LIMITS.pem, path),
        ...(cap !== undefined ? { capIfNotEnforced: cap as 'A' } : {}),
      };
    });
  }
  return check;
}

/**
 * Parses one text frame into a ClientMessage or throws ProtocolError.
 * Unknown extra fields are ignored; missing or mistyped ones are named in the message.
 */
export function parseClientMessage(text: string): ClientMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ProtocolError('bad_json', 'frame is not valid JSON');
  }
  if (!isObj(raw)) throw new ProtocolError('bad_message', 'frame must be a JSON object');
  const id = typeof raw.id === 'string' && raw.id.length <= FIELD_LIMITS.id ? raw.id : undefined;
  const read: Parser = new Parser(id);
  if (typeof raw.type !== 'string') read.fail('frame has no "type"');
  if (id === undefined) read.fail(`"id" must be a string of at most ${FIELD_LIMITS.id} characters`);
  switch (raw.type) {
    case 'probe.start':
      return { type: 'probe.start', id, probe: parseProbe(raw.probe, id) };
    case 'flow.start':
      return { type: 'flow.start', id, flow: parseFlowRequest(raw.flow, id) };
    case 'run.cancel':
    case 'run.settle':
      return { type: raw.type, id, runId: read.str(raw, 'runId', FIELD_LIMITS.id, '') };
    case 'flow.reveal': {
      const which = raw.which;
      if (typeof which !== 'string' || !(ISSUED_TOKEN_NAMES as readonly string[]).includes(which)) read.fail(`"which" must be one of ${ISSUED_TOKEN_NAMES.join(', ')}`);
      return { type: 'flow.reveal', id, runId: read.str(raw, 'runId', FIELD_LIMITS.id, ''), which: which as IssuedTokenName };
    }
    case 'lab.sign': {
      const csrPem = read.str(raw, 'csrPem', FIELD_LIMITS.pem, '');
      if (raw.profile === undefined) return { type: 'lab.sign', id, csrPem };
      const profile = raw.profile;
      if (typeof profile !== 'string' || !(LAB_SIGN_PROFILES as readonly string[]).includes(profile)) {
        read.fail(`profile must be one of ${LAB_SIGN_PROFILES.join(', ')}`);
      }
      return { type: 'lab.sign', id, csrPem, profile: profile as LabSignProfile };
    }
    case 'lab.register':
      return { type: 'lab.register', id, ...parseLabRegistration(raw, id) };
    case 'inbound.start':
      return { type: 'inbound.start', id, inbound: parseInbound(raw.inbound, id) };
    case 'inbound.stop':
      return { type: 'inbound.stop', id, listenerId: read.str(raw, 'listenerId', FIELD_LIMITS.id, '') };
    case 'jwks.fetch':
      return parseJwksFetch(raw, id);
    case 'check.kit':
      return { type: 'check.kit', id, check: parseCheck(raw.check, id) };
    case 'check.start':
      return parseCheckStart(raw, id);
    case 'ping':
      return { type: 'ping', id };
    default:
      throw new ProtocolError('unknown_type', `unknown message type "${raw.type.slice(0, 40)}"`, id);
  }
}

/** Parses a relay frame on the client side; throws on anything that is not a ServerMessage. */
export function parseServerMessage(text: string): ServerMessage {
  const raw: unknown = JSON.parse(text);
  if (!isObj(raw) || typeof raw.type !== 'string') throw new Error('relay sent a frame without a type');
  return raw as ServerMessage;
}

// ---- flow.start and lab.register ----------------------------------------------------

export function parseFlowRequest(v: unknown, id: string): FlowRequest {
  const flow: FlowRequest = parseFlowKind(v, id);
  const secretNames = (v as Obj).secretNames;
  if (secretNames !== undefined) flow.secretNames = parseSecretNames(secretNames, 'flow.secretNames', id);
  return flow;
}

function parseFlowKind(v: unknown, id: string): FlowRequest {
  const p = new Parser(id);
  const o = p.obj(v, 'flow');
  const kind = o.kind;
  if (typeof kind !== 'string' || !(FLOW_KINDS as readonly string[]).includes(kind)) {
    p.fail(`flow.kind "${String(kind).slice(0, 40)}" is not a known flow (one of ${FLOW_KINDS.join(', ')})`);
  }
  switch (kind as FlowKind) {
    case 'discovery': {
      const flow: DiscoveryFlow = { kind: 'discovery', issuer: p.str(o, 'issuer', FIELD_LIMITS.url, 'flow.', { nonEmpty: true }) };
      if (o.tls !== undefined) flow.tls = p.tls(o.tls, 'flow.tls');
      return flow;
    }
    case 'jwt-exchange': {
      const flow = {
        kind: 'jwt-exchange',
        clientId: p.str(o, 'clientId', FLOW_LIMITS.clientId, 'flow.', { nonEmpty: true }),
        jwt: p.str(o, 'jwt', FLOW_LIMITS.jwt, 'flow.', { nonEmpty: true }),
      } as JwtExchangeFlow;
      p.tokenBase(o, flow, { tokenUrlRequired: true });
      const secret = p.optStr(o, 'clientSecret', FLOW_LIMITS.secret, 'flow.');
      if (secret !== undefined) flow.clientSecret = secret;
      if (o.fieldNames !== undefined) {
        const f = p.obj(o.fieldNames, 'flow.fieldNames');
        const names: NonNullable<JwtExchangeFlow['fieldNames']> = {};
        for (const key of ['clientId', 'clientSecret', 'jwt'] as const) {
          const name = p.optStr(f, key, FLOW_LIMITS.paramName, 'flow.fieldNames.', { nonEmpty: true });
          if (name !== undefined) names[key] = name;
        }
        if (new Set(Object.values(names)).size !== Object.values(names).length) p.fail('flow.fieldNames must be three different names');
        flow.fieldNames = names;
      }
      return flow;
    }
    case 'jwt-bearer': {
      const flow = { kind: 'jwt-bearer', assertion: p.str(o, 'assertion', FLOW_LIMITS.jwt, 'flow.', { nonEmpty: true }) } as JwtBearerFlow;
      p.tokenBase(o, flow);
      if (o.clientAuth !== undefined) flow.clientAuth = p.clientAuth(o.clientAuth, 'flow.clientAuth');
      return flow;
    }
    case 'client-credentials': {
      if (o.clientAuth === undefined) p.fail('flow.clientAuth is required');
      const flow = { kind: 'client-credentials', clientAuth: p.clientAuth(o.clientAuth, 'flow.clientAuth') } as ClientCredentialsFlow;
      p.tokenBase(o, flow);
      return flow;
    }
    case 'refresh-token': {
      if (o.clientAuth === undefined) p.fail('flow.clientAuth is required');
      const flow = { kind: 'refresh-token', clientAuth: p.clientAuth(o.clientAuth, 'flow.clientAuth') } as RefreshTokenFlow;
      if ((o.refreshToken === undefined) === (o.refreshTokenFromRun === undefined)) p.fail('flow needs exactly one of refreshToken and refreshTokenFromRun');
      if (o.refreshToken !== undefined) flow.refreshToken = p.str(o, 'refreshToken', FLOW_LIMITS.jwt, 'flow.', { nonEmpty: true });
      else {
        const from = p.str(o, 'refreshTokenFromRun', 64, 'flow.');
        if (!/^r[0-9a-f]{12}$/.test(from)) p.fail('flow.refreshTokenFromRun must be a run id (r followed by 12 hex digits)');
        flow.refreshTokenFromRun = from;
      }
      p.tokenBase(o, flow);
      return flow;
    }
    case 'authorization-code': {
      if (o.clientAuth === undefined) p.fail('flow.clientAuth is required');
      const flow = { kind: 'authorization-code', clientAuth: p.clientAuth(o.clientAuth, 'flow.clientAuth') } as AuthorizationCodeFlow;
      p.tokenBase(o, flow);
      const authorizationUrl = p.optStr(o, 'authorizationUrl', FIELD_LIMITS.url, 'flow.', { nonEmpty: true });
      if (authorizationUrl !== undefined) flow.authorizationUrl = authorizationUrl;
      if (!flow.issuer && !(flow.authorizationUrl && flow.tokenUrl)) p.fail('flow needs issuer (to run discovery) or both authorizationUrl and tokenUrl');
      const redirectKey = p.optStr(o, 'redirectKey', FLOW_LIMITS.redirectKey, 'flow.');
      if (redirectKey !== undefined) {
        if (!/^[A-Za-z0-9_-]{1,64}$/.test(redirectKey)) p.fail('flow.redirectKey may contain only letters, digits, "-" and "_"');
        flow.redirectKey = redirectKey;
      }
      const redirectUri = p.optStr(o, 'redirectUri', FIELD_LIMITS.url, 'flow.', { nonEmpty: true });
      if (redirectUri !== undefined) {
        if (redirectKey !== undefined) p.fail('flow: give redirectUri or redirectKey, not both (the key is the last segment of the URI)');
        const fixed = parseLoopbackRedirect(redirectUri);
        if (typeof fixed === 'string') p.fail(`flow.redirectUri: ${fixed}`);
        flow.redirectUri = redirectUri;
      }
      const pkce = p.optBool(o, 'pkce', 'flow.');
      if (pkce !== undefined) flow.pkce = pkce;
      if (o.extraAuthParams !== undefined) flow.extraAuthParams = p.strings(o.extraAuthParams, 'flow.extraAuthParams', 'param');
      const requireRefreshToken = p.optBool(o, 'requireRefreshToken', 'flow.');
      if (requireRefreshToken !== undefined) flow.requireRefreshToken = requireRefreshToken;
      if (o.callbackTimeoutMs !== undefined) {
        const t = o.callbackTimeoutMs;
        if (typeof t !== 'number' || !Number.isInteger(t) || t < 1000 || t > FLOW_LIMITS.callbackTimeoutMs) p.fail(`flow.callbackTimeoutMs must be a whole number of milliseconds from 1000 to ${FLOW_LIMITS.callbackTimeoutMs}`);
        flow.callbackTimeoutMs = t as number;
      }
      return flow;
    }
    case 'introspect': {
      const flow = p.tokenEndpointFlow(o, { kind: 'introspect' } as IntrospectFlow, 'introspectionUrl');
      const expectActive = p.optBool(o, 'expectActive', 'flow.');
      if (expectActive !== undefined) flow.expectActive = expectActive;
      return flow;
    }
    case 'revoke': {
      const flow = p.tokenEndpointFlow(o, { kind: 'revoke' } as RevokeFlow, 'revocationUrl');
      const introspectAfter = p.optBool(o, 'introspectAfter', 'flow.');
      if (introspectAfter !== undefined) flow.introspectAfter = introspectAfter;
      const introspectionUrl = p.optStr(o, 'introspectionUrl', FIELD_LIMITS.url, 'flow.', { nonEmpty: true });
      if (introspectionUrl !== undefined) {
        if (!flow.introspectAfter) p.fail('flow.introspectionUrl is used only with introspectAfter: true');
        flow.introspectionUrl = introspectionUrl;
      }
      if (flow.introspectAfter && !flow.issuer && !flow.introspectionUrl) p.fail('flow.introspectAfter needs issuer (to discover the introspection endpoint) or introspectionUrl');
      if (o.call !== undefined) flow.call = p.call(o.call, 'flow.call');
      return flow;
    }
    case 'api-key': {
      const flow: ApiKeyFlow = {
        kind: 'api-key',
        url: p.str(o, 'url', FIELD_LIMITS.url, 'flow.', { nonEmpty: true }),
        apiKey: p.str(o, 'apiKey', FLOW_LIMITS.secret, 'flow.', { nonEmpty: true }),
        username: p.str(o, 'username', FLOW_LIMITS.secret, 'flow.'),
      };
      if (/[\r\n\0]/.test(flow.apiKey) || /[\r\n\0]/.test(flow.username)) p.fail('flow.apiKey and flow.username must be single-line');
      const method = p.optEnum(o, 'method', HTTP_METHODS, 'flow.');
      if (method) flow.method = method;
      if (o.headerNames !== undefined) {
        const h = p.obj(o.headerNames, 'flow.headerNames');
        const names: NonNullable<ApiKeyFlow['headerNames']> = {};
        const apiKey = p.headerName(h, 'apiKey', 'flow.headerNames.');
        const username = p.headerName(h, 'username', 'flow.headerNames.');
        if (apiKey !== undefined) names.apiKey = apiKey;
        if (username !== undefined) names.username = username;
        if (names.apiKey && names.username && names.apiKey.toLowerCase() === names.username.toLowerCase()) p.fail('flow.headerNames.apiKey and flow.headerNames.username must differ');
        flow.headerNames = names;
      }
      if (o.headers !== undefined) flow.headers = p.strings(o.headers, 'flow.headers', 'header');
      const body = p.optStr(o, 'body', FIELD_LIMITS.body, 'flow.');
      if (body !== undefined) flow.body = body;
      if (o.tls !== undefined) flow.tls = p.tls(o.tls, 'flow.tls');
      return flow;
    }
  }
}

export function parseLabRegistration(raw: Record<string, unknown>, id: string): LabRegistration {
  const p = new Parser(id);
  if (raw.publicJwk === undefined) p.fail('publicJwk is required');
  const reg: LabRegistration = { publicJwk: p.jwk(raw.publicJwk, 'publicJwk') };
  const k = reg.publicJwk;
  const needs: Record<string, string[]> = { RSA: ['n', 'e'], EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'] };
  const members = needs[k.kty];
  if (!members) p.fail(`publicJwk.kty must be RSA, EC or OKP (an asymmetric key), not ${k.kty}`);
  for (const m of members ?? []) if (typeof k[m] !== 'string' || k[m] === '') p.fail(`publicJwk.${m} is required for a ${k.kty} key`);
  const method = p.optEnum(raw, 'method', ['private_key_jwt', 'self_signed_tls_client_auth'] as const, '');
  if (method) reg.method = method;
  if (method === 'self_signed_tls_client_auth' && !reg.publicJwk.x5c?.length) p.fail('publicJwk.x5c (the self-signed certificate) is required for self_signed_tls_client_auth');
  return reg;
}
