// Redaction, done once, here. Every exit (UI events, CLI output, logs, transcripts, saved
// scenarios) passes what it shows through these functions.

export const MASK = '••••••';

const SECRET_HEADERS = new Set([
  'authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'apikey', 'x-api-key', 'api-key',
  // Vendor token headers (GitLab's Private-Token, OpenStack's X-Auth-Token, Vault's X-Vault-Token…).
  'x-auth-token', 'x-access-token', 'x-api-token', 'x-token', 'private-token', 'x-vault-token', 'x-client-secret',
]);

const SECRET_FIELDS = new Set([
  'client_secret', 'access_token', 'refresh_token', 'id_token', 'code_verifier', 'assertion',
  'client_assertion', 'jwt_token', 'apikey', 'api_key', 'password', 'passphrase', 'privatekeypem', 'private_key', 'secret', 'token',
]);

// Both masks below scan by hand: a regex with an unbounded run before a literal (the former
// `eyJ[A-Za-z0-9_-]{2,}\.` shape) re-scans the run from every start and took 16 s on a 256 KiB
// body of `-eyJab`. Each scan here reads every character a bounded number of times.
const PEM_LABELS = ['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'OPENSSH PRIVATE KEY'] as const;
const PEM_BEGIN = '-----BEGIN ';
/**
 * XML elements whose text is a secret (cXML's `<SharedSecret>`, WS-Security's `<Password>`…),
 * compared lower-case with `_` and `-` removed and any namespace prefix dropped.
 */
const SECRET_ELEMENTS = new Set([
  'sharedsecret', 'password', 'passphrase', 'secret', 'clientsecret', 'accesstoken', 'refreshtoken', 'idtoken',
  'apikey', 'privatekey', 'token', 'authtoken', 'sessiontoken', 'credential', 'codeverifier', 'assertion', 'clientassertion',
]);
/**
 * One leaf element. Attributes and text stop at the next `<`, and the name is at most 64
 * characters, so a failed match costs at most the distance to the second `<` after its start.
 */
const XML_LEAF = /<([A-Za-z_][\w.:-]{0,63})((?:\s[^<>]*)?)>([^<]*)<\/\1\s*>/g;
/**
 * `"access_token": "…"` in text that is not parseable JSON (a body cut at the display cap). The
 * value stops at the next unescaped quote, so an attempt never scans past the next `"`.
 */
const JSON_MEMBER = /("([A-Za-z0-9_.-]{1,64})"[ \t]*:[ \t]*")((?:[^"\\\r\n]|\\.)*)"/g;
/** `Authorization: Bearer …` at the start of a line of text (an echoed request). */
const HEADER_LINE = /^([A-Za-z0-9-]{1,64})([ \t]*:[ \t]*)([^\r\n]*)/gm;
/** A run of base64url characters joined by dots: the only text a JWT can hide in. */
const DOTTED_RUN = /[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*/g;

// `code` is a secret only in OAuth form bodies and redirect queries; elsewhere it is a
// diagnosis or error code and must stay readable.
const FORM_ONLY_SECRET_FIELDS = new Set(['code']);

export function isSecretHeader(name: string): boolean {
  return SECRET_HEADERS.has(name.toLowerCase());
}

export function isSecretField(name: string): boolean {
  return SECRET_FIELDS.has(name.toLowerCase());
}

/** Masks private keys and JWT signatures inside free text (error messages, bodies, logs). Linear in `text`. */
export function redactText(text: string): string {
  return maskNamedValues(maskXmlSecrets(maskJwtSignatures(maskPrivateKeys(text))));
}

/** Values under a secret name in JSON-like members and header lines of free text. */
function maskNamedValues(text: string): string {
  let out = text;
  if (out.includes('"')) {
    out = out.replace(JSON_MEMBER, (member, head: string, name: string, value: string) => (value !== '' && (isSecretField(name) || isSecretHeader(name)) ? `${head}${MASK}"` : member));
  }
  if (out.includes(':')) {
    out = out.replace(HEADER_LINE, (line, name: string, sep: string, value: string) => {
      const lower = name.toLowerCase();
      if (!SECRET_HEADERS.has(lower) || value.trim() === '' || value.includes(MASK)) return line;
      return `${name}${sep}${maskHeaderValue(lower, value)}`;
    });
  }
  return out;
}

function maskXmlSecrets(text: string): string {
  if (!text.includes('</')) return text;
  return text.replace(XML_LEAF, (element, name: string, attrs: string, content: string) => {
    const local = name.slice(name.lastIndexOf(':') + 1).toLowerCase().replace(/[_-]/g, '');
    return SECRET_ELEMENTS.has(local) && content.trim() !== '' ? `<${name}${attrs}>${MASK}</${name}>` : element;
  });
}

/** A PEM private key, from its BEGIN line to its END line (or the end of a text cut short). */
function maskPrivateKeys(text: string): string {
  let at = text.indexOf(PEM_BEGIN);
  if (at < 0) return text;
  let out = '';
  let copied = 0;
  while (at >= 0) {
    const labelAt = at + PEM_BEGIN.length;
    const label = PEM_LABELS.find((l) => text.startsWith(`${l}-----`, labelAt));
    if (!label) {
      at = text.indexOf(PEM_BEGIN, at + 1);
      continue;
    }
    const endLine = `-----END ${label}-----`;
    const end = text.indexOf(endLine, labelAt + label.length + 5);
    out += `${text.slice(copied, at)}-----BEGIN ${label}----- ${MASK} (private key not shown) -----END ${label}-----`;
    copied = end < 0 ? text.length : end + endLine.length;
    at = text.indexOf(PEM_BEGIN, copied);
  }
  return out + text.slice(copied);
}

/**
 * `header.claims.signature` with header and claims starting `eyJ` (base64url of `{"`): the
 * signature is masked, header and claims stay readable. Within a dotted run, a JWT's first part
 * is a dot-separated part holding `eyJ` at its start or after a `-` (a word boundary), with at
 * least two more characters; the second part starts `eyJ` (5+ characters); the third has 10+.
 */
function maskJwtSignatures(text: string): string {
  if (!text.includes('eyJ')) return text;
  return text.replace(DOTTED_RUN, (run) => {
    if (!run.includes('.eyJ')) return run;
    const parts = run.split('.');
    let changed = false;
    for (let i = 0; i + 2 < parts.length; i++) {
      const first = parts[i]!;
      const second = parts[i + 1]!;
      const dash = first.indexOf('-eyJ');
      const start = first.startsWith('eyJ') ? 0 : dash < 0 ? -1 : dash + 1;
      if (start < 0 || first.length - start < 5) continue;
      if (!second.startsWith('eyJ') || second.length < 5 || parts[i + 2]!.length < 10) continue;
      parts[i + 2] = MASK;
      changed = true;
      i += 2;
    }
    return changed ? parts.join('.') : run;
  });
}

/** Shows the scheme of an Authorization value (e.g. "Bearer") and masks the credential. */
function maskHeaderValue(name: string, value: string): string {
  if (name === 'authorization' || name === 'proxy-authorization') {
    const scheme = value.match(/^(\w+)\s/)?.[1];
    return scheme ? `${scheme} ${MASK}` : MASK;
  }
  return MASK;
}

export function redactHeaders(headers: Record<string, string | string[] | number | undefined>, extraNames: readonly string[] = []): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (SECRET_HEADERS.has(lower) || extraNames.some((n) => n.toLowerCase() === lower)) out[name] = Array.isArray(value) ? value.map((v) => maskHeaderValue(lower, v)) : maskHeaderValue(lower, String(value));
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
      const rule = memberRule(k, v);
      if (rule === 'mask') out[k] = MASK;
      else if (rule === 'names') out[k] = redactNameMap(v as Record<string, unknown>);
      else out[k] = redactDeep(v, depth + 1);
    }
    return out as T;
  }
  return value;
}

/**
 * How redaction treats an object's member. A secret's value is masked; a structure under a
 * secret's name (a decoded JWT with its header and claims) is redacted like any other. Maps of
 * names (`headerNames`, `fieldNames`) hold field names, not values.
 */
function memberRule(key: string, value: unknown): 'mask' | 'names' | 'walk' {
  if ((isSecretField(key) || isSecretHeader(key)) && (typeof value === 'string' || typeof value === 'number') && value !== '') return 'mask';
  if (/Names$/.test(key) && value && typeof value === 'object' && !Array.isArray(value)) return 'names';
  return 'walk';
}

function redactNameMap(names: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(names).map(([k, v]) => [k, typeof v === 'string' ? redactText(v) : MASK]));
}

/** Extra names (header, field or parameter) a user marked secret, compared lower-case. */
export type SecretNames = readonly string[];

/** A form field or query parameter whose value is secret: built in (`code` included) or marked by the user. */
export function isSecretName(name: string, extra: SecretNames = []): boolean {
  const lower = name.toLowerCase();
  return isSecretField(lower) || FORM_ONLY_SECRET_FIELDS.has(lower) || extra.some((n) => n.toLowerCase() === lower);
}

/** Masks secret values in an application/x-www-form-urlencoded body or a URL query. */
export function redactForm(body: string, extraNames: SecretNames = []): string {
  const params = new URLSearchParams(body);
  const out: string[] = [];
  for (const [k, v] of params) {
    const secret = isSecretName(k, extraNames);
    out.push(`${encodeURIComponent(k)}=${secret && v ? MASK : encodeURIComponent(redactText(v))}`);
  }
  return out.join('&');
}

/** Masks secret query parameters (access_token, code, apiKey…) in a URL or a path with a query. */
export function redactUrl(url: string, extraNames: SecretNames = []): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  return `${url.slice(0, q)}?${redactForm(query, extraNames)}${hash < 0 ? '' : url.slice(hash)}`;
}

/** Shortest value treated as a secret to scrub; shorter ones would mask ordinary text. */
const MIN_SECRET_LENGTH = 6;

/** UTF-8 bytes as base64 (what `Basic` carries), without Node's Buffer: shared/ runs in browsers. */
function base64Utf8(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64Utf8(b64: string): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

/** RFC 6749 §2.3.1: each part of client_secret_basic form-encoded, then base64 of `id:secret`. */
export function basicCredential(user: string, password: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return base64Utf8(`${enc(user)}:${enc(password)}`);
}

function latin1(v: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(v)) return v;
  let out = '';
  for (const byte of new TextEncoder().encode(v)) out += String.fromCharCode(byte);
  return out;
}

const UNCHANGED_BY_ENCODING = /^[A-Za-z0-9_.~-]*$/;

/**
 * How a secret looks after each encoding the relay (or an echoing target) applies to what the
 * relay sent: form-encoded (`+` and `%20` spaces, URLSearchParams' and encodeURIComponent's
 * sets), inside a JSON string (with `/` escaped or not), XML-escaped, and UTF-8 read as Latin-1.
 */
function encodedForms(v: string): string[] {
  // Letters, digits and `-_.~` read the same in every form below.
  if (UNCHANGED_BY_ENCODING.test(v)) return [v];
  if (BASE64_LIKE.test(v)) return base64Forms(v);
  return allForms(v);
}

/** Base64 (a PEM key's lines, credentials) and its percent-encoding: `+/=%` and letters, digits, `-_.`. */
const BASE64_LIKE = /^[A-Za-z0-9+/=%_.-]*$/;

/**
 * allForms() for a BASE64_LIKE value, made directly (a probe's start encodes a PEM key's 26 lines
 * this way): every form-encoding turns `+/=%` into the same `%XX` and leaves the rest, and the
 * JSON, XML and Latin-1 forms are the value itself, or with `/` escaped. Checked against
 * allForms() by shared/redact.test.ts.
 */
function base64Forms(v: string): string[] {
  const percent = v.replaceAll('%', '%25').replaceAll('+', '%2B').replaceAll('/', '%2F').replaceAll('=', '%3D');
  const slash = v.replaceAll('/', '\\/');
  return slash === v ? [percent, v] : [percent, v, slash];
}

function allForms(v: string): string[] {
  const form = new URLSearchParams([['', v]]).toString().slice(1);
  const json = JSON.stringify(v).slice(1, -1);
  const xml = v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return [
    encodeURIComponent(v),
    encodeURIComponent(v).replace(/%20/g, '+'),
    form,
    form.replace(/\+/g, '%20'),
    json,
    json.replace(/\//g, '\\/'),
    xml,
    xml.replace(/"/g, '&quot;').replace(/'/g, '&#39;'),
    // UTF-8 read as Latin-1: how a server decodes a header value (bytes on the wire) it echoes.
    latin1(v),
  ];
}

/**
 * The secret values a request carries, so they can be scrubbed wherever they show up again —
 * a target that echoes its request, an error message that quotes it — in every encoding the
 * relay gave them. Longest first, so a value is masked whole before any part of it is.
 * `names` are header, field or parameter names the user marked secret; `basic` are the
 * client_secret_basic pairs the relay turns into an `Authorization: Basic` header.
 * `encodings: false` leaves the encoded forms out, for values passed on to secretValues again.
 */
export function secretValues(req: { headers?: Record<string, string>; body?: string; url?: string; privateKeyPems?: string[]; extra?: string[]; names?: SecretNames; basic?: { user: string; password: string }[]; encodings?: boolean }): string[] {
  const names = req.names ?? [];
  const raw = new Set<string>();
  const add = (v: string | undefined) => {
    const t = v?.trim();
    if (t && t.length >= MIN_SECRET_LENGTH) raw.add(t);
  };
  for (const [name, value] of Object.entries(req.headers ?? {})) {
    if (!isSecretHeader(name) && !isSecretName(name, names)) continue;
    add(value);
    const credential = value.replace(/^\w+\s+/, ''); // the credential after "Bearer " / "Basic "
    add(credential);
    if (/^basic\s/i.test(value)) {
      // An echo may decode it: "id:secret", and the secret alone.
      const decoded = fromBase64Utf8(credential.trim());
      if (decoded !== undefined) {
        add(decoded);
        const password = decoded.slice(decoded.indexOf(':') + 1);
        add(password);
        try {
          add(decodeURIComponent(password.replace(/\+/g, ' ')));
        } catch {
          // not form-encoded
        }
      }
    }
  }
  if (req.body) {
    for (const [k, v] of new URLSearchParams(req.body)) if (isSecretName(k, names)) add(v);
    try {
      const json: unknown = JSON.parse(req.body);
      collectSecretFields(json, add, 0, names);
    } catch {
      // not JSON
    }
  }
  if (req.url) {
    const q = req.url.indexOf('?');
    if (q >= 0) for (const [k, v] of new URLSearchParams(req.url.slice(q + 1).split('#')[0])) if (isSecretName(k, names)) add(v);
  }
  for (const pem of req.privateKeyPems ?? []) {
    for (const line of pem.split(/\r?\n/)) if (!line.startsWith('-----') && line.length >= 16) add(line);
  }
  for (const v of req.extra ?? []) add(v);
  for (const { password } of req.basic ?? []) add(password);
  const out = new Set<string>(raw);
  for (const { user, password } of req.basic ?? []) {
    // As the relay builds it (each part form-encoded) and as a careless client would.
    for (const b of [basicCredential(user, password), base64Utf8(`${user}:${password}`)]) out.add(b);
  }
  // Two levels: an echo can encode what the relay already encoded (a form body quoted in a form).
  // `encodings: false` when the caller passes the values on to secretValues itself. Most forms of
  // a value are the value itself (a key's base64 lines differ only in `+`, `/` and `=`): each
  // distinct form is encoded once, which keeps a probe's start from spending a millisecond on
  // the same strings (a PEM key has some 26 lines, nine forms each, nine again for each form).
  if (req.encodings !== false) {
    const formsOf = new Map<string, string[]>();
    const forms = (v: string) => {
      let f = formsOf.get(v);
      if (!f) formsOf.set(v, (f = [...new Set(encodedForms(v))]));
      return f;
    };
    for (const v of raw) {
      for (const once of forms(v)) {
        out.add(once);
        for (const twice of forms(once)) out.add(twice);
      }
    }
  }
  return [...out].filter((v) => v.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

function collectSecretFields(v: unknown, add: (s: string) => void, depth: number, names: SecretNames): void {
  if (depth > MAX_DEPTH || !v || typeof v !== 'object') return;
  for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
    if (typeof child === 'string' && (isSecretField(k) || isSecretHeader(k) || isSecretName(k, names))) add(child);
    else collectSecretFields(child, add, depth + 1, names);
  }
}

/** Replaces every occurrence of the given secret values in all strings of `value`. */
export function scrubDeep<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  // A string shorter than the shortest secret cannot hold one: most strings of an event (labels,
  // codes, names) are passed over without a search for each of the hundred-odd encoded values.
  return scrubValue(value, secrets, shortestOf(secrets), 0);
}

function scrubValue<T>(value: T, secrets: readonly string[], shortest: number, depth: number): T {
  if (depth > MAX_DEPTH) return '[too deep]' as unknown as T;
  if (typeof value === 'string') return scrubString(value, secrets, shortest) as unknown as T;
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, secrets, shortest, depth + 1)) as unknown as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = scrubValue(v, secrets, shortest, depth + 1);
    return out as T;
  }
  return value;
}

function scrubString(value: string, secrets: readonly string[], shortest: number): string {
  if (value.length < shortest) return value;
  let out = value;
  for (const s of secrets) if (s.length <= out.length && out.includes(s)) out = out.split(s).join(MASK);
  return out;
}

/**
 * scrubDeep(redactDeep(value), secrets) in one pass that shares what neither changes: a run's
 * steps are mostly evidence with nothing to hide, and copying each of their objects twice was a
 * fifth of what a probe allocated. The result may therefore be, or hold, parts of `value`: treat
 * both as read-only (a run's recorded steps are: the recorder replaces a step, never edits it).
 * Objects that are not plain (a Map, a Uint8Array) are copied into plain ones, as redactDeep does.
 */
export function cleanDeep<T>(value: T, secrets: readonly string[]): T {
  return cleanValue(value, secrets, shortestOf(secrets), 0) as T;
}

function shortestOf(secrets: readonly string[]): number {
  let shortest = Infinity;
  for (const s of secrets) if (s.length < shortest) shortest = s.length;
  return shortest;
}

function cleanValue(value: unknown, secrets: readonly string[], shortest: number, depth: number): unknown {
  if (depth > MAX_DEPTH) return '[too deep]';
  if (typeof value === 'string') return scrubString(redactText(value), secrets, shortest);
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const c = cleanValue(v, secrets, shortest, depth + 1);
      if (!out && c !== v) out = value.slice(0, i);
      out?.push(c);
    }
    return out ?? value;
  }
  if (value && typeof value === 'object') {
    const proto: unknown = Object.getPrototypeOf(value);
    const plain = proto === Object.prototype || proto === null;
    const source = value as Record<string, unknown>;
    const keys = Object.keys(source);
    let out: Record<string, unknown> | undefined = plain ? undefined : {};
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const v = source[k];
      const rule = memberRule(k, v);
      const c = rule === 'mask' ? scrubString(MASK, secrets, shortest)
        : rule === 'names' ? scrubValue(redactNameMap(v as Record<string, unknown>), secrets, shortest, depth + 1)
        : cleanValue(v, secrets, shortest, depth + 1);
      if (!out && c !== v) {
        out = {};
        for (let j = 0; j < i; j++) out[keys[j]!] = source[keys[j]!];
      }
      if (out) out[k] = c;
    }
    return out ?? value;
  }
  return value;
}
