// Reading what an authorization server or API said when it refused: the RFC 6749 §5.2 error
// body, and RFC 6750 / RFC 7235 WWW-Authenticate challenges.
import type { DiagnosisCode } from '../diagnoses.ts';

export interface OAuthError {
  error: string;
  description?: string;
  uri?: string;
}

/**
 * What an error_description can say beyond its error name: servers answer many refusals with
 * invalid_request (or a name of their own), and the description then names the real cause.
 * Matched in order; `grants` limits a hint to the grants where it can apply.
 */
const DESCRIPTION_HINTS = [
  { pattern: /grant[ _-]?types?\b.{0,40}\bnot (allowed|authori[sz]ed|permitted|enabled)|not (allowed|authori[sz]ed|permitted) to use (this|the) grant/i, code: 'grant_not_allowed_for_client', means: 'the client may not use this grant type' },
  { pattern: /unsupported grant[ _-]?type|grant[ _-]?type.{0,40}\bnot supported/i, code: 'grant_type_not_supported', means: 'the server does not support this grant type' },
  { pattern: /\b(resource|audience)\b.{0,40}\b(invalid|unknown|not (allowed|permitted|registered|recogni[sz]ed))|\b(invalid|unknown) (resource|audience)/i, code: 'resource_target_rejected', means: 'the requested resource or audience is refused' },
  { pattern: /\b(invalid|unknown|unsupported) scopes?\b|\bscopes?\b.{0,40}\b(invalid|unknown|not (allowed|permitted|supported))/i, code: 'scope_rejected', means: 'the requested scope is refused' },
  { pattern: /redirect_uri|code_verifier|\bPKCE\b/i, code: 'authorization_code_rejected', means: 'the code exchange does not match the authorization request', grants: ['authorization_code'] },
] as const satisfies readonly { pattern: RegExp; code: DiagnosisCode; means: string; grants?: readonly string[] }[];

type DescriptionHint = (typeof DESCRIPTION_HINTS)[number];

/** The hint an error_description gives for this grant, if any. */
export function descriptionHint(e: OAuthError | null, grant: string): DescriptionHint | undefined {
  const text = e?.description;
  if (!text) return undefined;
  return DESCRIPTION_HINTS.find((h) => (!('grants' in h) || (h.grants as readonly string[]).includes(grant)) && h.pattern.test(text));
}

function fromRecord(o: Record<string, unknown>): OAuthError | null {
  if (typeof o.error !== 'string' || o.error === '') return null;
  const out: OAuthError = { error: o.error };
  if (typeof o.error_description === 'string') out.description = o.error_description;
  if (typeof o.error_uri === 'string') out.uri = o.error_uri;
  return out;
}

/** The error in a token endpoint response body: JSON (the standard) or a form-encoded body (some gateways). */
export function parseOAuthError(body: string, contentType = ''): OAuthError | null {
  const text = body.trim();
  if (text.startsWith('{')) {
    try {
      const json: unknown = JSON.parse(text);
      return json && typeof json === 'object' && !Array.isArray(json) ? fromRecord(json as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }
  if (contentType.includes('x-www-form-urlencoded') || /^error=/.test(text)) {
    return fromRecord(Object.fromEntries(new URLSearchParams(text)));
  }
  return null;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="api", error="invalid_token", error_description="expired"`; several challenges allowed. */
export function parseWwwAuthenticate(value: string | string[] | undefined): Challenge[] {
  const text = Array.isArray(value) ? value.join(', ') : value ?? '';
  const out: Challenge[] = [];
  // A scheme is a token not followed by "="; parameters are token=token or token="quoted".
  const re = /([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*))?\s*,?\s*/g;
  let current: Challenge | undefined;
  for (let m = re.exec(text); m && m[0] !== ''; m = re.exec(text)) {
    const [, name, raw] = m as unknown as [string, string, string | undefined];
    if (raw === undefined) {
      current = { scheme: name, params: {} };
      out.push(current);
    } else if (current) {
      current.params[name.toLowerCase()] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    }
  }
  return out;
}

export function describeOAuthError(e: OAuthError): string {
  return `${e.error}${e.description ? `: ${e.description}` : ''}`;
}
