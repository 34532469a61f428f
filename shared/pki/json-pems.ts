// Certificates inside JSON: API responses and config files carry PEM as JSON strings
// (`"-----BEGIN CERTIFICATE-----\r\nMII…"`), and JWKS carry base64 DER in `x5c`. Every string
// anywhere in the document is looked at, and each find keeps its path (`entities[0].certificate`,
// `keys[0].x5c[1]`) so the user can tell which entry it was.
import { classifyDer, readTlv } from './der.ts';
import { fromBase64 } from './encoding.ts';
import { looksLikePem } from './pem.ts';

export interface JsonFind {
  /** JSONPath-like location, e.g. `entities[0].certificate`; `$` for a top-level string. */
  path: string;
  /** A string holding one or more PEM blocks. */
  pem?: string;
  /** A base64 string holding one DER certificate (JWK `x5c`). */
  der?: Uint8Array;
}

export interface JsonScan {
  /** False when the text is not valid JSON (nothing was found then). */
  parsed: boolean;
  finds: JsonFind[];
}

export function looksLikeJson(text: string): boolean {
  return /^\s*[[{]/.test(text);
}

function member(path: string, key: string): string {
  const name = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (path === '$') return name.startsWith('[') ? `$${name}` : name;
  return name.startsWith('[') ? `${path}${name}` : `${path}.${name}`;
}

function derCertificate(value: string): Uint8Array | null {
  if (value.length < 64 || !/^[A-Za-z0-9+/=\s]+$/.test(value)) return null;
  const der = fromBase64(value);
  if (!der || der[0] !== 0x30) return null;
  try {
    return readTlv(der).end === der.length && classifyDer(der) === 'certificate' ? der : null;
  } catch {
    return null;
  }
}

const MAX_DEPTH = 100;

export function findPemsInJson(text: string): JsonScan {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    return { parsed: false, finds: [] };
  }
  const finds: JsonFind[] = [];
  const visit = (value: unknown, path: string, depth: number): void => {
    if (depth > MAX_DEPTH) return;
    if (typeof value === 'string') {
      if (looksLikePem(value)) finds.push({ path, pem: value });
      else {
        const der = derCertificate(value);
        if (der) finds.push({ path, der });
      }
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, `${path === '$' ? '' : path}[${i}]`, depth + 1));
    } else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) visit(item, member(path, key), depth + 1);
    }
  };
  visit(root, '$', 0);
  return { parsed: true, finds };
}
