// Certificates inside JSON: API responses and config files carry PEM as JSON strings
// (`"-----BEGIN CERTIFICATE-----\r\nMII…"`), and JWKS carry base64 DER in `x5c`. Every string
// anywhere in the document is looked at, and each find keeps its path (`entities[0].certificate`,
// `keys[0].x5c[1]`) so the user can tell which entry it was.
import { classifyDer, readTlv } from './der.ts';
import { fromBase64 } from './encoding.ts';
import { looksLikePem } from './pem.ts';

interface JsonFind {
  /** JSONPath-like location, e.g. `entities[0].certificate`; `$` for a top-level string. */
  path: string;
  /** A string holding one or more PEM blocks. */
  pem?: string;
  /** A base64 string holding one DER certificate (JWK `x5c`). */
  der?: Uint8Array;
  /** The `name` (or `label`, `alias`, `title`) of the object holding it, e.g. `upcoming`: what the sender called it. */
  name?: string;
}

interface JsonScan {
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

/** Fields that name an entry of a JSON bundle, most telling first. */
const NAME_FIELDS = ['name', 'label', 'alias', 'title'] as const;
/** A name longer than this is cut: it is shown next to the certificate, not read. */
const MAX_NAME_CHARS = 80; // characters

function nameOf(object: Record<string, unknown>): string | undefined {
  for (const field of NAME_FIELDS) {
    const value = object[field];
    if (typeof value === 'string' && value.trim() && !looksLikePem(value)) return value.trim().slice(0, MAX_NAME_CHARS);
  }
  return undefined;
}

export function findPemsInJson(text: string): JsonScan {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    return { parsed: false, finds: [] };
  }
  const finds: JsonFind[] = [];
  const visit = (value: unknown, path: string, depth: number, name: string | undefined): void => {
    if (depth > MAX_DEPTH) return;
    const named = name === undefined ? {} : { name };
    if (typeof value === 'string') {
      if (looksLikePem(value)) finds.push({ path, pem: value, ...named });
      else {
        const der = derCertificate(value);
        if (der) finds.push({ path, der, ...named });
      }
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, `${path === '$' ? '' : path}[${i}]`, depth + 1, name));
    } else if (value && typeof value === 'object') {
      const own = nameOf(value as Record<string, unknown>) ?? name;
      for (const [key, item] of Object.entries(value)) visit(item, member(path, key), depth + 1, own);
    }
  };
  visit(root, '$', 0, undefined);
  return { parsed: true, finds };
}
