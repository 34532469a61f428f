// GET /authorize on its own http:// port (no certificate warning in the browser popup): approves
// at once for the lab user and redirects back with a code, or with the error a real server gives.
// The tenants that drop or alter state do it here.
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { LAB_SCOPES, LAB_TOKEN_DEFAULTS } from './constants.ts';
import { send } from './http.ts';
import type { LabState } from './state.ts';
import type { Tenant } from './tenants.ts';

/** The harness's loopback callback URIs: the only redirect URIs the lab accepts. */
const LOOPBACK_CALLBACK = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}\/callback\/[A-Za-z0-9_-]{1,64}$/;

export function authorizeEndpoint(lab: LabState, req: http.IncomingMessage, res: http.ServerResponse, t: Tenant): void {
  const q = new URL(req.url ?? '/', lab.authorizeOrigin).searchParams;
  const page = (status: number, text: string) => send(res, status, `<!doctype html><meta charset="utf-8"><title>Lab authorization error</title><h1>Authorization request refused</h1><p>${text.replace(/[<>&"]/g, '')}</p>`);
  const client = lab.clients.get(q.get('client_id') ?? '');
  const redirectUri = q.get('redirect_uri') ?? '';
  // Unregistered redirect URIs get a page, never a redirect (RFC 6749 §4.1.2.1).
  if (!client) return page(400, `unknown client_id ${q.get('client_id') ?? '(none)'}`);
  if (!LOOPBACK_CALLBACK.test(redirectUri)) return page(400, `redirect_uri ${redirectUri || '(none)'} is not registered: the lab accepts the harness's loopback /callback/<key> URIs`);
  const back = (params: Record<string, string>) => {
    const u = new URL(redirectUri);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    if (!t.dropState && q.get('state') !== null) u.searchParams.set('state', t.alterState ? `${q.get('state')!}x` : q.get('state')!);
    u.searchParams.set('iss', lab.issuerOf(t));
    res.writeHead(302, { location: u.toString(), 'cache-control': 'no-store', connection: 'close' }).end();
  };
  if (q.get('response_type') !== 'code') return back({ error: 'unsupported_response_type', error_description: 'only response_type=code is supported' });
  if (!client.grants.has('authorization_code')) return back({ error: 'unauthorized_client', error_description: 'this client may not use the authorization code flow' });
  const challenge = q.get('code_challenge') ?? undefined;
  if (challenge && (q.get('code_challenge_method') ?? 'plain') !== 'S256') return back({ error: 'invalid_request', error_description: 'code_challenge_method must be S256' });
  if (!challenge && client.method === 'none') return back({ error: 'invalid_request', error_description: 'PKCE is required for public clients' });
  const scope = (q.get('scope') ?? '').split(/\s+/).filter(Boolean);
  const unknown = scope.filter((s) => !LAB_SCOPES.includes(s));
  if (unknown.length) return back({ error: 'invalid_scope', error_description: `unknown scope ${unknown.join(' ')}` });
  const code = randomBytes(24).toString('base64url');
  lab.codes.set(code, { clientId: client.clientId, tenant: t, redirectUri, ...(challenge ? { challenge } : {}), scope: scope.join(' '), ...(q.get('nonce') ? { nonce: q.get('nonce')! } : {}), expiresAt: Date.now() + LAB_TOKEN_DEFAULTS.codeSec * 1000, used: false });
  return back({ code });
}
