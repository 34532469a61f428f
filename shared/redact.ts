// Redaction, done once, here. Every exit (UI events, CLI output, logs, transcripts, saved
// scenarios) passes what it shows through these functions.

export const MASK = '••••••';

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'apikey', 'x-api-key', 'api-key']);

const SECRET_FIELDS = new Set([
  'client_secret', 'access_token', 'refresh_token', 'id_token', 'code_verifier', 'assertion',
  'client_assertion', 'jwt_token', 'apikey', 'api_key', 'password', 'passphrase', 'privatekeypem', 'private_key', 'secret', 'token',
]);

const PRIVATE_KEY_PEM = /-----BEGIN ((?:ENCRYPTED |RSA |EC |OPENSSH )?PRIVATE KEY)-----[\s\S]*?(?:-----END \1-----|$)/g;
const JWT_SHAPE = /\b(eyJ[A-Za-z0-9_-]{2,}\.eyJ[A-Za-z0-9_-]{2,})\.[A-Za-z0-9_-]{10,}/g;

// `code` is a secret only in OAuth form bodies and redirect queries; elsewhere it is a
// diagnosis or error code and must stay readable.
const FORM_ONLY_SECRET_FIELDS = new Set(['code']);

export function isSecretHeader(name: string): boolean {
  return SECRET_HEADERS.has(name.toLowerCase());
}

export function isSecretField(name: string): boolean {
  return SECRET_FIELDS.has(name.toLowerCase());
}

/** Masks private keys and JWT signatures inside free text (error messages, bodies, logs). */
export function redactText(text: string): string {
  return text
    .replace(PRIVATE_KEY_PEM, (_m, label: string) => `-----BEGIN ${label}----- ${MASK} (private key not shown) -----END ${label}-----`)
    .replace(JWT_SHAPE, (_m, signedPart: string) => `${signedPart}.${MASK}`);
}

/** Shows the scheme of an Authorization value (e.g. "Bearer") and masks the credential. */
function maskHeaderValue(name: string, value: string): string {
  if (name === 'authorization' || name === 'proxy-authorization') {
    const scheme = value.match(/^(\w+)\s/)?.[1];
    return scheme ? `${scheme} ${MASK}` : MASK;
  }
  return MASK;
}

export function redactHeaders(headers: Record<string, string | string[] | number | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (SECRET_HEADERS.has(lower)) out[name] = Array.isArray(value) ? value.map((v) => maskHeaderValue(lower, v)) : maskHeaderValue(lower, String(value));
    else out[name] = Array.isArray(value) ? value.map(redactText) : redactText(String(value));
  }
  return out;
}

const MAX_DEPTH = 32;

/** Deep copy with secret fields masked and secrets in strings masked. Cycles and depth are bounded. */
export function redactDeep<T>(value: T, depth = 0): T {
  if (depth > MAX_DEPTH) return '[too deep]' as unknown as T;
  if (typeof value === 'string') return redactText(value) as unknown as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1)) as unknown as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      // A secret's value is masked; a structure under a secret's name (a decoded JWT with its
      // header and claims) is redacted like any other. Maps of names (`headerNames`,
      // `fieldNames`) hold field names, not values.
      if ((isSecretField(k) || isSecretHeader(k)) && (typeof v === 'string' || typeof v === 'number') && v !== '') out[k] = MASK;
      else if (/Names$/.test(k) && v && typeof v === 'object' && !Array.isArray(v)) out[k] = redactNameMap(v as Record<string, unknown>);
      else out[k] = redactDeep(v, depth + 1);
    }
    return out as T;
  }
  return value;
}

function redactNameMap(names: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(names).map(([k, v]) => [k, typeof v === 'string' ? redactText(v) : MASK]));
}

/** Masks secret values in an application/x-www-form-urlencoded body or a URL query. */
export function redactForm(body: string): string {
  const params = new URLSearchParams(body);
  const out: string[] = [];
  for (const [k, v] of params) {
    const secret = isSecretField(k) || FORM_ONLY_SECRET_FIELDS.has(k.toLowerCase());
    out.push(`${encodeURIComponent(k)}=${secret && v ? MASK : encodeURIComponent(redactText(v))}`);
  }
  return out.join('&');
}

/** Masks secret query parameters (access_token, code, apiKey…) in a URL or a path with a query. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  return `${url.slice(0, q)}?${redactForm(query)}${hash < 0 ? '' : url.slice(hash)}`;
}

/** Shortest value treated as a secret to scrub; shorter ones would mask ordinary text. */
const MIN_SECRET_LENGTH = 6;

/**
 * The secret values a request carries, so they can be scrubbed wherever they show up again —
 * a target that echoes its request, an error message that quotes it.
 */
export function secretValues(req: { headers?: Record<string, string>; body?: string; privateKeyPems?: string[]; extra?: string[] }): string[] {
  const out = new Set<string>();
  const add = (v: string | undefined) => {
    const t = v?.trim();
    if (t && t.length >= MIN_SECRET_LENGTH) out.add(t);
  };
  for (const [name, value] of Object.entries(req.headers ?? {})) {
    if (!isSecretHeader(name)) continue;
    add(value);
    add(value.replace(/^\w+\s+/, '')); // the credential after "Bearer " / "Basic "
  }
  if (req.body) {
    for (const [k, v] of new URLSearchParams(req.body)) if (isSecretField(k) || FORM_ONLY_SECRET_FIELDS.has(k.toLowerCase())) add(v);
    try {
      const json: unknown = JSON.parse(req.body);
      collectSecretFields(json, add, 0);
    } catch {
      // not JSON
    }
  }
  for (const pem of req.privateKeyPems ?? []) {
    for (const line of pem.split(/\r?\n/)) if (!line.startsWith('-----') && line.length >= 16) add(line);
  }
  for (const v of req.extra ?? []) add(v);
  return [...out];
}

function collectSecretFields(v: unknown, add: (s: string) => void, depth: number): void {
  if (depth > MAX_DEPTH || !v || typeof v !== 'object') return;
  for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
    if (typeof child === 'string' && (isSecretField(k) || isSecretHeader(k))) add(child);
    else collectSecretFields(child, add, depth + 1);
  }
}

/** Replaces every occurrence of the given secret values in all strings of `value`. */
export function scrubDeep<T>(value: T, secrets: readonly string[], depth = 0): T {
  if (secrets.length === 0) return value;
  if (depth > MAX_DEPTH) return '[too deep]' as unknown as T;
  if (typeof value === 'string') {
    let out: string = value;
    for (const s of secrets) if (out.includes(s)) out = out.split(s).join(MASK);
    return out as unknown as T;
  }
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, secrets, depth + 1)) as unknown as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = scrubDeep(v, secrets, depth + 1);
    return out as T;
  }
  return value;
}
