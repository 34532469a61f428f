// What a scenario file may read on this machine, and where what it reads goes. A scenario is
// shared like a document (attached to a ticket, kept in CI), so by itself it reaches no further
// than the app could: its own values, the lab, keys made for the run, and files inside its own
// folder (real paths, so neither `..` nor a symlink leads out). An environment variable or any
// other file needs the person running it to say yes — a flag, or an answer on a terminal — and
// before anything is sent the run lists which secret goes to which host.
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { isObj, ScenarioError, type Obj, type Scenario, type SecretSource } from '../../shared/flows/scenario.ts';

/** What the person running the scenario allowed beyond its own folder. */
export interface SecretConsent {
  /** Environment variable names, or 'all'. */
  env?: ReadonlySet<string> | 'all';
  /** Real paths of files outside the scenario's folder. */
  files?: ReadonlySet<string>;
  /** Any file outside the folder. */
  outside?: boolean;
}

/** A secret the run needs the person's consent for, and how to give it. */
export class ConsentError extends ScenarioError {
  constructor(message: string) {
    super(message);
    this.name = 'ConsentError';
  }
}

export interface PlannedSecret {
  name: string;
  /** Where the value comes from, for people: "environment variable CI_SECRET", "file keys/a.pem". */
  source: string;
  /** Hosts the value (or a JWT it signs, or a TLS handshake it proves) goes to. */
  to: string[];
  /** Set when reading it needs consent: what to ask, and the flag that gives it. */
  needs?: { what: string; flag: string; env?: string; file?: string };
}

/** Where a file secret lives, checked against the scenario's folder. */
export async function locateFile(baseDir: string, file: string): Promise<{ path: string; inside: boolean; why?: string }> {
  const lexical = resolve(baseDir, file);
  if (isAbsolute(file)) return { path: await realpath(lexical).catch(() => lexical), inside: false, why: 'an absolute path' };
  const base = await realpath(baseDir);
  if (escapes(resolve(base, file), base)) return { path: await realpath(lexical).catch(() => lexical), inside: false, why: 'a path that leads out of the scenario\'s folder' };
  let real: string;
  try {
    real = await realpath(lexical);
  } catch (err) {
    throw new ScenarioError(`cannot read ${lexical} (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  if (escapes(real, base)) return { path: real, inside: false, why: `a link to ${real}, outside the scenario's folder` };
  return { path: real, inside: true };
}

function escapes(path: string, base: string): boolean {
  const rel = relative(base, path);
  return rel === '' ? false : rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}

/**
 * Text from the scenario file made safe to print: control characters (a carriage return or an
 * escape sequence could redraw the line that says where a secret goes) and bidi overrides are
 * shown as \u escapes.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function describeSource(src: SecretSource): string {
  if ('env' in src) return `environment variable ${src.env}`;
  if ('file' in src) return `file ${printable(src.file)}`;
  if ('value' in src) return 'inline value in the scenario';
  if ('generate' in src) return `${src.generate} key made for the run`;
  return `lab ${src.lab}`;
}

export function allowsEnv(consent: SecretConsent | undefined, name: string): boolean {
  return consent?.env === 'all' || (consent?.env instanceof Set && consent.env.has(name));
}

export function allowsFile(consent: SecretConsent | undefined, realPath: string): boolean {
  return consent?.outside === true || consent?.files?.has(realPath) === true;
}

/** Hosts of the scenario's URLs: "lab" for the built-in lab, else the URL's host. */
function hostOf(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  if (v.startsWith('lab:')) return 'the lab (loopback)';
  try {
    return new URL(v).host;
  } catch {
    return printable(v.slice(0, 100));
  }
}

/** Where a placeholder at `path` in the request ends up. */
function destinations(s: Scenario, path: string[]): string[] {
  const r = s.request as Obj;
  // A CA bundle only verifies the server here; registered keys are compared locally.
  if (path.at(-1) === 'caPem' || path[0] === 'registeredJwks') return ['nowhere (used locally)'];
  if (s.kind === 'probe') return [hostOf(r.url) ?? '(the probe URL)'];
  if (s.kind === 'server-check') {
    // The test CA's keys never leave: they sign the case certificates, which go to the server.
    if (path[0] === 'mtls' && path[1] === 'ca') return ['nowhere (signs the check\'s certificates here)'];
    const body = isObj(r.mtls) ? r.mtls : isObj(r.jwt) ? r.jwt : isObj(r.resource) ? r.resource : {};
    return [hostOf(isObj(r.jwt) ? body.tokenUrl : body.url) ?? '(the checked server)'];
  }
  // The client key of an inbound scenario proves the client to the run's own loopback listener.
  if (s.kind === 'inbound') return ['the run\'s own inbound listener (loopback)'];
  const call = isObj(r.call) ? r.call : {};
  const viaDiscovery = (endpoint: string) => (hostOf(r.issuer) ? `${endpoint} named by ${hostOf(r.issuer)}'s discovery` : `(no ${endpoint})`);
  const token = () => hostOf(r.tokenUrl) ?? viaDiscovery('the token endpoint');
  const authorize = () => hostOf(r.authorizationUrl) ?? viaDiscovery('the authorization endpoint');
  if (r.kind === 'api-key') return [hostOf(r.url) ?? '(the API URL)'];
  if (r.kind === 'discovery') return [hostOf(r.issuer) ?? '(the issuer)'];
  switch (path[0]) {
    case 'call':
      return [hostOf(call.url) ?? '(the API URL)'];
    case 'extraAuthParams':
      return [authorize()];
    case 'tls': {
      // The client certificate is presented on every connection the flow makes.
      const all = [hostOf(r.issuer), hostOf(r.tokenUrl), r.kind === 'authorization-code' ? authorize() : undefined, hostOf(r.jwksUrl), hostOf(call.url)];
      return [...new Set(all.filter((h): h is string => !!h))];
    }
    default:
      return [token()];
  }
}

/** Every secret the request uses, where it comes from and where it goes. Files are located (not read). */
export async function planSecrets(s: Scenario, baseDir: string): Promise<PlannedSecret[]> {
  const uses = new Map<string, Set<string>>();
  const walk = (v: unknown, path: string[]): void => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, String(i)]));
    else if (isObj(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === '$secret' && typeof v.$secret === 'string') add(v.$secret, path);
      else if (keys.length === 1 && keys[0] === '$jwt' && isObj(v.$jwt)) {
        if (typeof v.$jwt.key === 'string') add(v.$jwt.key, path);
        walk(v.$jwt, path);
      } else for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
    }
  };
  const add = (name: string, path: string[]) => {
    const set = uses.get(name) ?? new Set<string>();
    for (const d of destinations(s, path)) set.add(d);
    uses.set(name, set);
  };
  walk(s.request, []);
  const out: PlannedSecret[] = [];
  for (const [name, to] of uses) {
    const src = s.secrets[name];
    if (!src) continue; // resolving names it
    const planned: PlannedSecret = { name, source: describeSource(src), to: [...to] };
    if ('env' in src) planned.needs = { what: `the environment variable ${src.env}`, flag: `--allow-env ${src.env}`, env: src.env };
    else if ('file' in src) {
      let where: Awaited<ReturnType<typeof locateFile>>;
      try {
        where = await locateFile(baseDir, src.file);
      } catch (err) {
        // Which secret, from which line of the file: a missing kit or key file is found here first.
        throw new ScenarioError(`secret "${name}" (${describeSource(src)}): ${(err as Error).message}`);
      }
      if (!where.inside) planned.needs = { what: `${printable(where.path)} (${printable(where.why!)})`, flag: `--allow-file ${printable(where.path)}`, file: where.path };
    }
    out.push(planned);
  }
  return out;
}

/** Secrets still needing consent after the flags. */
export function missingConsent(plan: PlannedSecret[], consent: SecretConsent | undefined): PlannedSecret[] {
  return plan.filter((p) => p.needs && !(p.needs.env !== undefined ? allowsEnv(consent, p.needs.env) : allowsFile(consent, p.needs.file!)));
}

/** The refusal: every secret the scenario wanted, where from, and the flag that allows it. */
export function consentRefusal(missing: PlannedSecret[]): ConsentError {
  const lines = missing.map((p) => `secret "${p.name}" comes from ${p.needs!.what} and would go to ${p.to.join(', ')}: allow it with ${p.needs!.flag}`);
  return new ConsentError(`this scenario reads what a scenario file may not read without your consent; nothing was sent.\n  ${lines.join('\n  ')}\n  (${missing.some((p) => p.needs!.env) ? '--allow-all-env allows every environment variable' : ''}${missing.some((p) => p.needs!.env) && missing.some((p) => p.needs!.file) ? '; ' : ''}${missing.some((p) => p.needs!.file) ? '--allow-outside allows every file outside the folder' : ''}; on a terminal you are asked instead)`);
}
