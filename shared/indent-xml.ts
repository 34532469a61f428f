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
 * Where each token ends: comments, CDATA, processing instructions, declarations, tags and text,
 * each found with one forward search. Numbers, not strings, so a large body makes little
 * garbage. Null when a construct is not terminated (then the body is shown as it came).
 */
function tokenEnds(xml: string): number[] | null {
  const ends: number[] = [];
  const after = (close: string, from: number) => {
    const at = xml.indexOf(close, from);
    return at < 0 ? -1 : at + close.length;
  };
  let i = 0;
  while (i < xml.length) {
    let end: number;
    if (xml[i] !== '<') {
      const next = xml.indexOf('<', i);
      end = next < 0 ? xml.length : next;
    } else if (xml.startsWith('<!--', i)) end = after('-->', i + 4);
    else if (xml.startsWith('<![CDATA[', i)) end = after(']]>', i + 9);
    else if (xml.startsWith('<?', i)) end = after('?>', i + 2);
    else if (xml.startsWith('<!', i) || NAME_START.test(xml[i + 1] ?? '') || (xml[i + 1] === '/' && NAME_START.test(xml[i + 2] ?? ''))) end = after('>', i + 1);
    else end = i + 1; // a lone "<"
    if (end < 0) return null;
    ends.push(end);
    i = end;
  }
  return ends;
}

/** The tokens of `xml` as strings (see tokenEnds). */
export function xmlTokens(xml: string): string[] | null {
  const ends = tokenEnds(xml);
  return ends && ends.map((end, i) => xml.slice(i === 0 ? 0 : ends[i - 1], end));
}

/**
 * Re-indents XML two spaces a level, keeping `<a>text</a>` on one line. Whitespace-only text
 * between tags is dropped (it is layout, not data, in the documents people send here: cXML,
 * SOAP). Returns null when the tags do not nest, nest deeper than FORMAT_LIMITS.maxDepth, or the
 * result would pass `maxBytes` characters, so such XML is shown as it came.
 */
export function indentXml(xml: string, maxBytes: number = FORMAT_LIMITS.maxIndentedBytes): string | null {
  const ends = tokenEnds(xml);
  if (!ends) return null;
  const token = (i: number): string | undefined => (i < ends.length ? xml.slice(i === 0 ? 0 : ends[i - 1], ends[i]) : undefined);
  const stack: string[] = [];
  const lines: string[] = [];
  let size = 0;
  const push = (text: string): boolean => {
    const line = stack.length ? '  '.repeat(stack.length) + text : text;
    lines.push(line);
    size += line.length + 1;
    return size <= maxBytes + 1;
  };
  for (let i = 0; i < ends.length; i++) {
    const t = token(i)!;
    const kind = kindOf(t);
    if (kind === 'text') {
      const text = t.trim();
      if (text && !push(text)) return null;
      continue;
    }
    if (kind === 'close') {
      const name = t.slice(2, -1).trim();
      if (stack.pop() !== name) return null;
      if (!push(t)) return null;
      continue;
    }
    if (kind === 'open') {
      const name = /^<([^\s/>]+)/.exec(t)?.[1] ?? '';
      const next = token(i + 1);
      const after = token(i + 2);
      // <a></a> and <a>short text</a> stay on one line.
      if (next !== undefined && kindOf(next) === 'close' && next.slice(2, -1).trim() === name) {
        if (!push(t + next)) return null;
        i += 1;
        continue;
      }
      if (next !== undefined && kindOf(next) === 'text' && !next.includes('\n') && after !== undefined && kindOf(after) === 'close' && after.slice(2, -1).trim() === name) {
        if (!push(t + next.trim() + after)) return null;
        i += 2;
        continue;
      }
      if (!push(t)) return null;
      stack.push(name);
      if (stack.length > FORMAT_LIMITS.maxDepth) return null;
      continue;
    }
    if (!push(t.trim())) return null;
  }
  return stack.length === 0 && lines.length > 0 ? lines.join('\n') : null;
}
