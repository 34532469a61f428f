// The scenario file format (docs/scenarios.md): a probe or a token flow saved as JSON, with its
// secrets named rather than stored and its JWTs described by templates, so a scenario can be
// re-run headless (`harness run FILE`), attached to a ticket, or shipped as an example. Pure:
// the browser validates an imported file and exports one with the same code; the relay side
// (server/scenarios/) fills the placeholders in and runs it.
import type { ClientCredentials, InboundRequest, LabTarget, ProbeRequest, RunOutcome } from '../protocol/index.ts';
import type { FlowRequest } from './flow-request.ts';
import { isSecretField, isSecretHeader, isSecretName, secretValues } from '../redact.ts';
import { decodeJwt } from '../jwt/decode.ts';
import { envName } from './curl.ts';
import { HarnessError } from '../errors.ts';

export const SCENARIO_VERSION = 1;

/**
 * A probe, a token flow, an inbound check (docs/scenarios.md) or a server check
 * (docs/server-check.md); the request is under the key of the same name.
 */
export const SCENARIO_KINDS = ['probe', 'flow', 'inbound', 'server-check'] as const;
export type ScenarioKind = (typeof SCENARIO_KINDS)[number];
/** The three server checks a `server-check` scenario runs, by the key its request is under. */
export const SERVER_CHECK_MODES = ['mtls', 'jwt', 'resource'] as const;
export type ServerCheckMode = (typeof SERVER_CHECK_MODES)[number];
const GRADE_NAMES = ['A', 'B', 'C', 'D', 'F'] as const;
/** The files `harness check --new-ca DIR` writes for the test CA, by the request field each fills. */
export const CA_KIT_FILES = {
  rootCertificatePem: 'root.pem',
  rootPrivateKeyPem: 'root.key',
  intermediateCertificatePem: 'intermediate.pem',
  intermediatePrivateKeyPem: 'intermediate.key',
} as const;

export type SecretSource =
  | { env: string }
  | { file: string }
  | { value: string }
  /**
   * Something the in-process lab made: signing-key, client-certificate, client-key,
   * self-signed-certificate, self-signed-key, refresh-token:<client id>; or, for a key the run
   * makes (`generate`), the client the lab registers for it: registered-client:<key secret> (its
   * client id) and registered-secret:<key secret> (its client secret).
   */
  | { lab: string }
  /** A fresh private key made for this run (PKCS#8 PEM): RS256, ES256 or EdDSA. */
  | { generate: 'RS256' | 'ES256' | 'EdDSA' };

/**
 * An inbound check as a scenario: the listener's settings and the one client that connects to
 * it. Running it starts the listener, connects once as that client (as curl would) and ends
 * with that connection's run. The port and address are not saved: a run listens on a free
 * loopback port.
 */
export interface InboundScenarioRequest {
  listener: Omit<InboundRequest, 'port' | 'host'>;
  /** The certificate the client presents; absent: it connects without one. */
  client?: ClientCredentials;
}

export interface ScenarioExpect {
  outcome: RunOutcome;
  /** The run's diagnosis codes, exactly and in order. */
  diagnoses?: string[];
}

export interface Scenario {
  version: typeof SCENARIO_VERSION;
  name: string;
  description?: string;
  kind: ScenarioKind;
  /** The request, with placeholders ({"$secret"}, {"$jwt"}, "lab:<target>") still in it. */
  request: unknown;
  secrets: Record<string, SecretSource>;
  /** "lab": start the built-in lab even if no placeholder names it. */
  target?: 'lab';
  expect?: ScenarioExpect;
}

export class ScenarioError extends HarnessError<'scenario_invalid'> {
  constructor(message: string) {
    super('scenario_invalid', message);
  }
}

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const LAB_SECRETS = ['signing-key', 'client-certificate', 'client-key', 'self-signed-certificate', 'self-signed-key'];

function parseSecret(name: string, v: unknown): SecretSource {
  const path = `secrets.${name}`;
  if (!isObj(v)) throw new ScenarioError(`${path} must be an object with one of env, file, value, lab, generate`);
  const keys = Object.keys(v);
  if (keys.length !== 1) throw new ScenarioError(`${path} must have exactly one of env, file, value, lab, generate`);
  const [key] = keys as [string];
  const val = v[key];
  switch (key) {
    case 'env':
      if (typeof val !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(val)) throw new ScenarioError(`${path}.env must be an environment variable name`);
      return { env: val };
    case 'file':
    case 'value':
      if (typeof val !== 'string' || val === '') throw new ScenarioError(`${path}.${key} must be a non-empty string`);
      return key === 'file' ? { file: val } : { value: val };
    case 'lab':
      if (typeof val !== 'string' || !(LAB_SECRETS.includes(val) || /^refresh-token:[\w.-]+$/.test(val) || /^registered-(client|secret):[A-Za-z0-9_.-]{1,64}$/.test(val))) {
        throw new ScenarioError(`${path}.lab must be one of ${LAB_SECRETS.join(', ')}, refresh-token:<client id>, registered-client:<key secret> or registered-secret:<key secret>`);
      }
      return { lab: val };
    case 'generate':
      if (val !== 'RS256' && val !== 'ES256' && val !== 'EdDSA') throw new ScenarioError(`${path}.generate must be RS256, ES256 or EdDSA`);
      return { generate: val };
    default:
      throw new ScenarioError(`${path}.${key} is not a secret source (env, file, value, lab, generate)`);
  }
}

/** Checks the file's shape; the request itself is checked after its placeholders are filled in. */
export function parseScenario(text: string): Scenario {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ScenarioError(`not valid JSON: ${(err as Error).message}`);
  }
  if (!isObj(raw)) throw new ScenarioError('a scenario is a JSON object');
  if (raw.version !== SCENARIO_VERSION) throw new ScenarioError(`version must be ${SCENARIO_VERSION} (this harness reads version ${SCENARIO_VERSION} scenarios)`);
  if (typeof raw.name !== 'string' || raw.name.trim() === '') throw new ScenarioError('name must be a non-empty string');
  if (raw.description !== undefined && typeof raw.description !== 'string') throw new ScenarioError('description must be a string');
  if (!(SCENARIO_KINDS as readonly unknown[]).includes(raw.kind)) throw new ScenarioError('kind must be "probe", "flow", "inbound" or "server-check"');
  const kind = raw.kind as ScenarioKind;
  let request = raw[kind];
  if (!isObj(request)) throw new ScenarioError(`${kind} must be an object (the ${kind === 'server-check' ? 'check' : kind} request)`);
  if (kind === 'inbound') {
    if (!isObj(request.listener)) throw new ScenarioError('inbound.listener must be an object (caPem, and optionally rule and verifyDepth)');
    if (request.client !== undefined && !isObj(request.client)) throw new ScenarioError('inbound.client must be an object (certificatePem, privateKeyPem)');
  }
  const secrets: Record<string, SecretSource> = {};
  if (raw.secrets !== undefined) {
    if (!isObj(raw.secrets)) throw new ScenarioError('secrets must be an object');
    for (const [name, v] of Object.entries(raw.secrets)) {
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new ScenarioError(`secrets: "${name.slice(0, 40)}" is not a usable name`);
      secrets[name] = parseSecret(name, v);
    }
  }
  if (kind === 'server-check') request = parseServerCheck(request, secrets);
  const scenario: Scenario = { version: SCENARIO_VERSION, name: raw.name, kind, request, secrets };
  if (raw.description !== undefined) scenario.description = raw.description as string;
  if (raw.target !== undefined) {
    if (raw.target !== 'lab') throw new ScenarioError('target may only be "lab"');
    scenario.target = 'lab';
  }
  if (raw.expect !== undefined) {
    const e = raw.expect;
    if (!isObj(e) || !['pass', 'fail', 'error'].includes(e.outcome as string)) throw new ScenarioError('expect.outcome must be "pass", "fail" or "error"');
    if (e.diagnoses !== undefined && !(Array.isArray(e.diagnoses) && e.diagnoses.every((d) => typeof d === 'string'))) throw new ScenarioError('expect.diagnoses must be a list of diagnosis codes');
    scenario.expect = { outcome: e.outcome as RunOutcome, ...(e.diagnoses ? { diagnoses: e.diagnoses as string[] } : {}) };
  }
  return scenario;
}

/**
 * The shape of a `server-check` request: exactly one of mtls, jwt, resource (the request the
 * check takes, with placeholders) and the grade required. `mtls.ca` may be `{"kit": "DIR"}`, the
 * folder `harness check --new-ca DIR` wrote: it becomes four file secrets, so the scenario's
 * consent rules apply to the test CA's keys as to any other file.
 */
function parseServerCheck(request: Obj, secrets: Record<string, SecretSource>): Obj {
  const modes = SERVER_CHECK_MODES.filter((m) => request[m] !== undefined);
  if (modes.length !== 1) throw new ScenarioError(`server-check must have exactly one of ${SERVER_CHECK_MODES.join(', ')} (the check to run)`);
  const mode = modes[0]!;
  for (const key of Object.keys(request)) {
    if (key !== mode && key !== 'require') throw new ScenarioError(`server-check.${key.slice(0, 40)} is not a field of a server check (${mode}, require)`);
  }
  if (request.require !== undefined && !(GRADE_NAMES as readonly unknown[]).includes(request.require)) throw new ScenarioError(`server-check.require must be one of ${GRADE_NAMES.join(', ')}`);
  const body = request[mode];
  if (!isObj(body)) throw new ScenarioError(`server-check.${mode} must be an object (the ${mode} check request)`);
  if (mode !== 'mtls' || !isObj(body.ca) || !('kit' in body.ca)) return request;
  const kit = body.ca.kit;
  if (Object.keys(body.ca).length !== 1 || typeof kit !== 'string' || kit === '') throw new ScenarioError('server-check.mtls.ca.kit must be the folder harness check --new-ca wrote, alone (or give the four PEM fields)');
  const ca: Obj = {};
  for (const [field, file] of Object.entries(CA_KIT_FILES)) {
    const name = `ca-kit.${file}`;
    if (secrets[name]) throw new ScenarioError(`secrets: "${name}" is the name server-check.mtls.ca.kit gives its ${file}: rename yours`);
    secrets[name] = { file: `${kit.replace(/\/+$/, '')}/${file}` };
    ca[field] = { $secret: name };
  }
  return { ...request, [mode]: { ...body, ca } };
}

/** Does running this scenario need the built-in lab? */
export function needsLab(s: Scenario): boolean {
  if (s.target === 'lab' || Object.values(s.secrets).some((v) => 'lab' in v)) return true;
  const walk = (v: unknown): boolean => (typeof v === 'string' ? v.startsWith('lab:') : Array.isArray(v) ? v.some(walk) : isObj(v) ? Object.values(v).some(walk) : false);
  return walk(s.request);
}


/** Does a finished run match the scenario's expect block? Null when it has none. */
export function checkExpect(s: Scenario, result: { outcome: RunOutcome; diagnoses: string[] }): { ok: boolean; message: string } | null {
  if (!s.expect) return null;
  const wantDiagnoses = s.expect.diagnoses;
  const outcomeOk = result.outcome === s.expect.outcome;
  const diagnosesOk = wantDiagnoses === undefined || JSON.stringify(wantDiagnoses) === JSON.stringify(result.diagnoses);
  const want = `${s.expect.outcome}${wantDiagnoses ? ` [${wantDiagnoses.join(', ')}]` : ''}`;
  const got = `${result.outcome} [${result.diagnoses.join(', ')}]`;
  return outcomeOk && diagnosesOk ? { ok: true, message: `as expected: ${got}` } : { ok: false, message: `expected ${want}, got ${got}` };
}

// ---- export: a request as a scenario, secrets left out unless asked for ---------------------

export interface ScenarioFile {
  version: typeof SCENARIO_VERSION;
  name: string;
  description?: string;
  kind: ScenarioKind;
  probe?: unknown;
  flow?: unknown;
  inbound?: unknown;
  secrets?: Record<string, SecretSource>;
  expect?: ScenarioExpect;
}

export interface ExportOptions {
  name: string;
  description?: string;
  /** Put secret values in the file ({"value": …}). Default false: they become env/file references. */
  includeSecrets?: boolean;
  /** Lab targets of the relay the request ran on: their URLs become "lab:<id>" (ports change per start). */
  labTargets?: LabTarget[];
  expect?: ScenarioExpect;
}

/** Builds the placeholders for one request. */
class Exporter {
  readonly secrets: Record<string, SecretSource> = {};
  readonly #opts: ExportOptions;
  readonly #targets: LabTarget[];
  /** Names the request marked secret (its `secretNames`). */
  readonly #names: readonly string[];
  get includeSecrets(): boolean {
    return this.#opts.includeSecrets === true;
  }

  constructor(opts: ExportOptions, secretNames: readonly string[] = []) {
    this.#opts = opts;
    this.#names = secretNames;
    // Longest URL first, so a tenant issuer wins over the default one it starts with.
    this.#targets = [...(opts.labTargets ?? [])].sort((a, b) => b.url.length - a.url.length);
  }

  url(u: string): string {
    for (const t of this.#targets) {
      const base = t.url.replace(/\/$/, '');
      if (u === base || u === t.url) return `lab:${t.id}`;
      if (u.startsWith(`${base}/`)) {
        const rest = u.slice(base.length);
        // Only targets that are an origin or an issuer take a path after them.
        if (!/\/(token|exchange|api\/|orders)/.test(new URL(t.url).pathname)) return `lab:${t.id}${rest}`;
      }
    }
    return u;
  }

  /**
   * A URL whose query carries a secret (access_token, api_key, a name marked secret) is a
   * secret as a whole: the file would otherwise hold the token.
   */
  secretUrl(u: string): unknown {
    const q = u.indexOf('?');
    if (q < 0 || this.includeSecrets) return this.url(u);
    const query = new URLSearchParams(u.slice(q + 1).split('#')[0]);
    return [...query.keys()].some((k) => isSecretName(k, this.#names)) ? this.secret('url', this.url(u)) : this.url(u);
  }

  /** A body (form or JSON) with a secret-named field is a secret as a whole, like such a URL. */
  body(b: string | undefined): unknown {
    if (b === undefined || this.includeSecrets) return b;
    return secretValues({ body: b, names: this.#names }).length > 0 ? this.secret('body', b) : b;
  }

  /** A secret string: a reference to an environment variable (or a file), or the value if asked. */
  secret(name: string, value: string, source: 'env' | 'file' = 'env'): unknown {
    let key = name;
    for (let i = 2; this.secrets[key] && !('value' in this.secrets[key]! && (this.secrets[key] as { value: string }).value === value); i++) key = `${name}_${i}`;
    this.secrets[key] = this.#opts.includeSecrets ? { value } : source === 'file' ? { file: `${key.replace(/_/g, '-')}.pem` } : { env: envName(key) };
    return { $secret: key };
  }

  /** A secret whose source is fixed, whatever includeSecrets says (the value is not at hand, or is not portable). */
  named(name: string, source: SecretSource): unknown {
    this.secrets[name] = source;
    return { $secret: name };
  }

  /**
   * The client the lab registered for this browser's key (`lab-reg-…`) exists only in that
   * relay's memory. Saved, it becomes what makes it again: a key generated for the run and the
   * client the in-process lab registers for it.
   */
  #labClient: { clientId: string; alg: string } | null = null;

  useLabClient(clientId: string, alg: string): void {
    this.#labClient = { clientId, alg };
    const generate = alg.startsWith('ES') ? 'ES256' : alg === 'EdDSA' || alg === 'Ed25519' ? 'EdDSA' : 'RS256';
    this.secrets.signing_key = { generate };
    this.secrets.lab_client_id = { lab: 'registered-client:signing_key' };
  }

  /** A client id as saved: the lab registration's placeholder for a `lab-reg-…` client. */
  clientId(id: string): unknown {
    return this.#labClient && id === this.#labClient.clientId ? { $secret: 'lab_client_id' } : id;
  }

  /** The registered client's secret (the JWT exchange sends it with the JWT). */
  labClientSecret(): unknown {
    this.secrets.lab_client_secret = { lab: 'registered-secret:signing_key' };
    return { $secret: 'lab_client_secret' };
  }

  get registersLabClient(): boolean {
    return this.#labClient !== null;
  }

  /**
   * A signed JWT, saved as the template that signs it again at run time — never as the signed
   * value, which expires and names the audience of the relay it was made for.
   */
  jwt(token: string, template: 'seed' | 'jwt-bearer' | 'client-assertion', _name: string, count?: number): unknown {
    const d = decodeJwt(token);
    const spec: Obj = { template, key: 'signing_key' };
    this.secrets.signing_key ??= { file: 'signing-key.pem' };
    if (d.ok) {
      const { header, claims } = d.jwt;
      if (typeof header.alg === 'string') spec.alg = header.alg;
      // A lab registration's kid is its key's thumbprint, the template's default: leave it out.
      if (typeof header.kid === 'string' && !this.#labClient) spec.kid = header.kid;
      if (typeof claims.exp === 'number' && typeof claims.iat === 'number' && claims.exp > claims.iat) spec.lifetimeSec = claims.exp - claims.iat;
      const extra: Obj = {};
      for (const [k, v] of Object.entries(claims)) {
        if (['iat', 'exp', 'nbf', 'jti'].includes(k)) continue;
        if (k === 'sub' && template !== 'client-assertion' && typeof v === 'string') spec.subject = v;
        else if (k === 'iss' && template !== 'client-assertion' && typeof v === 'string') spec.clientId = this.clientId(v);
        else if (k === 'aud' && template !== 'seed' && typeof v === 'string') spec.audience = this.url(v);
        else if (!(template === 'client-assertion' && ['iss', 'sub', 'aud'].includes(k))) extra[k] = v;
      }
      if (Object.keys(extra).length) spec.claims = extra;
    }
    if (count !== undefined) spec.count = count;
    return { $jwt: spec };
  }

  headers(h: Record<string, string> | undefined): Record<string, unknown> | undefined {
    if (!h) return undefined;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(h)) out[k] = isSecretHeader(k) || this.#names.some((n) => n.toLowerCase() === k.toLowerCase()) ? this.secret(k.toLowerCase().replace(/-/g, '_'), v) : v;
    return out;
  }

  params(p: Record<string, string> | undefined): Record<string, unknown> | undefined {
    if (!p) return undefined;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(p)) out[k] = isSecretField(k) || isSecretName(k, this.#names) ? this.secret(k, v) : v;
    return out;
  }

  tls<T extends { client?: { certificatePem: string; privateKeyPem: string } }>(tls: T | undefined): unknown {
    if (!tls) return undefined;
    return { ...tls, ...(tls.client ? { client: { certificatePem: tls.client.certificatePem, privateKeyPem: this.secret('client_key', tls.client.privateKeyPem, 'file') } } : {}) };
  }
}

function compact(o: Obj): Obj {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** The `lab-reg-…` client a flow against the lab uses, and its JWT's alg, if any. */
function labRegistration(flow: FlowRequest, x: Exporter): { clientId: string; alg: string } | null {
  const endpoint = (flow as unknown as Obj).tokenUrl ?? (flow as unknown as Obj).issuer;
  if (typeof endpoint !== 'string' || !x.url(endpoint).startsWith('lab:')) return null;
  const algOf = (jwt: string | undefined) => {
    const d = jwt ? decodeJwt(jwt) : null;
    return d?.ok && typeof d.jwt.header.alg === 'string' ? d.jwt.header.alg : 'RS256';
  };
  if (flow.kind === 'jwt-exchange' && flow.clientId.startsWith('lab-reg-')) return { clientId: flow.clientId, alg: algOf(flow.jwt) };
  if (flow.kind === 'jwt-bearer') {
    const d = decodeJwt(flow.assertion);
    const iss = d.ok ? d.jwt.claims.iss : undefined;
    if (typeof iss === 'string' && iss.startsWith('lab-reg-')) return { clientId: iss, alg: algOf(flow.assertion) };
  }
  if ('clientAuth' in flow && flow.clientAuth?.method === 'private_key_jwt' && flow.clientAuth.clientId.startsWith('lab-reg-')) {
    return { clientId: flow.clientAuth.clientId, alg: algOf(flow.clientAuth.clientAssertions[0]) };
  }
  return null;
}

function exportFlow(flow: FlowRequest, x: Exporter): Obj {
  const out: Obj = { ...flow };
  const reg = labRegistration(flow, x);
  if (reg) x.useLabClient(reg.clientId, reg.alg);
  for (const k of ['issuer', 'tokenUrl', 'jwksUrl', 'authorizationUrl', 'url', 'introspectionUrl', 'revocationUrl'] as const) {
    const v = (flow as unknown as Obj)[k];
    if (typeof v === 'string') out[k] = x.secretUrl(v);
  }
  if ('tls' in flow) out.tls = x.tls(flow.tls);
  if ('extraParams' in flow) out.extraParams = x.params(flow.extraParams);
  if ('call' in flow && flow.call) out.call = compact({ ...flow.call, url: x.secretUrl(flow.call.url), headers: x.headers(flow.call.headers), body: x.body(flow.call.body) });
  if ('clientAuth' in flow && flow.clientAuth) {
    const a = flow.clientAuth;
    if (a.method === 'client_secret_basic' || a.method === 'client_secret_post' || a.method === 'client_secret_jwt') out.clientAuth = { ...a, clientSecret: x.secret('client_secret', a.clientSecret) };
    else if (a.method === 'private_key_jwt') {
      // One template signs `count` fresh assertions at run time.
      const clientAssertions = x.jwt(a.clientAssertions[0]!, 'client-assertion', 'client_assertions', a.clientAssertions.length);
      out.clientAuth = { ...a, clientId: x.clientId(a.clientId), clientAssertions };
    }
  }
  switch (flow.kind) {
    case 'jwt-exchange':
      out.jwt = x.jwt(flow.jwt, 'seed', 'jwt');
      out.clientId = x.clientId(flow.clientId);
      if (flow.clientSecret !== undefined) out.clientSecret = x.registersLabClient ? x.labClientSecret() : x.secret('client_secret', flow.clientSecret);
      break;
    case 'jwt-bearer':
      out.assertion = x.jwt(flow.assertion, 'jwt-bearer', 'assertion');
      break;
    case 'refresh-token': {
      // A lab's refresh token lives only in that lab: saved, it is one the lab running the file
      // issues. Elsewhere it is a secret the file names (the page never held the token of a run).
      delete out.refreshTokenFromRun;
      const endpoint = flow.tokenUrl ?? flow.issuer;
      if (typeof endpoint === 'string' && x.url(endpoint).startsWith('lab:')) out.refreshToken = x.named('refresh_token', { lab: `refresh-token:${flow.clientAuth.clientId}` });
      else if (flow.refreshToken !== undefined) out.refreshToken = x.secret('refresh_token', flow.refreshToken);
      else out.refreshToken = x.named('refresh_token', { env: envName('refresh_token') });
      break;
    }
    case 'introspect':
    case 'revoke':
      out.token = x.secret('token', flow.token);
      break;
    case 'api-key':
      out.apiKey = x.secret('api_key', flow.apiKey);
      out.headers = x.headers(flow.headers);
      out.body = x.body(flow.body);
      break;
    default:
      break;
  }
  return compact(out);
}

/** A flow or probe request as a scenario file. Secrets become references unless `includeSecrets`. */
export type ScenarioRequest = { kind: 'flow'; flow: FlowRequest } | { kind: 'probe'; probe: ProbeRequest } | { kind: 'inbound'; inbound: InboundScenarioRequest };

export function toScenario(request: ScenarioRequest, opts: ExportOptions): ScenarioFile {
  const x = new Exporter(opts, (request.kind === 'flow' ? request.flow.secretNames : request.kind === 'probe' ? request.probe.secretNames : undefined) ?? []);
  let body: Obj;
  if (request.kind === 'flow') body = exportFlow(request.flow, x);
  else if (request.kind === 'inbound') {
    const { listener, client } = request.inbound;
    const { port: _port, host: _host, ...settings } = listener as InboundRequest;
    body = compact({ listener: settings, ...(client ? { client: { certificatePem: client.certificatePem, privateKeyPem: x.secret('client_key', client.privateKeyPem, 'file') } } : {}) });
  } else {
    const p = request.probe;
    body = compact({ ...p, url: x.secretUrl(p.url), headers: x.headers(p.headers), body: x.body(p.body), ...(p.client ? { client: { certificatePem: p.client.certificatePem, privateKeyPem: x.secret('client_key', p.client.privateKeyPem, 'file') } } : {}) });
  }
  return {
    version: SCENARIO_VERSION,
    name: opts.name,
    ...(opts.description ? { description: opts.description } : {}),
    kind: request.kind,
    [request.kind]: body,
    ...(Object.keys(x.secrets).length ? { secrets: x.secrets } : {}),
    ...(opts.expect ? { expect: opts.expect } : {}),
  };
}
