// A minimal browser for headless runs (CLI, tests): GETs a URL and follows redirects with a
// cookie jar until a page answers, so an authorization request against a provider that
// approves by itself (the lab, or a test provider with an auto-consent interaction) reaches the
// relay's redirect URI without a person at a browser.
import http from 'node:http';
import https from 'node:https';

interface UserAgentOptions {
  /** CAs trusted for HTTPS pages (the lab's, a test PKI's). */
  ca?: string[];
  maxHops?: number;
  /** Per request, ms. */
  timeoutMs?: number;
}

interface Visit {
  url: string;
  status: number;
}

interface UserAgentResult {
  visits: Visit[];
  /** The page the redirects ended on. */
  final: Visit & { body: string };
}

function get(url: URL, cookies: string, opts: UserAgentOptions): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, {
      method: 'GET',
      headers: { accept: 'text/html,application/json', 'user-agent': 'mtls-harness-headless/0.1', ...(cookies ? { cookie: cookies } : {}) },
      ...(url.protocol === 'https:' && opts.ca ? { ca: opts.ca } : {}),
      timeout: opts.timeoutMs ?? 10_000,
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= 256 * 1024) chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.origin} within ${opts.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Follows redirects from `start`; cookies are kept per host (paths and expiry are ignored). */
export async function followRedirects(start: string, opts: UserAgentOptions = {}): Promise<UserAgentResult> {
  const jar = new Map<string, Map<string, string>>();
  const visits: Visit[] = [];
  let url = new URL(start);
  for (let hop = 0; hop <= (opts.maxHops ?? 10); hop++) {
    const cookies = [...(jar.get(url.host) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await get(url, cookies, opts);
    visits.push({ url: url.toString(), status: res.status });
    for (const line of res.headers['set-cookie'] ?? []) {
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      if (i > 0) {
        const hostJar = jar.get(url.host) ?? new Map<string, string>();
        hostJar.set(pair!.slice(0, i).trim(), pair!.slice(i + 1).trim());
        jar.set(url.host, hostJar);
      }
    }
    const location = res.headers.location;
    if (res.status >= 300 && res.status < 400 && location) {
      url = new URL(location, url);
      continue;
    }
    return { visits, final: { url: url.toString(), status: res.status, body: res.body } };
  }
  throw new Error(`more than ${opts.maxHops ?? 10} redirects from ${start}`);
}
