// Liveness and readiness for supervisors and load balancers (docs/deployment.md): not behind
// the access token, since a probe has none, so they answer a fixed word and nothing else — no
// version, counts or addresses that would help an attacker.
import type http from 'node:http';

const HEALTH_PATHS = { live: '/healthz', ready: '/readyz' } as const;

/** Answers /healthz and /readyz; false for any other path. `ready`: the relay accepts new sessions. */
export function answerHealth(req: http.IncomingMessage, res: http.ServerResponse, ready: () => boolean): boolean {
  const path = (req.url ?? '').split('?')[0];
  if (path !== HEALTH_PATHS.live && path !== HEALTH_PATHS.ready) return false;
  const headers = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...headers, allow: 'GET, HEAD' }).end('method not allowed');
    return true;
  }
  // Alive while the process can answer at all; ready until shutdown starts draining it.
  const [status, word] = path === HEALTH_PATHS.live ? [200, 'ok'] : ready() ? [200, 'ready'] : [503, 'draining'];
  res.writeHead(status, headers).end(word);
  return true;
}
