// How the lab answers over HTTP: JSON or HTML with no caching, bodies read to a limit, and
// refusals worded the way real servers word them (one opaque invalid_client or invalid_grant),
// with the real reason kept for the x-lab-reason header trainers read.
import type http from 'node:http';
import type { TLSSocket } from 'node:tls';
import { createHash, timingSafeEqual } from 'node:crypto';
import { HarnessError } from '../../../shared/errors.ts';
import { LAB_TOKEN_DEFAULTS } from './constants.ts';

/** A request the lab refuses: `code` (the OAuth error) and `description` go in the body, `reason` in x-lab-reason. */
export class Refusal extends HarnessError {
  constructor(readonly status: number, error: string, readonly description: string, readonly reason: string) {
    super(error, reason);
  }
}

/** oidc-provider's wording: the same answer whatever went wrong; the reason stays in a header. */
export const invalidClient = (reason: string) => new Refusal(401, 'invalid_client', 'client authentication failed', reason);
export const invalidGrant = (reason: string) => new Refusal(400, 'invalid_grant', 'grant request is invalid', reason);

/** An invalid_request refusal (a parameter missing or malformed). */
export const invalidRequest = (description: string, reason: string) => new Refusal(400, 'invalid_request', description, reason);

export function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/html; charset=utf-8' : 'application/json',
    'cache-control': 'no-store',
    connection: 'close',
    ...headers,
  });
  res.end(text);
}

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > LAB_TOKEN_DEFAULTS.maxBodyBytes) {
        reject(new Refusal(413, 'invalid_request', 'request body too large', 'body over the lab limit'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The request's form body (application/x-www-form-urlencoded). */
export async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  return new URLSearchParams(await readBody(req));
}

export function equalSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

export function formDecode(s: string): string {
  return decodeURIComponent(s.replace(/\+/g, '%20'));
}

/** x5t#S256 of the client certificate on this connection, if any. */
export function peerThumbprint(socket: TLSSocket): string | undefined {
  const cert = socket.getPeerX509Certificate?.();
  return cert ? createHash('sha256').update(cert.raw).digest('base64url') : undefined;
}
