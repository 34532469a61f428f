// XML re-indented for reading (cXML, SOAP), in time and output proportional to the input. The
// former tokenizer was a regex whose lazy and `[^>]*` parts re-scanned to the end of the text
// from every unterminated `<!--` or `<a`, and the indentation grew with the square of the
// nesting; a hostile body could freeze the page showing it.
import { FORMAT_LIMITS } from './format-body.ts';

type Kind = 'open' | 'close' | 'empty' | 'other' | 'text';

function kindOf(token: string): Kind {
  if (!token.startsWith('<')) return 'text';
  if (token.startsWith('</')) return 'close';
  if (token.startsWith('<?') || token.startsWith('<!')) return 'other';
  if (token.endsWith('/>')) return 'empty';
  return token.length > 1 ? 'open' : 'text';
}

const NAME_START = /[A-Za-z_:]/;

/**
 * Comments, CDATA, processing instructions, declarations, tags and text, each found with one
 * forward search. Null when a construct is not terminated (then the body is shown as it came).
 */
export function xmlTokens(xml: string): string[] | null {
  const tokens: string[] = [];
  const after = (close: string, from: number) => {
    const at = xml.indexOf(close, from);
    return at < 0 ? -1 : at + close.length;
  };
  let i = 0;
  while (i < xml.length) {
    if (xml[i] !== '<') {
      const next = xml.indexOf('<', i);
      const end = next < 0 ? xml.length : next;
      tokens.push(xml.slice(i, end));
      i = end;
      continue;
    }
    let end: number;
    if (xml.startsWith('<!--', i)) end = after('-->', i + 4);
    else if (xml.startsWith('<![CDATA[', i)) end = after(']]>', i + 9);
    else if (xml.startsWith('<?', i)) end = after('?>', i + 2);
    else if (xml.startsWith('<!', i) || NAME_START.test(xml[i + 1] ?? '') || (xml[i + 1] === '/' && NAME_START.test(xml[i + 2] ?? ''))) end = after('>', i + 1);
    else end = i + 1; // a lone "<"
    if (end < 0) return null;
    tokens.push(xml.slice(i, end));
    i = end;
  }
  return tokens;
}

/**
 * Re-indents XML two spaces a level, keeping `<a>text</a>` on one line. Whitespace-only text
 * between tags is dropped (it is layout, not data, in the documents people send here: cXML,
 * SOAP). Returns null when the tags do not nest, nest deeper than FORMAT_LIMITS.maxDepth, or the
 * result would pass `maxBytes` characters, so such XML is shown as it came.
 */
export function indentXml(xml: string, maxBytes: number = FORMAT_LIMITS.maxIndentedBytes): string | null {
  const tokens = xmlTokens(xml);
  if (!tokens) return null;
  const lines: string[] = [];
  const stack: string[] = [];
  let size = 0;
  const push = (text: string): boolean => {
    const line = '  '.repeat(stack.length) + text;
    size += line.length + 1;
    lines.push(line);
    return size <= maxBytes;
  };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const kind = kindOf(token);
    if (kind === 'text') {
      const text = token.trim();
      if (text && !push(text)) return null;
      continue;
    }
    if (kind === 'close') {
      const name = token.slice(2, -1).trim();
      if (stack.pop() !== name) return null;
      if (!push(token)) return null;
      continue;
    }
    if (kind === 'open') {
      const name = /^<([^\s/>]+)/.exec(token)?.[1] ?? '';
      const next = tokens[i + 1];
      const after = tokens[i + 2];
      // <a></a> and <a>short text</a> stay on one line.
      if (next !== undefined && kindOf(next) === 'close' && next.slice(2, -1).trim() === name) {
        if (!push(token + next)) return null;
        i += 1;
        continue;
      }
      if (next !== undefined && kindOf(next) === 'text' && !next.includes('\n') && after !== undefined && kindOf(after) === 'close' && after.slice(2, -1).trim() === name) {
        if (!push(token + next.trim() + after)) return null;
        i += 2;
        continue;
      }
      if (!push(token)) return null;
      stack.push(name);
      if (stack.length > FORMAT_LIMITS.maxDepth) return null;
      continue;
    }
    if (!push(token.trim())) return null;
  }
  return stack.length === 0 && lines.length > 0 ? lines.join('\n') : null;
}
