// Which handler answers a request on each of the lab's two listeners, and how a refusal or a
// failure becomes an answer (the reason in x-lab-reason, never a stack).
import type http from 'node:http';
import { authorizeEndpoint } from './authorize-endpoint.ts';
import { jwks, metadata } from './discovery.ts';
import { exchangeEndpoint } from './exchange-endpoint.ts';
import { Refusal, send } from './http.ts';
import { introspectionEndpoint, revocationEndpoint } from './introspection.ts';
import { keyResourceEndpoint, resourceEndpoint } from './resource-endpoints.ts';
import type { LabState } from './state.ts';
import { TENANTS, tenantOf, type Tenant } from './tenants.ts';
import { tokenEndpoint } from './token-endpoint.ts';

/** The tenant and the path within it; RFC 8414 puts the issuer's path after the well-known name. */
function route(path: string): { t: Tenant; rest: string } | null {
  const wk = /^\/\.well-known\/oauth-authorization-server(\/t\/[a-z-]+)?$/.exec(path);
  if (!wk) return tenantOf(path);
  const t = TENANTS.find((x) => x.prefix === (wk[1] ?? ''));
  return t ? { t, rest: '/.well-known/oauth-authorization-server' } : null;
}

async function tokenListener(lab: LabState, req: http.IncomingMessage, res: http.ServerResponse, t: Tenant, rest: string): Promise<void> {
  switch (`${req.method} ${rest}`) {
    case 'GET /.well-known/openid-configuration':
    case 'GET /.well-known/oauth-authorization-server':
      return send(res, 200, metadata(lab, t));
    case 'GET /jwks':
      return send(res, 200, jwks(lab), { 'content-type': 'application/jwk-set+json' });
    case 'POST /token':
      return await tokenEndpoint(lab, req, res, t);
    case 'POST /exchange':
      return await exchangeEndpoint(lab, req, res, t);
    case 'POST /introspect':
      return await introspectionEndpoint(lab, req, res, t);
    case 'POST /revoke':
      return await revocationEndpoint(lab, req, res, t);
    case 'GET /api/resource':
    case 'POST /api/resource':
      req.resume();
      return await resourceEndpoint(lab, req, res, t);
    case 'GET /api/key-resource':
    case 'POST /api/key-resource':
      req.resume();
      return keyResourceEndpoint(req, res);
    default:
      req.resume();
      return send(res, rest === '/token' || rest === '/exchange' ? 405 : 404, { error: 'not_found' });
  }
}

/** The request handler of the token listener (https) or the authorization listener (http). */
export function handler(lab: LabState, listener: 'token' | 'authorize') {
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    try {
      const found = route(new URL(req.url ?? '/', 'https://lab.invalid').pathname);
      if (!found) return send(res, 404, { error: 'not_found' });
      const { t, rest } = found;
      if (listener === 'token') return await tokenListener(lab, req, res, t, rest);
      if (`${req.method} ${rest}` === 'GET /authorize') return authorizeEndpoint(lab, req, res, t);
      return send(res, 404, { error: 'not_found', message: 'this port serves only /authorize' });
    } catch (err) {
      if (err instanceof Refusal) {
        const headers: Record<string, string> = { 'x-lab-reason': err.reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 300) };
        if (err.status === 401 && req.headers.authorization) headers['www-authenticate'] = `Basic realm="${lab.origin}", error="${err.code}"`;
        return send(res, err.status, { error: err.code, error_description: err.description }, headers);
      }
      return send(res, 500, { error: 'server_error', error_description: 'the lab failed to handle this request' });
    }
  };
}
