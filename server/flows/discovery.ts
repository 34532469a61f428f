// Discovery: the authorization server's metadata from /.well-known/openid-configuration
// (OpenID Connect Discovery) or /.well-known/oauth-authorization-server (RFC 8414), checked
// for what clients rely on; and its JWKS. Other flows run the same step when given an issuer.
import type { DiscoveryFlow } from '../../shared/flows/flow-request.ts';
import type { Jwks } from '../../shared/jwt/keys.ts';
import type { DiscoveryDetails } from '../../shared/protocol/index.ts';
import type { OpenStep } from '../run/recorder.ts';
import { FlowRun, type HttpStepResult } from './flow-steps.ts';

export interface ServerMetadata {
  issuer: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
  jwks_uri?: string;
  /** RFC 7662 / RFC 8414. */
  introspection_endpoint?: string;
  /** RFC 7009 / RFC 8414. */
  revocation_endpoint?: string;
  token_endpoint_auth_methods_supported?: string[];
  token_endpoint_auth_signing_alg_values_supported?: string[];
  grant_types_supported?: string[];
  scopes_supported?: string[];
  response_types_supported?: string[];
  code_challenge_methods_supported?: string[];
  tls_client_certificate_bound_access_tokens?: boolean;
  mtls_endpoint_aliases?: { token_endpoint?: string };
  [member: string]: unknown;
}

/** Where each well-known document lives for an issuer (RFC 8414 §3 inserts the path after it). */
function wellKnownUrls(issuer: string): { openid: URL; oauth: URL } {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, '');
  return {
    openid: new URL(`${url.origin}${path}/.well-known/openid-configuration`),
    oauth: new URL(`${url.origin}/.well-known/oauth-authorization-server${path}`),
  };
}

const STRING_LISTS = ['token_endpoint_auth_methods_supported', 'token_endpoint_auth_signing_alg_values_supported', 'grant_types_supported', 'scopes_supported', 'response_types_supported', 'code_challenge_methods_supported'] as const;

type EndpointMember = Endpoint | 'mtls_endpoint_aliases.token_endpoint';
interface BadEndpoint { member: EndpointMember; evidence: string }

/** An endpoint a client can call: an absolute http(s) URL (anything else ends in "Invalid URL" later). */
function endpointProblem(v: string): string | null {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return 'not an absolute URL';
  }
  return url.protocol === 'https:' || url.protocol === 'http:' ? null : `a ${url.protocol} URL, not http(s)`;
}

function badEndpoint(member: EndpointMember, v: string): BadEndpoint | null {
  const problem = endpointProblem(v);
  // The value as the server wrote it, cut: a document is public, but not bounded in size.
  return problem ? { member, evidence: `${member} is ${JSON.stringify(v.length > 120 ? `${v.slice(0, 120)}…` : v)}: ${problem}` } : null;
}

/** The endpoint members read from the metadata (each must parse as a URL to be kept). */
const ENDPOINTS = ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'introspection_endpoint', 'revocation_endpoint'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

/** Keeps only well-formed members, so later checks can trust the types and every endpoint parses. */
function readMetadata(json: unknown): { metadata: ServerMetadata | null; problems: string[]; badEndpoints: BadEndpoint[] } {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return { metadata: null, problems: ['the document is not a JSON object'], badEndpoints: [] };
  const o = json as Record<string, unknown>;
  const problems: string[] = [];
  const badEndpoints: BadEndpoint[] = [];
  if (typeof o.issuer !== 'string') return { metadata: null, problems: ['the document has no issuer'], badEndpoints };
  const m: ServerMetadata = { issuer: o.issuer };
  for (const k of ENDPOINTS) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== 'string') problems.push(`${k} is not a string`);
    else {
      const bad = badEndpoint(k, o[k] as string);
      if (bad) badEndpoints.push(bad);
      else m[k] = o[k] as string;
    }
  }
  for (const k of STRING_LISTS) {
    if (o[k] === undefined) continue;
    if (Array.isArray(o[k]) && (o[k] as unknown[]).every((x) => typeof x === 'string')) m[k] = o[k] as string[];
    else problems.push(`${k} is not a list of strings`);
  }
  if (typeof o.tls_client_certificate_bound_access_tokens === 'boolean') m.tls_client_certificate_bound_access_tokens = o.tls_client_certificate_bound_access_tokens;
  const aliases = o.mtls_endpoint_aliases;
  if (aliases && typeof aliases === 'object' && typeof (aliases as Record<string, unknown>).token_endpoint === 'string') {
    const alias = (aliases as Record<string, string>).token_endpoint!;
    const bad = badEndpoint('mtls_endpoint_aliases.token_endpoint', alias);
    if (bad) badEndpoints.push(bad);
    else m.mtls_endpoint_aliases = { token_endpoint: alias };
  }
  return { metadata: m, problems, badEndpoints };
}

/** A compact view of the metadata for the step details. */
function describe(m: ServerMetadata): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['issuer', ...ENDPOINTS, ...STRING_LISTS, 'tls_client_certificate_bound_access_tokens', 'mtls_endpoint_aliases'] as const) {
    if (m[k] !== undefined) out[k] = m[k];
  }
  return out;
}

/**
 * The `discovery` step. Tries the OpenID document, then RFC 8414's; stops the flow when
 * neither answers or the issuer in it differs. `needs` names endpoints this flow requires; an
 * endpoint that is not a URL stops the flow when needed (or `strict`: the discovery flow judges
 * the whole document) and is otherwise left out of the metadata with a warning.
 */
export async function discover(run: FlowRun, issuer: string, needs: Endpoint[] = [], strict = false): Promise<ServerMetadata> {
  const step = run.start('discovery', 'discovery', 'Discovery', issuer);
  const urls = wellKnownUrls(issuer);
  const attempts: { url: string; status: number }[] = [];
  let found: HttpStepResult | undefined;
  for (const url of [urls.openid, urls.oauth]) {
    const r = await run.http(step, { method: 'GET', url, headers: { accept: 'application/json' } });
    attempts.push({ url: url.toString(), status: r.res.status });
    if (r.res.status === 200 && r.json !== undefined) {
      found = r;
      break;
    }
    found ??= r;
  }
  const details = { ...found!.details, attempts };
  if (!found || found.res.status !== 200) {
    run.stop(step, 'discovery_not_found', attempts.map((a) => `GET ${a.url} → HTTP ${a.status}`), { details });
  }
  const { metadata, problems, badEndpoints } = readMetadata(found.json);
  if (!metadata) run.stop(step, 'discovery_invalid', problems, { details });
  Object.assign(details, { metadata: describe(metadata) });
  // OpenID Discovery §4.3 and RFC 8414 §3.3: the issuer must be exactly the URL used.
  if (metadata.issuer !== issuer) {
    run.stop(step, 'discovery_issuer_mismatch', [`asked for issuer ${issuer}`, `the document says issuer ${metadata.issuer}`], { details });
  }
  const badNeeded = badEndpoints.filter((b) => strict || (needs as string[]).includes(b.member));
  if (badNeeded.length) run.stop(step, 'discovery_endpoint_invalid', badEndpoints.map((b) => b.evidence), { details });
  const missing = needs.filter((k) => !metadata[k]);
  if (missing.length) run.stop(step, 'discovery_invalid', [...missing.map((k) => `${k} is missing`), ...problems], { details });
  if (badEndpoints.length) {
    const evidence = [...badEndpoints.map((b) => b.evidence), ...problems];
    run.warn(step, 'discovery_endpoint_invalid', evidence, { details, summary: `usable, but ${evidence.join('; ')} (left out)` });
  } else if (problems.length) {
    run.warn(step, 'discovery_invalid', problems, { details, summary: `usable, but ${problems.join('; ')}` });
  } else {
    step.finish('ok', { summary: `${metadata.issuer} · token endpoint ${metadata.token_endpoint ?? '(none)'}`, details });
  }
  return metadata;
}

/** Fetches a JWKS on `step`; returns null (with the reason) when it is not a key set. */
export async function fetchJwks(run: FlowRun, step: OpenStep<'discovery' | 'token'>, url: string): Promise<{ jwks: Jwks | null; details: DiscoveryDetails; problem?: string }> {
  const r = await run.http(step, { method: 'GET', url: new URL(url), headers: { accept: 'application/jwk-set+json, application/json' } });
  const keys = (r.json as { keys?: unknown } | undefined)?.keys;
  if (r.res.status !== 200 || !Array.isArray(keys)) {
    return { jwks: null, details: r.details, problem: `GET ${url} → HTTP ${r.res.status}${r.res.status === 200 ? ', not a {"keys":[…]} document' : ''}` };
  }
  const jwks = { keys: keys.filter((k): k is Jwks['keys'][number] => !!k && typeof k === 'object' && typeof (k as { kty?: unknown }).kty === 'string') };
  return { jwks, details: { ...r.details, keys: jwks.keys.map((k) => ({ kid: k.kid ?? null, kty: k.kty, alg: k.alg ?? null, use: k.use ?? null })) } };
}

/** The discovery flow: metadata, then the JWKS it points to. */
export async function runDiscovery(flow: DiscoveryFlow, run: FlowRun): Promise<string> {
  run.plan([['discovery', 'discovery', 'Discovery'], ['jwks', 'discovery', 'JWKS']]);
  await run.inputs({ urls: [['issuer', flow.issuer]], ...(flow.tls ? { tls: flow.tls } : {}) });
  const metadata = await discover(run, flow.issuer, [], true);
  const step = run.start('jwks', 'discovery', 'JWKS', metadata.jwks_uri ?? 'no jwks_uri');
  if (!metadata.jwks_uri) run.stop(step, 'discovery_invalid', ['the document has no jwks_uri: no one can verify this server\'s tokens']);
  const { jwks, details, problem } = await fetchJwks(run, step, metadata.jwks_uri);
  if (!jwks) run.stop(step, 'jwks_unavailable', [problem ?? 'no keys'], { details });
  if (jwks.keys.length === 0) run.stop(step, 'jwks_unavailable', ['the key set is empty'], { details });
  step.finish('ok', { summary: `${jwks.keys.length} key${jwks.keys.length === 1 ? '' : 's'}: ${jwks.keys.map((k) => `${k.kid ?? '(no kid)'} ${k.kty}`).join(', ')}`, details });
  return `discovery document and ${jwks.keys.length} signing key${jwks.keys.length === 1 ? '' : 's'} published at ${metadata.issuer}`;
}
