// Who the lab knows: its demo clients, one per authentication method, and the clients sessions
// register with their own keys (bounded per session and in all, forgotten with the session).
import { createHash, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { HarnessError } from '../../../shared/errors.ts';
import type { LabRegistration } from '../../../shared/flows/flow-request.ts';
import type { Jwks, PublicJwk } from '../../../shared/jwt/keys.ts';
import { labJwkProblem } from '../lab-jwk.ts';
import { JWT_BEARER, LAB_REGISTERED_PREFIX } from './constants.ts';
import type { LabAuthMethod, LabState } from './state.ts';

/** What a flow may know about a lab client: how it authenticates and which keys it has. */
export interface LabClientInfo {
  method: LabAuthMethod;
  jwks?: Jwks;
}

export interface LabRegistered {
  clientId: string;
  clientSecret: string;
  kid: string;
  method: LabAuthMethod;
  issuer: string;
  tokenUrl: string;
}

/** Who registers, and the limits that apply (server/defaults.ts: labRegistrations*). */
export interface LabRegisterOptions {
  /** An opaque id of the registrant (one per session); each owner gets its own clients. */
  owner?: string;
  maxPerOwner?: number;
  maxTotal?: number;
  /** Forget the client this long after it was (last) registered. */
  ttlMs?: number;
}

/** A registration the lab refuses; `code` is the protocol's error code. */
export class LabRegistrationRefused extends HarnessError<'jwk_invalid' | 'too_many_registrations'> {}

const ALL_GRANTS = ['client_credentials', 'authorization_code', 'refresh_token', JWT_BEARER];

/** The demo clients of docs/scenarios.md, one for each way a client authenticates. */
export function addDemoClients(lab: LabState): void {
  const { demoPublic, selfSignedJwk } = lab.keys;
  lab.addClient({ clientId: 'lab-basic', method: 'client_secret_basic', secret: 'lab-basic-secret', grants: new Set(ALL_GRANTS) });
  lab.addClient({ clientId: 'lab-post', method: 'client_secret_post', secret: 'lab-post-secret', grants: new Set(ALL_GRANTS) });
  lab.addClient({ clientId: 'lab-secretjwt', method: 'client_secret_jwt', secret: 'lab-secretjwt-secret', grants: new Set(ALL_GRANTS) });
  lab.addClient({ clientId: 'lab-pkjwt', method: 'private_key_jwt', jwks: { keys: [demoPublic] }, grants: new Set(ALL_GRANTS) });
  lab.addClient({ clientId: 'lab-mtls', method: 'tls_client_auth', grants: new Set(ALL_GRANTS), boundTokens: true });
  lab.addClient({ clientId: 'lab-selfsigned', method: 'self_signed_tls_client_auth', jwks: { keys: [selfSignedJwk] }, grants: new Set(ALL_GRANTS), boundTokens: true });
  lab.addClient({ clientId: 'lab-seed', method: 'client_secret_post', secret: 'lab-seed-secret', jwks: { keys: [demoPublic] }, grants: new Set([...ALL_GRANTS, 'jwt-exchange']) });
  lab.addClient({ clientId: 'lab-public', method: 'none', grants: new Set(['authorization_code', 'refresh_token']) });
}

/** A lab client of the token endpoint at `url`, as a flow may see it. */
export function knownClient(lab: LabState, url: string, clientId: string): LabClientInfo | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.origin !== lab.origin) return undefined;
  const c = lab.clients.get(clientId);
  return c ? { method: c.method, ...(c.jwks ? { jwks: c.jwks } : {}) } : undefined;
}

/** Registers a client for a key; throws LabRegistrationRefused for a key the lab will not hold, or past a count limit. */
export async function registerClient(lab: LabState, reg: LabRegistration, opts: LabRegisterOptions = {}): Promise<LabRegistered> {
  const method: LabAuthMethod = reg.method ?? 'private_key_jwt';
  const problem = labJwkProblem(reg.publicJwk, { selfSigned: method === 'self_signed_tls_client_auth' });
  if (problem) throw new LabRegistrationRefused('jwk_invalid', problem);
  const owner = opts.owner ?? '';
  const thumb = await calculateJwkThumbprint(reg.publicJwk as JWK);
  const kid = reg.publicJwk.kid ?? thumb;
  const jwk: PublicJwk = { ...reg.publicJwk, kid };
  if (reg.publicJwk.x5c?.[0]) jwk['x5t#S256'] = createHash('sha256').update(Buffer.from(reg.publicJwk.x5c[0], 'base64')).digest('base64url');
  // One client per (registrant, key): the same key registered by another session is another
  // client, so nobody can change the method of, or be handed the secret of, someone else's.
  const clientId = `${LAB_REGISTERED_PREFIX}${createHash('sha256').update(`${owner}\0${thumb}`).digest('base64url').slice(0, 12)}`;
  const existing = lab.registrations.get(clientId);
  const mine = lab.owned.get(owner) ?? new Set<string>();
  if (!existing) {
    const perOwner = opts.maxPerOwner ?? Infinity;
    if (mine.size >= perOwner) throw new LabRegistrationRefused('too_many_registrations', `at most ${perOwner} lab clients per session; they are forgotten when the session closes`);
    if (lab.registrations.size >= (opts.maxTotal ?? Infinity)) throw new LabRegistrationRefused('too_many_registrations', 'the lab holds as many registered clients as it accepts; try again later');
  }
  clearTimeout(existing?.timer);
  const secret = lab.clients.get(clientId)?.secret ?? randomBytes(18).toString('base64url');
  lab.addClient({ clientId, method, secret, jwks: { keys: [jwk] }, grants: new Set([...ALL_GRANTS, 'jwt-exchange']), boundTokens: method === 'self_signed_tls_client_auth' });
  const timer = opts.ttlMs ? setTimeout(() => forgetClient(lab, clientId), opts.ttlMs) : undefined;
  timer?.unref();
  lab.registrations.set(clientId, { owner, timer });
  mine.add(clientId);
  lab.owned.set(owner, mine);
  return { clientId, clientSecret: secret, kid, method, issuer: lab.origin, tokenUrl: `${lab.origin}/token` };
}

export function forgetClient(lab: LabState, clientId: string): void {
  const r = lab.registrations.get(clientId);
  if (!r) return;
  clearTimeout(r.timer);
  lab.registrations.delete(clientId);
  lab.clients.delete(clientId);
  const mine = lab.owned.get(r.owner);
  mine?.delete(clientId);
  if (mine?.size === 0) lab.owned.delete(r.owner);
}

/** Forgets every client `owner` registered (its session closed). */
export function forgetOwner(lab: LabState, owner: string): void {
  for (const clientId of lab.owned.get(owner) ?? []) forgetClient(lab, clientId);
}
