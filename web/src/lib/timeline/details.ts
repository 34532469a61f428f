// Turns a step's structured `details` into labelled rows. Known keys get readable labels and
// shapes (certificate chains, headers, timings; for token flows the HTTP exchange as sent, the
// decoded JWTs and the curl command); anything else is shown as it came.
import type { EvidenceField, ProbePhase } from '../../../../shared/protocol/index.ts';

export interface DetailItem {
  text: string;
  note?: string;
}

export type DetailEntry = { key: string; label: string } & (
  | { kind: 'text'; text: string }
  | { kind: 'list'; items: DetailItem[] }
  | { kind: 'inline'; items: string[] }
  | { kind: 'pairs'; pairs: Array<[string, string]> }
  | { kind: 'block'; text: string }
  /** An HTTP request or response as text, the way it went over the wire (secrets already masked). */
  | { kind: 'http'; text: string }
  /** A command to copy (curl). */
  | { kind: 'command'; text: string }
  /** A decoded JWT: header, claims, times, and what the relay found (lint, verification). */
  | { kind: 'jwt'; jwt: JwtDetail }
);

export interface JwtDetail {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  times: Record<string, string>;
  /** Null when the relay did not lint this JWT (tokens it received rather than sent). */
  lint: { code: string; severity: string; message: string }[] | null;
  verification: { verified: boolean; keyId?: string; code?: string; message?: string } | null;
  binding: Record<string, unknown> | null;
}

/** Labels of evidence fields, checked against the types (a field no phase has is a compile error). */
const LABELS: { [K in EvidenceField]?: string } = {
  clientCertificate: 'Client certificate',
  chainToSend: 'Chain to send',
  daysLeft: 'Days left',
  keyType: 'Key type',
  problems: 'Problems',
  addresses: 'Addresses',
  localPort: 'Local port',
  protocol: 'Protocol',
  cipher: 'Cipher suite',
  group: 'Key exchange',
  alpn: 'ALPN',
  sessionReused: 'Session resumed',
  servername: 'SNI name',
  serverVerified: 'Server certificate verified',
  serverVerifyError: 'Server verification error',
  certificateRequested: 'Server asked for a client certificate',
  acceptableCAs: 'Client CAs the server accepts',
  clientCertificateSent: 'Client certificate sent',
  sentChain: 'Client chain sent',
  serverChain: 'Server chain received',
  trust: 'Trusted for the server',
  method: 'Method',
  path: 'Path',
  headers: 'Headers',
  bodyBytes: 'Body bytes',
  status: 'HTTP status',
  body: 'Body',
  truncated: 'Body truncated',
  bodyNote: 'Body shown',
  timings: 'Timings',
  error: 'Error',
  diagnosis: 'Diagnosis',
  trustedCAs: 'CAs the listener trusts',
  verified: 'Verified',
  verifyDepth: 'Verify depth limit',
  depth: 'CAs above the client certificate',
  authorized: 'Node accepted the chain',
  authorizationError: 'Node verification error',
  presented: 'Client sent a certificate',
  chainSource: 'Chain read from',
  remoteAddress: 'Client address',
  remotePort: 'Client port',
  localAddress: 'Listener address',
  clientBytes: 'Bytes from the client',
  matched: 'Rule matched',
  request: 'Request as sent',
  response: 'Response',
  connection: 'Connection',
  curl: 'As a curl command',
  urls: 'URLs',
  authMethod: 'Client authentication',
  clientId: 'Client id',
  fieldNames: 'Form field names',
  headerNames: 'Header names',
  redirectUri: 'Redirect URI',
  pkce: 'PKCE',
  authorizationUrl: 'Authorization URL',
  codeChallengeMethod: 'Code challenge method',
  waitMs: 'Waits for the redirect (ms)',
  stateSent: 'State sent',
  stateReturned: 'State returned',
  iss: 'iss in the redirect',
  query: 'Redirect query',
  clientAssertion: 'Client assertion',
  grantAssertion: 'Assertion (grant)',
  jwtToken: 'JWT sent (jwt_token)',
  accessToken: 'Access token',
  idToken: 'ID token',
  tokenType: 'Token type',
  expiresIn: 'Expires in (s)',
  expiresAt: 'Expires at',
  refreshTokenIssued: 'Refresh token issued',
  idTokenIssued: 'ID token issued',
  jwks: "Server's JWKS",
  attempts: 'Discovery attempts',
  metadata: 'Metadata',
};

/** Chains read leaf to root, the way a TLS peer sends them. */
const CHAIN_KEYS = new Set(['chainToSend', 'sentChain']);

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCertificate(v: unknown): v is Obj & { subject: string; issuer: string } {
  return isObj(v) && typeof v.subject === 'string' && typeof v.issuer === 'string';
}

function day(v: unknown): string {
  return typeof v === 'string' ? v.slice(0, 10) : '?';
}

/** First and last bytes are enough to tell certificates apart on screen; the raw event has all. */
function shortFingerprint(hex: string): string {
  const bytes = hex.split(':');
  return bytes.length > 8 ? `${bytes.slice(0, 4).join(':')}…${bytes.slice(-2).join(':')}` : hex;
}

function certificateItem(cert: Obj & { subject: string; issuer: string }): DetailItem {
  const from = cert.notBefore ?? cert.validFrom;
  const to = cert.notAfter ?? cert.validTo;
  const issued = cert.selfSigned === true ? 'self-signed' : `issued by ${cert.issuer}`;
  const note = [issued, from || to ? `valid ${day(from)} → ${day(to)}` : '', typeof cert.fingerprint256 === 'string' ? `SHA-256 ${shortFingerprint(cert.fingerprint256)}` : '']
    .filter(Boolean)
    .join(' · ');
  return { text: cert.subject, note };
}

function label(key: string): string {
  const known = (LABELS as Partial<Record<string, string>>)[key];
  if (known) return known;
  const spaced = key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number' && !Number.isInteger(value)) return String(Math.round(value * 10) / 10);
  return String(value);
}

/**
 * The evidence that answers "what happened" for each phase, shown first; the other fields
 * are one click away. Phases not listed show everything.
 */
const PRIMARY: { [P in ProbePhase]?: readonly EvidenceField<P>[] } = {
  inputs: ['clientCertificate', 'chainToSend', 'daysLeft', 'problems', 'grant', 'clientId', 'authMethod', 'urls', 'fieldNames', 'headerNames', 'username', 'redirectUri', 'jwts', 'warnings'],
  tls: ['certificateRequested', 'acceptableCAs', 'clientCertificateSent', 'sentChain', 'serverChain', 'serverVerified', 'serverVerifyError', 'error'],
  request: ['method', 'path', 'headers', 'bodyBytes'],
  response: ['status', 'body', 'error'],
  discovery: ['attempts', 'keys', 'error'],
  authorize: ['authorizationUrl', 'redirectUri', 'state', 'codeChallengeMethod', 'scope', 'remarks'],
  callback: ['stateSent', 'stateReturned', 'iss', 'query'],
  exchange: ['clientAssertion', 'grantAssertion', 'jwtToken', 'request', 'response', 'error'],
  token: ['accessToken', 'idToken', 'tokenType', 'expiresIn', 'expiresAt', 'scope', 'refreshTokenIssued', 'remarks'],
  call: ['request', 'response', 'error'],
};

/** Splits details into the primary evidence for the phase and the rest. */
export function splitDetails(phase: ProbePhase, details: Record<string, unknown>): { primary: DetailEntry[]; rest: DetailEntry[] } {
  const entries = detailEntries(details);
  const keys: readonly string[] | undefined = PRIMARY[phase];
  if (!keys) return { primary: entries, rest: [] };
  // An empty field ("none") says nothing at first glance; it stays among the rest.
  const field = (e: DetailEntry) => e.key.split('.')[0]!;
  const isPrimary = (e: DetailEntry) => keys.includes(field(e)) && details[field(e)] !== null && details[field(e)] !== undefined;
  const primary = entries.filter(isPrimary).sort((a, b) => keys.indexOf(field(a)) - keys.indexOf(field(b)));
  return { primary, rest: entries.filter((e) => !isPrimary(e)) };
}

function jwtDetail(v: unknown): JwtDetail | null {
  if (!isObj(v) || !isObj(v.header) || !isObj(v.claims)) return null;
  const verification = isObj(v.verification) ? (v.verification as JwtDetail['verification']) : null;
  return {
    header: v.header,
    claims: v.claims,
    times: isObj(v.times) ? (v.times as Record<string, string>) : {},
    lint: Array.isArray(v.lint) ? (v.lint.filter((f) => isObj(f) && typeof f.code === 'string') as NonNullable<JwtDetail['lint']>) : null,
    verification,
    binding: isObj(v.binding) ? v.binding : null,
  };
}

function headerLines(headers: unknown): string {
  return isObj(headers) ? Object.entries(headers).map(([k, v]) => `${k}: ${scalar(v)}`).join('\n') : '';
}

/** A flow step's `request`: method, URL, headers and body exactly as sent (already masked). */
function httpRequest(v: Obj): string {
  const head = `${String(v.method)} ${String(v.url)}`;
  const headers = headerLines(v.headers);
  const body = typeof v.body === 'string' && v.body ? `\n\n${v.body}` : '';
  return `${head}${headers ? `\n${headers}` : ''}${body}`;
}

function httpResponse(v: Obj): string {
  const headers = headerLines(v.headers);
  const size = typeof v.bytes === 'number' ? ` · ${v.bytes} bytes${v.truncated === true ? ', truncated' : ''}` : '';
  const body = typeof v.body === 'string' && v.body ? `\n\n${v.body}` : '';
  return `HTTP ${String(v.status)}${size}${headers ? `\n${headers}` : ''}${body}`;
}

/** The connection of one HTTP call in a line per fact. */
function connectionItems(v: Obj): DetailItem[] {
  const items: DetailItem[] = [];
  if (typeof v.endpoint === 'string') items.push({ text: v.endpoint, note: v.tls === false ? 'plain HTTP' : [v.protocol, v.cipher].filter((x) => typeof x === 'string').join(' · ') });
  if (isCertificate(v.serverCertificate)) {
    const verified = v.serverVerified === true ? `verified (${scalar(v.trust)})` : `not verified${typeof v.serverVerifyError === 'string' ? `: ${v.serverVerifyError}` : ''}`;
    items.push({ text: `server ${v.serverCertificate.subject}`, note: `issued by ${v.serverCertificate.issuer} · ${verified}` });
  }
  if (v.certificateRequested === true) {
    const accepts = Array.isArray(v.acceptableCAs) && v.acceptableCAs.length ? `; accepts ${v.acceptableCAs.join(' · ')}` : '';
    const sent = v.clientCertificateSent === true ? `sent ${scalar(v.clientCertificateSubject)}` : 'none sent';
    items.push({ text: `server asked for a client certificate: ${sent}`, note: accepts.slice(2) || undefined } as DetailItem);
  }
  return items;
}

/** One detail that is a special shape for token flows, or null. */
function flowEntry(key: string, value: unknown, base: { key: string; label: string }): DetailEntry | null {
  if (key === 'request' && isObj(value) && typeof value.method === 'string' && typeof value.url === 'string') return { ...base, kind: 'http', text: httpRequest(value) };
  if (key === 'response' && isObj(value) && (typeof value.status === 'number' || typeof value.status === 'string')) return { ...base, kind: 'http', text: httpResponse(value) };
  if (key === 'curl' && typeof value === 'string') return { ...base, kind: 'command', text: value };
  if (key === 'connection' && isObj(value) && typeof value.endpoint === 'string') return { ...base, kind: 'list', items: connectionItems(value) };
  if (isObj(value) && value.format === 'opaque') return { ...base, kind: 'text', text: `opaque, ${scalar(value.length)} characters — the value stays on the relay` };
  const jwt = jwtDetail(value);
  if (jwt) return { ...base, kind: 'jwt', jwt };
  return null;
}

export function detailEntries(details: Record<string, unknown>): DetailEntry[] {
  return Object.entries(details).flatMap(([key, value]): DetailEntry[] => {
    // A flow's inputs decode every JWT it sends, by label.
    if (key === 'jwts' && isObj(value)) {
      return Object.entries(value).map(([name, jwt]) => {
        const entryKey = `jwts.${name}`;
        const decoded = jwtDetail(jwt);
        return decoded ? { key: entryKey, label: `JWT ${name}`, kind: 'jwt', jwt: decoded } : { key: entryKey, label: `JWT ${name}`, kind: 'text', text: scalar(jwt) };
      });
    }
    return [entry(key, value)];
  });
}

function entry(key: string, value: unknown): DetailEntry {
  {
    const base = { key, label: label(key) };
    const special = flowEntry(key, value, base);
    if (special) return special;
    if (isCertificate(value)) return { ...base, kind: 'list', items: [certificateItem(value)] };
    if (Array.isArray(value)) {
      if (value.length === 0) return { ...base, kind: 'text', text: 'none' };
      if (value.every(isCertificate)) return { ...base, kind: 'list', items: value.map(certificateItem) };
      if (value.every((v) => typeof v === 'string' || typeof v === 'number')) {
        const strings = value.map(String);
        if (CHAIN_KEYS.has(key)) {
          return { ...base, kind: 'list', items: strings.map((text, i) => ({ text: i === 0 ? text : `← ${text}` })) };
        }
        if (strings.length > 3 && strings.every((v) => v.length <= 32)) return { ...base, kind: 'inline', items: strings };
        return { ...base, kind: 'list', items: strings.map((text) => ({ text })) };
      }
      if (value.every((v) => isObj(v) && typeof v.message === 'string')) {
        return { ...base, kind: 'list', items: value.map((v) => ({ text: String((v as Obj).message), note: typeof (v as Obj).code === 'string' ? String((v as Obj).code) : undefined }) as DetailItem) };
      }
      return { ...base, kind: 'block', text: JSON.stringify(value, null, 2) };
    }
    if (isObj(value)) {
      const flat = Object.values(value).every((v) => v === null || typeof v !== 'object');
      if (!flat) return { ...base, kind: 'block', text: JSON.stringify(value, null, 2) };
      if (key === 'timings') {
        return { ...base, kind: 'text', text: Object.entries(value).map(([k, v]) => `${label(k.replace(/Ms$/, '')).toLowerCase()} ${scalar(v)} ms`).join(' · ') };
      }
      return { ...base, kind: 'pairs', pairs: Object.entries(value).map(([k, v]) => [k, scalar(v)]) };
    }
    if (typeof value === 'string' && (value.length > 120 || value.includes('\n'))) return { ...base, kind: 'block', text: value };
    return { ...base, kind: 'text', text: scalar(value) };
  }
}
