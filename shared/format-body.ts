// A response body as shown in a step: JSON indented, form bodies and text redacted, and the
// result bounded. Indenting multiplies: 128 KB of arrays nested 4,000 deep became one 512 MB
// event (each of 60,000 values on its own line behind up to 8,000 spaces). So the shape is
// measured first, and a body too deep, too large or too big once indented is shown as it came,
// redacted and cut, with a note saying why.
import { redactDeep, redactForm, redactText, type SecretNames } from './redact.ts';

export const FORMAT_LIMITS = {
  /** Deepest nesting indented; deeper bodies are shown raw. Matches redactDeep's depth bound. */
  maxDepth: 32, // levels
  /** Most values (objects, arrays, strings, numbers…) indented; more are shown raw. */
  maxValues: 20_000, // values
  /** Largest text the browser builds when it re-indents a body (JSON or XML) it shows. */
  maxIndentedBytes: 1024 * 1024, // bytes
} as const;

interface FormattedBody {
  text: string;
  /** Why the body is not shown indented, or was cut; absent when shown whole and formatted. */
  note?: string;
}

/**
 * `body` for display, at most `maxBytes` bytes of UTF-8 whatever the target sent. Secrets are
 * masked (JSON by field name, forms by field name and `secretNames`, text by shape) before any
 * cut; values the request carried are scrubbed by value later, wherever they are.
 */
export function formatBody(body: string, contentType: string | undefined, maxBytes: number, secretNames: SecretNames = []): FormattedBody {
  const type = (contentType ?? '').toLowerCase();
  const looksJson = type.includes('json') || /^\s*[{[]/.test(body.slice(0, 64));
  if (looksJson) {
    // Too deep or too many values shows raw anyway: a linear scan says so without parsing (a
    // 128 KB body of 60,000 nested arrays costs a parse and a collection otherwise).
    const over = scanJson(body, FORMAT_LIMITS.maxDepth, FORMAT_LIMITS.maxValues);
    if (over) return raw(body, maxBytes, `not indented: ${over}`);
    let json: unknown;
    let parsed = true;
    try {
      json = JSON.parse(body);
    } catch {
      parsed = false;
    }
    if (parsed) {
      const indented = indentJson(json, body.length, maxBytes, redactDeep);
      return 'text' in indented ? indented : raw(body, maxBytes, `not indented: ${indented.why}`);
    }
  }
  if (type.includes('application/x-www-form-urlencoded')) return cut(redactForm(body, secretNames), maxBytes);
  return cut(redactText(body), maxBytes);
}

/**
 * `json` indented two spaces a level, after `prepare` (redaction), or why not: nested deeper
 * than FORMAT_LIMITS.maxDepth, more than maxValues values, or past `maxBytes` once indented.
 * `rawLength` is the length of the text it was parsed from. Work and output stay in proportion
 * to the input: the shape is measured before anything is built.
 */
export function indentJson(json: unknown, rawLength: number, maxBytes: number, prepare: (v: unknown) => unknown = (v) => v): { text: string } | { why: string } {
  const shape = measure(json, FORMAT_LIMITS.maxDepth, FORMAT_LIMITS.maxValues);
  if (shape.over) return { why: shape.over };
  if (shape.indentedBytes + rawLength > maxBytes) return { why: `indented it would pass ${maxBytes} bytes` };
  const text = JSON.stringify(prepare(json), null, 2);
  return utf8Length(text) <= maxBytes ? { text } : { why: `indented it would pass ${maxBytes} bytes` };
}

function raw(body: string, maxBytes: number, note: string): FormattedBody {
  const shown = cut(redactText(body), maxBytes);
  return { text: shown.text, note: shown.note ? `${note}; ${shown.note}` : note };
}

/** Cuts `text` to `maxBytes` of UTF-8 on a character boundary. */
function cut(text: string, maxBytes: number): FormattedBody {
  // Each UTF-16 unit is at most 3 bytes: short texts need no counting.
  if (text.length * 3 <= maxBytes || utf8Length(text) <= maxBytes) return { text };
  let shown = new TextDecoder().decode(new TextEncoder().encode(text).subarray(0, maxBytes));
  // A character split by the cut decodes as U+FFFD, which can be longer than its part.
  while (shown.endsWith('\uFFFD') && utf8Length(shown) > maxBytes) shown = shown.slice(0, -1);
  return { text: shown, note: `cut to the first ${maxBytes} bytes for display` };
}

/** UTF-8 length of `text` without encoding it (a lone surrogate is encoded as U+FFFD: 3 bytes). */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

interface Shape {
  /** The first limit passed, if any. */
  over?: string;
  /** Bytes the indentation and line breaks would add. */
  indentedBytes: number;
}

/** Walks `json` without recursion (a deep body must not overflow the stack), stopping at a limit. */
function measure(json: unknown, maxDepth: number, maxValues: number): Shape {
  const stack: [unknown, number][] = [[json, 0]];
  let values = 0;
  let indentedBytes = 0;
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (depth > maxDepth) return { over: `nested deeper than ${maxDepth} levels`, indentedBytes };
    if (++values > maxValues) return { over: `more than ${maxValues} values`, indentedBytes };
    // A line break, the indentation, and ": " after a key (or a mask wider than the value).
    indentedBytes += 2 * depth + 10;
    if (v && typeof v === 'object') {
      const children = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
      for (const child of children) stack.push([child, depth + 1]);
      indentedBytes += 2 * depth + 2; // the closing bracket's line
    }
  }
  return { indentedBytes };
}

/**
 * Whether JSON text nests deeper than `maxDepth` or holds more than `maxValues` values (counted
 * as openings and separators, an upper bound), in one pass that skips strings; null when neither.
 */
function scanJson(text: string, maxDepth: number, maxValues: number): string | null {
  let depth = 0;
  let values = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: skip to its closing quote, past escapes.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return `nested deeper than ${maxDepth} levels`;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    } else if (c === 0x2c && ++values > maxValues) {
      return `more than ${maxValues} values`;
    }
  }
  return null;
}
