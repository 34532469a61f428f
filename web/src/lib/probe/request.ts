import { FIELD_LIMITS, type ProbeRequest } from '../../../../shared/protocol/index.ts';
import { pemBlocks } from '../keys/pem.ts';

export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;
export type Method = (typeof METHODS)[number];

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** "Name: value" per line; blank lines ignored. */
export function parseHeaderLines(text: string): Parsed<Record<string, string>> {
  const headers: Record<string, string> = {};
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line) continue;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      return { ok: false, message: `Header line ${index + 1} is not "Name: value".` };
    }
    headers[name] = line.slice(colon + 1).trim();
  }
  return { ok: true, value: headers };
}

export function checkTargetUrl(text: string): Parsed<string> {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return { ok: false, message: 'Enter a full URL, e.g. https://partner.example:8443/orders' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { ok: false, message: `The relay probes https:// URLs (and http:// for comparison), not ${url.protocol}` };
  }
  return { ok: true, value: url.href };
}

interface ProbeInput {
  url: string;
  method: Method;
  headersText: string;
  body: string;
  /** PEM CAs to trust for the server instead of the system store; blank for the system store. */
  caPem?: string;
  /** False: a server that fails verification is reported as a warning and the run goes on. */
  verifyServer?: boolean;
  /** False: do not trust the lab's server CA for lab targets. */
  trustLab?: boolean;
  /** Header, form-field or query-parameter names to treat as secret, separated by commas or spaces. */
  secretNamesText?: string;
}

/** "X-Partner-Key, pin": names the relay masks and scrubs like its built-in secret names. */
export function parseSecretNames(text: string): Parsed<string[]> {
  const names = text.split(/[\s,]+/).filter(Boolean);
  if (names.length > FIELD_LIMITS.secretNames) return { ok: false, message: `At most ${FIELD_LIMITS.secretNames} secret names.` };
  const bad = names.find((n) => n.length > FIELD_LIMITS.secretName || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(n));
  if (bad !== undefined) return { ok: false, message: `"${bad.slice(0, 40)}" is not a header, field or parameter name (letters, digits and -_.; at most ${FIELD_LIMITS.secretName} characters).` };
  return { ok: true, value: names };
}

/** Only the CERTIFICATE blocks of a pasted bundle; anything else in it is refused by name. */
export function checkCaBundle(text: string): Parsed<string | undefined> {
  if (!text.trim()) return { ok: true, value: undefined };
  const blocks = pemBlocks(text);
  const other = blocks.find((b) => b.label !== 'CERTIFICATE');
  if (other) return { ok: false, message: `The server CA bundle holds a ${other.label}; it takes CA certificates only.` };
  if (!blocks.length) return { ok: false, message: 'The server CA bundle has no PEM certificate: paste text starting with -----BEGIN CERTIFICATE-----.' };
  return { ok: true, value: blocks.map((b) => b.text).join('') };
}

/** Builds the request without the client credentials, which are added at the last moment. */
export function buildProbeRequest(input: ProbeInput): Parsed<ProbeRequest> {
  const url = checkTargetUrl(input.url);
  if (!url.ok) return url;
  const headers = parseHeaderLines(input.headersText);
  if (!headers.ok) return headers;
  const probe: ProbeRequest = { url: url.value, method: input.method };
  if (Object.keys(headers.value).length) probe.headers = headers.value;
  if (input.body && input.method !== 'GET' && input.method !== 'HEAD') probe.body = input.body;
  const ca = checkCaBundle(input.caPem ?? '');
  if (!ca.ok) return ca;
  if (ca.value) probe.caPem = ca.value;
  if (input.verifyServer === false) probe.verifyServer = false;
  if (input.trustLab === false) probe.trustLab = false;
  const secretNames = parseSecretNames(input.secretNamesText ?? '');
  if (!secretNames.ok) return secretNames;
  if (secretNames.value.length) probe.secretNames = secretNames.value;
  return { ok: true, value: probe };
}
