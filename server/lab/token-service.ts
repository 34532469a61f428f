// The lab's authorization server: discovery, JWKS, a token endpoint for every grant the harness
// tests (client_credentials, authorization_code with PKCE, refresh_token, RFC 7523 jwt-bearer)
// with every client authentication method, the form-encoded jwt_token exchange, an
// auto-approving authorization endpoint, a protected API and an API-key API.
//
// It refuses the way real servers do — one opaque invalid_client or invalid_grant — so the
// harness has to explain from its own checks; the real reason goes in an x-lab-reason header
// for trainers. Tenants under /t/<name> are issuers that fail on purpose (state dropped, no
// refresh token, refresh refused, tokens of two seconds).
//
// This file starts it; token-service/ holds its parts, one concern each, sharing one LabState:
// tenants.ts (the weakness switches), keys.ts, client-auth.ts, token-endpoint.ts (the grants),
// exchange-endpoint.ts, authorize-endpoint.ts, introspection.ts (and revocation),
// resource-endpoints.ts, discovery.ts (metadata, JWKS, targets), clients.ts (demo and
// registered clients), tokens.ts, jwt-checks.ts, router.ts.
import http from 'node:http';
import https from 'node:https';
import type { LabTarget } from '../../shared/protocol/index.ts';
import type { LabRegistration } from '../../shared/flows/flow-request.ts';
import type { LabPki } from './lab-pki.ts';
import { listenStable } from './listen.ts';
import { addDemoClients, forgetOwner, knownClient, registerClient, type LabClientInfo, type LabRegistered, type LabRegisterOptions } from './token-service/clients.ts';
import { labFacts, labTargets, type LabFacts } from './token-service/discovery.ts';
import { loadLabKeys, type LabDemoCredentials } from './token-service/keys.ts';
import { handler } from './token-service/router.ts';
import { LabState } from './token-service/state.ts';
import { issueRefreshToken } from './token-service/tokens.ts';

export { LabRegistrationRefused, type LabClientInfo, type LabRegistered, type LabRegisterOptions } from './token-service/clients.ts';
export type { LabDemoCredentials } from './token-service/keys.ts';

export interface LabTokenService {
  /** https://localhost:PORT, the default tenant's issuer. */
  issuer: string;
  /** http://localhost:PORT2, where the authorization endpoint listens (no certificate warning in the browser popup). */
  authorizeOrigin: string;
  targets: LabTarget[];
  /** What the welcome's lab info says about this service (its demo clients, issuers…), so the app copies none of it. */
  facts: LabFacts;
  demo: LabDemoCredentials;
  knownClient(url: string, clientId: string): LabClientInfo | undefined;
  /** Throws LabRegistrationRefused for a key the lab will not hold, or past a count limit. */
  register(reg: LabRegistration, opts?: LabRegisterOptions): Promise<LabRegistered>;
  /** Forgets every client `owner` registered (its session closed). */
  forget(owner: string): void;
  /** Clients made by register() and not yet forgotten. */
  readonly registered: number;
  /** A refresh token for a client, as if it had been through the authorization code flow. */
  issueRefreshToken(clientId: string, scope?: string): string;
  close(): Promise<void>;
}

export async function startTokenService(opts: {
  pki: LabPki;
  dataDir: string;
  host: string;
  hostForUrl: string;
  /** The token endpoint's port; the login page takes the next one. 0: free ones. */
  port?: number;
  onPortTaken?(wanted: number, got: number): void;
}): Promise<LabTokenService> {
  const keys = await loadLabKeys(opts.dataDir);
  const tokenServer = https.createServer({
    cert: opts.pki.serverCertPem,
    key: opts.pki.serverKeyPem,
    ca: opts.pki.clientCaPem,
    // Ask for a certificate on every connection (tls_client_auth); judge it per client.
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  });
  const authorizeServer = http.createServer();
  for (const s of [tokenServer, authorizeServer]) {
    s.headersTimeout = 10_000;
    s.requestTimeout = 30_000;
    s.keepAliveTimeout = 1_000;
  }
  const port = await listenStable(tokenServer, opts.port ?? 0, opts.host, opts.onPortTaken);
  const authorizePort = await listenStable(authorizeServer, opts.port ? opts.port + 1 : 0, opts.host, opts.onPortTaken);
  const lab = new LabState(keys, `https://${opts.hostForUrl}:${port}`, `http://${opts.hostForUrl}:${authorizePort}`);
  addDemoClients(lab);
  tokenServer.on('request', handler(lab, 'token'));
  authorizeServer.on('request', handler(lab, 'authorize'));

  return {
    issuer: lab.origin,
    authorizeOrigin: lab.authorizeOrigin,
    targets: labTargets(lab),
    facts: labFacts(lab),
    demo: keys.demo,
    knownClient: (url, clientId) => knownClient(lab, url, clientId),
    register: (reg, registerOpts) => registerClient(lab, reg, registerOpts),
    forget: (owner) => forgetOwner(lab, owner),
    get registered() {
      return lab.registrations.size;
    },
    issueRefreshToken: (clientId, scope) => issueRefreshToken(lab, clientId, scope),
    close: async () => {
      await Promise.all([tokenServer, authorizeServer].map((s) => new Promise<void>((ok) => {
        s.close(() => ok());
        s.closeAllConnections();
      })));
    },
  };
}
