// Running a scenario file (format and parsing: shared/flows/scenario.ts): its secrets come from
// an environment variable, a file, the built-in lab, or a fresh key made for the run — files
// inside the scenario's folder, anything else only with consent (consent.ts); its JWT
// templates are signed now, so an example never holds an expired token; "lab:<target>" URLs
// point at the lab started for the run. The filled-in request goes through the same edge
// validation as a WebSocket frame. See docs/scenarios.md.
import { readFile, stat } from 'node:fs/promises';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { exportJWK, exportPKCS8, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { parseClientMessage, ProtocolError, type ClientCredentials, type InboundRequest, type ProbeRequest } from '../../shared/protocol/index.ts';
import { isObj, parseScenario, ScenarioError, type Obj, type Scenario } from '../../shared/flows/scenario.ts';
import { parseFlowRequest, type FlowRequest, type LabRegistration } from '../../shared/flows/flow-request.ts';
import { JWT_TEMPLATES, newJti, templateClaims, type JwtTemplate } from '../../shared/jwt/claims.ts';
import { importSigningKey, publicJwkOf, signJwt } from '../../shared/jwt/sign.ts';
import { sameKey, type Jwks, type PublicJwk } from '../../shared/jwt/keys.ts';
import { lintJwt } from '../../shared/jwt/lint.ts';
import { generateKeyPair as pkiKeyPair, createCsr, exportPkcs8Pem } from '../../shared/pki/issue.ts';
import type { RunningLab } from '../lab/lab.ts';
import type { Grade } from '../../shared/check/cases.ts';
import type { MtlsCheckRequest } from '../../shared/check/request.ts';
import type { JwtCheckRequest, ResourceCheckRequest } from '../../shared/check/jwt-request.ts';
import { allowsEnv, allowsFile, ConsentError, locateFile, printable, type SecretConsent } from './consent.ts';

/** Largest file a `{"file"}` secret may name: keys and certificate bundles are far smaller. */
export const SECRET_FILE_MAX_BYTES = 1024 * 1024; // bytes

export { checkExpect, needsLab, parseScenario, ScenarioError, SCENARIO_VERSION, type Scenario, type ScenarioExpect, type SecretSource } from '../../shared/flows/scenario.ts';

export interface ResolveOptions {
  /** Directory `file` secrets are relative to (the scenario file's). */
  baseDir: string;
  lab: RunningLab | null;
  env?: Record<string, string | undefined>;
  /** What the person running it allowed beyond the scenario's folder (consent.ts); default nothing. */
  consent?: SecretConsent;
  now?: number;
}

/** A server check with its placeholders filled in; each engine checks its fields before anything is sent. */
export type ResolvedServerCheck =
  | { mode: 'mtls'; request: MtlsCheckRequest }
  | { mode: 'jwt'; request: JwtCheckRequest }
  | { mode: 'resource'; request: ResourceCheckRequest };

export type ResolvedScenario =
  | { kind: 'probe'; probe: ProbeRequest; secrets: string[]; notes: string[] }
  | {
    kind: 'flow'; flow: FlowRequest; secrets: string[]; notes: string[];
    /** The file a refresh-token flow's `refreshToken` was read from (real path), to save a rotated one to. */
    refreshTokenFile?: string;
  }
  | { kind: 'inbound'; inbound: InboundRequest; client: ClientCredentials | null; secrets: string[]; notes: string[] }
  | { kind: 'server-check'; check: ResolvedServerCheck; require: Grade; secrets: string[]; notes: string[] };

/** A JWKS value as keys the code can compare; undefined when it is not one. */
function asJwks(j: unknown): Jwks | undefined {
  return isObj(j) && Array.isArray(j.keys) ? { keys: j.keys.filter((k): k is PublicJwk => isObj(k) && typeof k.kty === 'string') } : undefined;
}

/** Only certificates: public, so not scrubbed from output (a CA bundle, a client certificate). */
function onlyCertificates(v: string): boolean {
  const labels = [...v.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => m[1]);
  return labels.length > 0 && labels.every((l) => l === 'CERTIFICATE' || l === 'TRUSTED CERTIFICATE' || l === 'X509 CRL');
}

/** Everything secret the scenario resolved to, for scrubbing from output. */
function secretList(values: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const v of values) {
    if (v.includes('-----BEGIN')) {
      for (const line of v.split(/\r?\n/)) if (!line.startsWith('-----') && line.length >= 16) out.add(line);
    } else if (v.length >= 6) out.add(v);
  }
  return [...out];
}

function labUrl(ref: string, lab: RunningLab | null, path: string): string {
  if (!lab) throw new ScenarioError(`${path}: "${ref}" needs the built-in lab`);
  const m = /^lab:([a-z0-9-]+)(\/.*)?$/.exec(ref);
  const target = m && lab.info.targets.find((t) => t.id === m[1]);
  if (!target) throw new ScenarioError(`${path}: "${ref}" names no lab target (known: ${lab.info.targets.map((t) => `lab:${t.id}`).join(', ')})`);
  return `${target.url.replace(/\/$/, '')}${m[2] ?? ''}`;
}

function algOf(pem: string): 'RS256' | 'ES256' | 'ES384' | 'EdDSA' {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec') return key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'ES384' : 'ES256';
  throw new ScenarioError(`keys of type ${key.asymmetricKeyType} cannot sign JWTs here`);
}

export async function resolveScenario(s: Scenario, opts: ResolveOptions): Promise<ResolvedScenario> {
  const env = opts.env ?? process.env;
  const cache = new Map<string, string>();
  /** The real path each file secret was read from. */
  const files = new Map<string, string>();
  const kids = new Map<string, string>();
  let labClientPair: { certificatePem: string; privateKeyPem: string } | undefined;

  /** Values resolved through `$secret` that are not secrets (a registered client id): not scrubbed. */
  const notSecret = new Set<string>();
  const registrations = new Map<string, Promise<{ clientId: string; clientSecret: string }>>();
  const registration = (keyName: string, path: string) => {
    let r = registrations.get(keyName);
    if (!r) {
      r = (async () => {
        const tokens = opts.lab?.tokens;
        if (!tokens) throw new ScenarioError(`${path}: the lab registers the client, but the lab is not running`);
        const pem = await secret(keyName, path);
        let publicJwk: JWK;
        try {
          const { kty, n, e, crv, x, y } = await exportJWK(createPublicKey(pem));
          publicJwk = Object.fromEntries(Object.entries({ kty, n, e, crv, x, y }).filter(([, v]) => v !== undefined)) as JWK;
        } catch {
          throw new ScenarioError(`${path}: secret "${keyName}" is not a private key the lab can register`);
        }
        const reg = await tokens.register({ publicJwk: publicJwk as LabRegistration['publicJwk'], method: 'private_key_jwt' });
        return { clientId: reg.clientId, clientSecret: reg.clientSecret };
      })();
      registrations.set(keyName, r);
    }
    return r;
  };

  const secret = async (name: string, path: string): Promise<string> => {
    const cached = cache.get(name);
    if (cached !== undefined) return cached;
    const src = s.secrets[name];
    if (!src) throw new ScenarioError(`${path}: secret "${name}" is not declared in secrets`);
    let value: string;
    if ('env' in src) {
      if (!allowsEnv(opts.consent, src.env)) throw new ConsentError(`secret "${name}" comes from the environment variable ${src.env}, which a scenario file may read only with your consent (--allow-env ${src.env})`);
      const v = env[src.env];
      if (v === undefined || v === '') throw new ScenarioError(`secret "${name}" comes from the environment variable ${src.env}, which is not set`);
      value = v;
    } else if ('file' in src) {
      let where: Awaited<ReturnType<typeof locateFile>>;
      try {
        where = await locateFile(opts.baseDir, src.file);
      } catch (err) {
        throw new ScenarioError(`secret "${name}": ${printable((err as Error).message)}`);
      }
      const shown = printable(where.path);
      if (!where.inside && !allowsFile(opts.consent, where.path)) {
        throw new ConsentError(`secret "${name}" comes from ${shown} (${printable(where.why!)}), which a scenario file may read only with your consent (--allow-file ${shown} or --allow-outside)`);
      }
      try {
        // The real path that was checked, not the name: a link swapped since reads nothing new.
        const info = await stat(where.path);
        if (!info.isFile()) throw new ScenarioError(`secret "${name}": ${shown} is not a regular file`);
        if (info.size > SECRET_FILE_MAX_BYTES) throw new ScenarioError(`secret "${name}": ${shown} is ${info.size} bytes, more than the ${SECRET_FILE_MAX_BYTES} a secret file may hold`);
        value = (await readFile(where.path, 'utf8')).replace(/\r?\n$/, '');
        files.set(name, where.path);
      } catch (err) {
        if (err instanceof ScenarioError) throw err;
        throw new ScenarioError(`secret "${name}": cannot read ${shown} (${(err as NodeJS.ErrnoException).code ?? err})`);
      }
    } else if ('value' in src) {
      value = src.value;
    } else if ('generate' in src) {
      const pair = await generateKeyPair(src.generate, { extractable: true, ...(src.generate === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
      value = await exportPKCS8(pair.privateKey);
    } else {
      const lab = opts.lab;
      const tokens = lab?.tokens;
      if (!lab || !tokens) throw new ScenarioError(`secret "${name}" comes from the lab, which is not running`);
      const ref = src.lab;
      if (ref === 'signing-key') {
        value = tokens.demo.signingKeyPem;
        kids.set(name, tokens.demo.signingKid);
      } else if (ref === 'self-signed-certificate') value = tokens.demo.selfSigned.certificatePem;
      else if (ref === 'self-signed-key') value = tokens.demo.selfSigned.privateKeyPem;
      else if (ref === 'client-certificate' || ref === 'client-key') {
        if (!labClientPair) {
          const keys = await pkiKeyPair('P-256', true);
          const signed = await lab.signCsr(await createCsr(keys, 'CN=lab-client, O=mTLS Harness Lab'));
          labClientPair = { certificatePem: signed.certificatePem, privateKeyPem: await exportPkcs8Pem(keys.privateKey) };
        }
        value = ref === 'client-certificate' ? labClientPair.certificatePem : labClientPair.privateKeyPem;
      } else if (ref.startsWith('registered-')) {
        // The client the lab registers for a key of this run: same key, same client (and kid).
        const keyName = ref.slice(ref.indexOf(':') + 1);
        const registered = await registration(keyName, path);
        value = ref.startsWith('registered-client:') ? registered.clientId : registered.clientSecret;
        if (ref.startsWith('registered-client:')) notSecret.add(name);
      } else {
        value = tokens.issueRefreshToken(ref.slice('refresh-token:'.length));
      }
    }
    cache.set(name, value);
    return value;
  };

  // The flow around a $jwt supplies its defaults (client id, token endpoint, registered keys).
  let flowContext: Obj = {};
  /** Lint remarks about the JWTs signed here (a default kid no one may have registered). */
  const notes = new Set<string>();

  /** A JWKS from a secret source (a file, an environment variable): JSON, and public. */
  const jwksSecret = async (name: string, path: string): Promise<Obj> => {
    const text = await secret(name, path);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ScenarioError(`${path}: secret "${name}" is not JSON (a JWKS is {"keys":[…]})`);
    }
    if (!asJwks(parsed)) throw new ScenarioError(`${path}: secret "${name}" is not a JWKS ({"keys":[…]})`);
    // Public keys: not scrubbed from the output.
    notSecret.add(name);
    return parsed as Obj;
  };

  /** The flow's registeredJwks, inline or from a secret source. */
  const registeredJwks = async (): Promise<Jwks | undefined> => {
    const j = flowContext.registeredJwks;
    if (isObj(j) && Object.keys(j).length === 1 && typeof j.$secret === 'string') return asJwks(await jwksSecret(j.$secret, `${s.kind}.registeredJwks`));
    return asJwks(j);
  };

  const jwt = async (spec: unknown, path: string): Promise<string | string[]> => {
    if (!isObj(spec)) throw new ScenarioError(`${path} must be an object`);
    const template = spec.template;
    if (typeof template !== 'string' || !(JWT_TEMPLATES as readonly string[]).includes(template)) throw new ScenarioError(`${path}.template must be one of ${JWT_TEMPLATES.join(', ')}`);
    if (typeof spec.key !== 'string') throw new ScenarioError(`${path}.key must name a secret holding the private key (PEM)`);
    const keyPem = await secret(spec.key, `${path}.key`);
    let alg: string;
    try {
      alg = typeof spec.alg === 'string' ? spec.alg : algOf(keyPem);
    } catch (err) {
      if (err instanceof ScenarioError) throw err;
      throw new ScenarioError(`${path}: secret "${spec.key}" is not a private key PEM`);
    }
    let key: CryptoKey;
    try {
      key = await importSigningKey(keyPem, alg);
    } catch (err) {
      throw new ScenarioError(`${path}: the key cannot sign ${alg}: ${(err as Error).message}`);
    }
    // The kid: as written; the lab's for its demo key; the registered key's when registeredJwks
    // holds this key; else the key's RFC 7638 thumbprint, which the lint then warns about.
    const own = await publicJwkOf(key);
    const registered = await registeredJwks();
    const registeredKid = registered?.keys.find((k) => typeof k.kid === 'string' && sameKey(k, own))?.kid;
    const kid = spec.kid === null ? undefined : typeof spec.kid === 'string' ? spec.kid : kids.get(spec.key) ?? registeredKid ?? own.kid;
    const auth = isObj(flowContext.clientAuth) ? { ...flowContext.clientAuth } : {};
    // The client id may itself be a placeholder (a client the lab registers for this run).
    if (isObj(auth.clientId) && typeof auth.clientId.$secret === 'string') auth.clientId = await secret(auth.clientId.$secret, `${path}.clientId`);
    // A kid nobody chose: worth a lint remark unless the lab registered this key in this run.
    const thumbprintKid = spec.kid === undefined && kid === own.kid && !kids.has(spec.key) && !registrations.has(spec.key);
    const str = (k: string) => (spec[k] === undefined ? undefined : typeof spec[k] === 'string' ? (spec[k] as string) : (() => { throw new ScenarioError(`${path}.${k} must be a string`); })());
    const num = (k: string) => (spec[k] === undefined ? undefined : typeof spec[k] === 'number' ? (spec[k] as number) : (() => { throw new ScenarioError(`${path}.${k} must be a number`); })());
    if (spec.claims !== undefined && !isObj(spec.claims)) throw new ScenarioError(`${path}.claims must be an object`);
    const clientId = str('clientId') ?? (typeof auth.clientId === 'string' ? auth.clientId : typeof flowContext.clientId === 'string' ? flowContext.clientId : undefined);
    const audience = str('audience') ?? (typeof flowContext.tokenUrl === 'string' ? flowContext.tokenUrl : typeof flowContext.issuer === 'string' ? flowContext.issuer : undefined);
    const count = num('count') ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > 8) throw new ScenarioError(`${path}.count must be 1 to 8`);
    const make = async () => {
      try {
        const claims = templateClaims(template as JwtTemplate, {
          now: (opts.now ?? Date.now()) + (num('offsetSec') ?? 0) * 1000,
          ...(clientId ? { clientId } : {}),
          ...(str('subject') ? { subject: str('subject')! } : {}),
          ...(str('issuer') ? { issuer: str('issuer')! } : {}),
          ...(audience ? { audience } : {}),
          ...(num('lifetimeSec') !== undefined ? { lifetimeSec: num('lifetimeSec')! } : {}),
          jti: newJti(),
          ...(spec.claims ? { claims: spec.claims as Obj } : {}),
        });
        if (thumbprintKid && kid) {
          for (const f of lintJwt({ alg, kid }, claims, { now: Date.now(), signingKeyThumbprint: own.kid!, ...(registered ? { jwks: registered } : {}) })) {
            if (f.code === 'kid_is_thumbprint') notes.add(`${path}: ${f.code}: ${f.message}`);
          }
        }
        return await signJwt(claims, { alg, ...(kid ? { kid } : {}), ...(typeof spec.typ === 'string' ? { typ: spec.typ } : {}) }, key);
      } catch (err) {
        throw new ScenarioError(`${path}: ${(err as Error).message}`);
      }
    };
    if (spec.count === undefined) return make();
    return Promise.all(Array.from({ length: count }, make));
  };

  const fill = async (v: unknown, path: string): Promise<unknown> => {
    if (typeof v === 'string') return v;
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      for (const [i, x] of v.entries()) {
        const r = await fill(x, `${path}[${i}]`);
        if (Array.isArray(r) && isObj(x) && '$jwt' in x) out.push(...r);
        else out.push(r);
      }
      return out;
    }
    if (!isObj(v)) return v;
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === '$secret') {
      if (typeof v.$secret !== 'string') throw new ScenarioError(`${path}.$secret must name a secret`);
      // registeredJwks is an object: its source holds the JWKS as JSON.
      if (path === `${s.kind}.registeredJwks`) return jwksSecret(v.$secret, path);
      const value = await secret(v.$secret, path);
      // Certificates are public: a CA bundle's lines are not scrubbed from the output.
      if (onlyCertificates(value)) notSecret.add(v.$secret);
      return value;
    }
    if (keys.length === 1 && keys[0] === '$jwt') return jwt(await fill(v.$jwt, `${path}.$jwt`), `${path}.$jwt`);
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) out[k] = await fill(x, `${path}.${k}`);
    return out;
  };

  // URLs first, so a JWT template's default audience is the real token endpoint.
  const urlsFilled = (await fillUrls(s.request, opts.lab, s.kind)) as Obj;
  if (s.kind === 'flow') flowContext = urlsFilled;
  const filled = await fill(urlsFilled, s.kind);
  const secrets = secretList([...cache].filter(([name]) => !notSecret.has(name)).map(([, value]) => value));
  if (s.kind === 'server-check') return { kind: 'server-check', ...serverCheckOf(s.request as Obj, filled as Obj, kids), secrets, notes: [...notes] };
  try {
    if (s.kind === 'flow') {
      const ref = urlsFilled.refreshToken;
      const refreshTokenFile = urlsFilled.kind === 'refresh-token' && isObj(ref) && typeof ref.$secret === 'string' ? files.get(ref.$secret) : undefined;
      return { kind: 'flow', flow: parseFlowRequest(filled, 'scenario'), secrets, notes: [...notes], ...(refreshTokenFile ? { refreshTokenFile } : {}) };
    }
    if (s.kind === 'inbound') return { kind: 'inbound', ...parseInboundScenario(filled as Obj), secrets, notes: [...notes] };
    const msg = parseClientMessage(JSON.stringify({ type: 'probe.start', id: 'scenario', probe: filled }));
    if (msg.type !== 'probe.start') throw new ScenarioError('probe is not a probe request');
    return { kind: 'probe', probe: msg.probe, secrets, notes: [...notes] };
  } catch (err) {
    if (err instanceof ProtocolError) throw new ScenarioError(`${s.kind} request: ${err.message}`);
    throw err;
  }
}

/**
 * The check and the grade required, from a filled-in `server-check` request (its shape was
 * checked when the file was read). The lab's signing key brings its kid, as in a `$jwt`.
 */
function serverCheckOf(raw: Obj, filled: Obj, kids: ReadonlyMap<string, string>): { check: ResolvedServerCheck; require: Grade } {
  const require = (filled.require ?? 'A') as Grade;
  if (filled.jwt !== undefined) {
    const request = filled.jwt as Obj;
    const key = isObj(raw.jwt) && isObj(raw.jwt.privateKeyPem) ? raw.jwt.privateKeyPem.$secret : undefined;
    const kid = typeof key === 'string' ? kids.get(key) : undefined;
    return { check: { mode: 'jwt', request: { ...(kid !== undefined ? { kid } : {}), ...request } as unknown as JwtCheckRequest }, require };
  }
  if (filled.resource !== undefined) return { check: { mode: 'resource', request: filled.resource as unknown as ResourceCheckRequest }, require };
  return { check: { mode: 'mtls', request: filled.mtls as unknown as MtlsCheckRequest }, require };
}

/** The listener and the client of an inbound scenario, checked as the relay checks inbound.start and a probe's client. */
function parseInboundScenario(filled: Obj): { inbound: InboundRequest; client: ClientCredentials | null } {
  const listener = isObj(filled.listener) ? filled.listener : {};
  for (const k of ['port', 'host']) if (k in listener) throw new ScenarioError(`inbound.listener.${k} is not saved in a scenario: a run listens on a free loopback port`);
  const msg = parseClientMessage(JSON.stringify({ type: 'inbound.start', id: 'scenario', inbound: listener }));
  if (msg.type !== 'inbound.start') throw new ScenarioError('inbound.listener is not a listener');
  if (filled.client === undefined) return { inbound: msg.inbound, client: null };
  try {
    const probe = parseClientMessage(JSON.stringify({ type: 'probe.start', id: 'scenario', probe: { url: 'https://localhost/', client: filled.client } }));
    return { inbound: msg.inbound, client: probe.type === 'probe.start' ? (probe.probe.client ?? null) : null };
  } catch (err) {
    if (err instanceof ProtocolError) throw new ProtocolError(err.code, err.message.replace(/^probe\.client/, 'inbound.client'));
    throw err;
  }
}

async function fillUrls(v: unknown, lab: RunningLab | null, path: string): Promise<unknown> {
  if (typeof v === 'string') return v.startsWith('lab:') ? labUrl(v, lab, path) : v;
  if (Array.isArray(v)) return Promise.all(v.map((x, i) => fillUrls(x, lab, `${path}[${i}]`)));
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) out[k] = await fillUrls(x, lab, `${path}.${k}`);
  return out;
}

export async function loadScenario(file: string): Promise<{ scenario: Scenario; baseDir: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ScenarioError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return { scenario: parseScenario(text), baseDir: dirname(resolve(file)) };
}

