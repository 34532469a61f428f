// A target that attacks the relay through its answers: bodies that amplify when formatted or
// make a regex backtrack, and an echo of the request in every encoding the relay produces, so a
// secret the relay sent comes back form-encoded, inside a Basic header, in XML, JSON and the
// query. A real HTTPS server on 127.0.0.1.
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface HostileTarget {
  /** https://localhost:<port> */
  base: string;
  port: number;
  close(): Promise<void>;
}

/** `[[[…]]]` nested `levels` deep with `elements` numbers spread over the levels (the issue's 128 KB body). */
export function deepJson(levels = 4_000, elements = 60_000): string {
  const perLevel = Math.max(1, Math.floor(elements / levels));
  const filler = Array.from({ length: perLevel }, () => '0').join(',');
  return `${`[${filler},`.repeat(levels - 1)}[${filler}]${']'.repeat(levels - 1)}`;
}

/** `-eyJab` repeated to `bytes`: every `eyJ` starts a run a JWT regex scans to the end. */
function backtrackingText(bytes = 256 * 1024): string {
  return '-eyJab'.repeat(Math.ceil(bytes / 6)).slice(0, bytes);
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The request as a careless server reflects it, in each encoding it might. */
function echoes(method: string, url: URL, headers: Record<string, string | string[] | undefined>, body: string): { json: string; xml: string; text: string; form: string } {
  const fields = [...new URLSearchParams(body), ...url.searchParams];
  const basic = String(headers.authorization ?? '').match(/^Basic\s+(\S+)/i)?.[1];
  const decodedBasic = basic ? Buffer.from(basic, 'base64').toString('utf8') : '';
  const json = JSON.stringify({ method, url: url.pathname + url.search, headers, body, fields: Object.fromEntries(fields), basic: decodedBasic });
  const xml = `<?xml version="1.0"?><cXML><Header><Sender><Credential domain="NetworkId"><Identity>relay</Identity>${
    fields.map(([k, v]) => `<SharedSecret name="${xmlEscape(k)}">${xmlEscape(v)}</SharedSecret><Password>${xmlEscape(v)}</Password>`).join('')
  }</Credential></Sender></Header><Echo>${xmlEscape(body)}</Echo></cXML>`;
  const text = [
    `${method} ${url.pathname}${url.search}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${String(v)}`),
    '',
    body,
    `decoded basic: ${decodedBasic}`,
    ...fields.map(([k, v]) => `${k} = ${v} (form ${new URLSearchParams([[k, v]]).toString()}, percent ${encodeURIComponent(v)}, json ${JSON.stringify(v)})`),
  ].join('\n');
  const form = new URLSearchParams([...fields, ['echo', body], ['authorization', String(headers.authorization ?? '')]]).toString();
  return { json, xml, text, form };
}

/**
 * Routes:
 * - `/deep-json`: 200 application/json, arrays nested 4,000 deep (`?levels=&elements=`).
 * - `/backtrack`: 200 text/plain, 256 KiB of `-eyJab`.
 * - `/echo/<json|xml|text|form>`: 200 with the request echoed in that form (any method).
 * - `/token/<json|form>`: a token endpoint that issues `tokens` and echoes the request.
 */
export async function startHostileTarget(tls: { cert: string; key: string }, tokens: { accessToken: string; refreshToken?: string } = { accessToken: 'opaque-access-token-0001' }): Promise<HostileTarget> {
  const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => { body += d; });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://localhost');
      const [, route, kind] = url.pathname.split('/');
      if (route === 'deep-json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(deepJson(Number(url.searchParams.get('levels') ?? 4_000), Number(url.searchParams.get('elements') ?? 60_000)));
      }
      if (route === 'backtrack') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return res.end(backtrackingText(Number(url.searchParams.get('bytes') ?? 256 * 1024)));
      }
      const e = echoes(req.method ?? 'GET', url, req.headers, body);
      const echoHeaders = { 'x-echo-authorization': String(req.headers.authorization ?? ''), 'x-echo-query': url.search };
      if (route === 'token') {
        if (kind === 'form') {
          res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded', ...echoHeaders });
          return res.end(new URLSearchParams({ access_token: tokens.accessToken, token_type: 'bearer', ...(tokens.refreshToken ? { refresh_token: tokens.refreshToken } : {}), echo: e.text }).toString());
        }
        res.writeHead(200, { 'content-type': 'application/json', ...echoHeaders });
        return res.end(JSON.stringify({ access_token: tokens.accessToken, token_type: 'Bearer', expires_in: 300, ...(tokens.refreshToken ? { refresh_token: tokens.refreshToken } : {}), echo: JSON.parse(e.json), xml: e.xml, text: e.text, form: e.form }));
      }
      const types = { json: 'application/json', xml: 'application/xml', text: 'text/plain', form: 'application/x-www-form-urlencoded' } as const;
      const as = (kind && kind in types ? kind : 'text') as keyof typeof types;
      res.writeHead(route === 'echo' ? 200 : 404, { 'content-type': types[as], ...echoHeaders });
      res.end(e[as]);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    base: `https://localhost:${port}`,
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
