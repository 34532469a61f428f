// Serves the built web app. Only files under the web root, by exact path; unknown paths
// fall back to index.html so a reload keeps working.
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BASE_HEADERS } from './response-headers.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

// The app talks only to its own origin; nothing else may be loaded or framed.
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
} as const;

// Answers that are not the app's files: plain text, nothing may load from them.
const TEXT = { ...BASE_HEADERS, 'content-type': 'text/plain; charset=utf-8' } as const;

export function staticHandler(root: string) {
  const rootDir = normalize(root + sep);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...TEXT, allow: 'GET, HEAD' }).end('method not allowed');
      return;
    }
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://relay.invalid').pathname);
    } catch {
      res.writeHead(400, TEXT).end('bad path');
      return;
    }
    let file = normalize(join(rootDir, pathname));
    if (!file.startsWith(rootDir)) {
      res.writeHead(404, TEXT).end('not found');
      return;
    }
    const isFile = await stat(file).then((s) => s.isFile(), () => false);
    if (!isFile) {
      if (extname(pathname)) {
        res.writeHead(404, TEXT).end('not found');
        return;
      }
      file = join(rootDir, 'index.html');
    }
    try {
      const body = await readFile(file);
      const immutable = file.includes(`${sep}assets${sep}`);
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(503, TEXT).end('The web app is not built: run `npm run build` (npm start does it for you).');
    }
  };
}
