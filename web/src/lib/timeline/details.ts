// Turns a step's structured `details` into labelled rows. Known keys get readable labels and
// shapes (certificate chains, headers, timings); anything else is shown as it came.

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
);

const LABELS: Record<string, string> = {
  clientCertificate: 'Client certificate',
  chainToSend: 'Chain to send',
  daysLeft: 'Days left',
  extendedKeyUsage: 'Extended key usage',
  keyType: 'Key type',
  problems: 'Problems',
  addresses: 'Addresses',
  address: 'Address',
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
  timings: 'Timings',
  error: 'Error',
  code: 'Error code',
  diagnosis: 'Diagnosis',
};

const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
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
  if (LABELS[key]) return LABELS[key];
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
const PRIMARY: Partial<Record<string, readonly string[]>> = {
  inputs: ['clientCertificate', 'chainToSend', 'extendedKeyUsage', 'daysLeft', 'problems'],
  tls: ['certificateRequested', 'acceptableCAs', 'clientCertificateSent', 'sentChain', 'serverChain', 'serverVerified', 'serverVerifyError', 'error', 'code'],
  request: ['method', 'path', 'headers', 'bodyBytes'],
  response: ['status', 'body', 'error', 'code'],
};

/** Splits details into the primary evidence for the phase and the rest. */
export function splitDetails(phase: string, details: Record<string, unknown>): { primary: DetailEntry[]; rest: DetailEntry[] } {
  const entries = detailEntries(details);
  const keys = PRIMARY[phase];
  if (!keys) return { primary: entries, rest: [] };
  // An empty field ("none") says nothing at first glance; it stays among the rest.
  const isPrimary = (e: DetailEntry) => keys.includes(e.key) && details[e.key] !== null && details[e.key] !== undefined;
  const primary = entries.filter(isPrimary).sort((a, b) => keys.indexOf(a.key) - keys.indexOf(b.key));
  return { primary, rest: entries.filter((e) => !isPrimary(e)) };
}

export function detailEntries(details: Record<string, unknown>): DetailEntry[] {
  return Object.entries(details).map(([key, value]): DetailEntry => {
    const base = { key, label: label(key) };
    if (isCertificate(value)) return { ...base, kind: 'list', items: [certificateItem(value)] };
    if (Array.isArray(value)) {
      if (value.length === 0) return { ...base, kind: 'text', text: 'none' };
      if (value.every(isCertificate)) return { ...base, kind: 'list', items: value.map(certificateItem) };
      if (value.every((v) => typeof v === 'string' || typeof v === 'number')) {
        const strings = value.map(String);
        if (CHAIN_KEYS.has(key)) {
          return { ...base, kind: 'list', items: strings.map((text, i) => ({ text: i === 0 ? text : `← ${text}` })) };
        }
        if (key === 'extendedKeyUsage') return { ...base, kind: 'text', text: strings.map((oid) => EKU_NAMES[oid] ?? oid).join(', ') };
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
  });
}
