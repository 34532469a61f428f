// "Copy as curl" for a flow's HTTP calls. Secret values (client secret, assertions, tokens,
// API keys) become shell variables, so a copied command carries no secret and the person
// running it sets them first: CLIENT_SECRET=… curl …
import { REPRO_FILES, shellQuote } from '../reproduce.ts';

/** A value that stands for a secret: the command names the variable instead. */
export interface EnvRef {
  env: string;
  /** Literal text before the variable, e.g. "Bearer ". */
  prefix?: string;
}

interface CurlSpec {
  method: string;
  url: string;
  headers?: [string, string | EnvRef][];
  /** application/x-www-form-urlencoded fields, sent with --data-urlencode. */
  form?: [string, string | EnvRef][];
  /** Basic authentication: --user id:$VAR. */
  basic?: { user: string; password: EnvRef };
  /** A raw body, read from REPRO_FILES.body. */
  body?: boolean;
  clientCertificate?: boolean;
  caFile?: boolean;
  insecure?: boolean;
}

export function envName(field: string): string {
  return field.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^(\d)/, '_$1');
}

function arg(text: string, ref: EnvRef | undefined): string {
  // Double quotes so the shell expands the variable; the rest is quoted literally.
  return ref ? `"${(text + (ref.prefix ?? '')).replace(/["\\$`]/g, '\\$&')}\${${ref.env}}"` : shellQuote(text);
}

export function curlFor(spec: CurlSpec): string {
  const parts = ['curl', '--silent', '--show-error', '--include'];
  if (spec.clientCertificate) parts.push('--cert', REPRO_FILES.cert, '--key', REPRO_FILES.key);
  if (spec.caFile) parts.push('--cacert', REPRO_FILES.ca);
  if (spec.insecure) parts.push('--insecure');
  if (spec.method !== 'GET' || spec.form || spec.body) parts.push('--request', spec.method);
  if (spec.basic) parts.push('--user', arg(`${spec.basic.user}:`, spec.basic.password));
  for (const [name, value] of spec.headers ?? []) {
    parts.push('--header', typeof value === 'string' ? shellQuote(`${name}: ${value}`) : arg(`${name}: `, value));
  }
  for (const [name, value] of spec.form ?? []) {
    parts.push('--data-urlencode', typeof value === 'string' ? shellQuote(`${name}=${value}`) : arg(`${name}=`, value));
  }
  if (spec.body) parts.push('--data-binary', `@${REPRO_FILES.body}`);
  parts.push(shellQuote(spec.url));
  return parts.join(' ');
}
