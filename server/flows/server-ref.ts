// Everything a flow knows about the authorization server before its first token request:
// discovery (when an issuer is given), the endpoints to use, and — for the built-in lab — the
// client's registration, so refusals can be explained against what the server really holds.
import type { ClientAuth, ClientAuthMethod, FlowTls, ServerRef } from '../../shared/flows/flow-request.ts';
import type { Jwks } from '../../shared/jwt/keys.ts';
import { decodeJwt } from '../../shared/jwt/decode.ts';
import { discover, type ServerMetadata } from './discovery.ts';
import { FlowRun, type JwtInput } from './flow-steps.ts';
import { AssertionPool, tokenEndpointFor, type ServerKnowledge } from './token-request.ts';

export interface KnownServer extends ServerKnowledge {
  jwksUrl?: string;
  authorizationUrl?: string;
}

type Endpoint = 'token_endpoint' | 'authorization_endpoint' | 'jwks_uri';

/** The registration the lab holds for a client, when the URL is the lab's. */
export function labClient(run: FlowRun, url: string, clientId: string | undefined): { method: string; jwks?: Jwks } | undefined {
  if (!clientId) return undefined;
  return run.ctx.lab?.tokens?.knownClient(url, clientId);
}

export async function knowServer(run: FlowRun, ref: ServerRef & { authorizationUrl?: string }, opts: { method?: ClientAuthMethod; clientId?: string; needs?: Endpoint[] }): Promise<KnownServer> {
  let metadata: ServerMetadata | null = null;
  if (ref.issuer) metadata = await discover(run, ref.issuer, ref.tokenUrl ? [] : (opts.needs ?? ['token_endpoint']).filter((n) => n !== 'jwks_uri'));
  const tokenUrl = tokenEndpointFor(opts.method, ref.tokenUrl, metadata);
  if (!tokenUrl) throw new TypeError('flow has neither tokenUrl nor an issuer whose discovery names a token endpoint');
  const lab = labClient(run, tokenUrl, opts.clientId);
  const registeredJwks = ref.registeredJwks ?? lab?.jwks;
  const issuer = ref.issuer ?? metadata?.issuer;
  const jwksUrl = ref.jwksUrl ?? metadata?.jwks_uri;
  const authorizationUrl = ref.authorizationUrl ?? metadata?.authorization_endpoint;
  return {
    tokenUrl,
    metadata,
    ...(issuer ? { issuer } : {}),
    ...(registeredJwks ? { registeredJwks } : {}),
    ...(lab ? { registeredMethod: lab.method } : {}),
    ...(jwksUrl ? { jwksUrl } : {}),
    ...(authorizationUrl ? { authorizationUrl } : {}),
  };
}

/** The pre-signed client assertions of a private_key_jwt client, one per token request. */
export function assertionPool(auth: ClientAuth | undefined): AssertionPool | undefined {
  return auth?.method === 'private_key_jwt' ? new AssertionPool(auth.clientAssertions) : undefined;
}

/** JWTs the inputs step decodes for display. */
export function clientAssertionInputs(auth: ClientAuth | undefined): JwtInput[] {
  if (auth?.method !== 'private_key_jwt') return [];
  return auth.clientAssertions.map((token, i) => ({ label: auth.clientAssertions.length === 1 ? 'client assertion' : `client assertion ${i + 1}`, token }));
}

/** Input problems about client authentication that no server round trip is needed to see. */
export function clientAuthProblems(auth: ClientAuth | undefined, tls: FlowTls | undefined): string[] {
  if ((auth?.method === 'tls_client_auth' || auth?.method === 'self_signed_tls_client_auth') && !tls?.client) {
    return [`clientAuth ${auth.method} needs the client certificate and key in tls.client`];
  }
  return [];
}

/** The iss of a JWT, to look its registered keys up. */
export function issuerOf(token: string): string | undefined {
  const d = decodeJwt(token);
  return d.ok && typeof d.jwt.claims.iss === 'string' ? d.jwt.claims.iss : undefined;
}
