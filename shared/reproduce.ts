// "Copy as curl" / "Copy as openssl s_client": the exact probe as commands support staff can
// run outside the harness. File names stand in for the key and certificates, and secret
// header values become environment variables, so a copied command carries no secret.
import type { ProbeRequest } from './protocol/index.ts';
import { isSecretHeader, isSecretName } from './redact.ts';

export const REPRO_FILES = {
  cert: 'client.pem',
  key: 'client.key',
  chain: 'client-chain.pem',
  ca: 'ca.pem',
  body: 'body.txt',
} as const;

/** POSIX shell single-quoting. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function envName(header: string): string {
  return header.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

interface ReproOptions {
  /** Certificates the client sends (leaf + intermediates); decides whether a chain file is named. */
  clientChainLength?: number;
}

/** Inside double quotes, the shell still expands these; escaped so only our variables expand. */
const doubleQuoted = (s: string) => s.replace(/[\\"`$]/g, '\\$&');

/**
 * The URL for the command line, each secret query value (access_token, api_key, a name the user
 * marked secret) replaced by a variable like a secret header's, so the command carries none.
 */
function urlArgument(url: string, secretNames: readonly string[]): string {
  const q = url.indexOf('?');
  if (q < 0) return shellQuote(url);
  const hash = url.indexOf('#', q);
  let secret = false;
  const pairs = url.slice(q + 1, hash < 0 ? undefined : hash).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    let name = rawName;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
    } catch {
      // keep the name as written
    }
    if (eq < 0 || eq === pair.length - 1 || !isSecretName(name, secretNames)) return doubleQuoted(pair);
    secret = true;
    return `${doubleQuoted(rawName)}=\${${envName(name)}}`;
  });
  if (!secret) return shellQuote(url);
  return `"${doubleQuoted(url.slice(0, q))}?${pairs.join('&')}${hash < 0 ? '' : doubleQuoted(url.slice(hash))}"`;
}

export function curlCommand(req: ProbeRequest): string {
  const secretNames = req.secretNames ?? [];
  const parts = ['curl', '--verbose', '--show-error'];
  if (req.client) {
    // curl sends the whole file given to --cert, so leaf + intermediates go in one file.
    parts.push('--cert', REPRO_FILES.cert, '--key', REPRO_FILES.key);
  }
  if (req.caPem) parts.push('--cacert', REPRO_FILES.ca);
  if (req.verifyServer === false) parts.push('--insecure');
  const method = req.method ?? 'GET';
  if (method === 'HEAD') parts.push('--head');
  else if (method !== 'GET' || req.body !== undefined) parts.push('--request', method);
  for (const [name, value] of Object.entries(req.headers ?? {})) {
    // Double quotes so the shell expands the variable that stands in for the secret.
    const secret = isSecretHeader(name) || secretNames.some((n) => n.toLowerCase() === name.toLowerCase());
    parts.push('--header', secret ? `"${name}: \${${envName(name)}}"` : shellQuote(`${name}: ${value}`));
  }
  if (req.body !== undefined) parts.push('--data-binary', `@${REPRO_FILES.body}`);
  parts.push(urlArgument(req.url, secretNames));
  return parts.join(' ');
}

export function opensslCommand(req: ProbeRequest, opts: ReproOptions = {}): string {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return '# the URL is not valid';
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port || '443';
  const connect = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const parts = ['openssl', 's_client', '-connect', connect];
  if (!/^[\d.]+$/.test(host) && !host.includes(':')) parts.push('-servername', host);
  if (req.client) {
    parts.push('-cert', REPRO_FILES.cert, '-key', REPRO_FILES.key);
    if ((opts.clientChainLength ?? 1) > 1) parts.push('-cert_chain', REPRO_FILES.chain);
  }
  if (req.caPem) parts.push('-CAfile', REPRO_FILES.ca);
  parts.push('-verify_return_error', '-showcerts', '-state');
  if (req.verifyServer === false) parts.splice(parts.indexOf('-verify_return_error'), 1);
  return `${parts.map(shellQuote).join(' ')} </dev/null`;
}
