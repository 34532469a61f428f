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
      if ((isSecretField(k) || isSecretHeader(k)) && v !== null && v !== undefined && v !== '') out[k] = MASK;
      else out[k] = redactDeep(v, depth + 1);
    }
    return out as T;
  }
  return value;
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
