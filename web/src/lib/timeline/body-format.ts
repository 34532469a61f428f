// HTTP bodies as people read them: JSON and XML indented, everything else as it came.
// Only for display; what was sent or received byte for byte stays in the raw event.

export type BodyLanguage = 'json' | 'xml' | 'text';

export interface FormattedBody {
  text: string;
  language: BodyLanguage;
  /** True when the text differs from the input (so "as received" is worth offering). */
  reformatted: boolean;
}

function looksLikeJson(contentType: string, body: string): boolean {
  return /[/+]json\b/i.test(contentType) || (contentType === '' && /^\s*[{[]/.test(body));
}

function looksLikeXml(contentType: string, body: string): boolean {
  return /[/+]xml\b/i.test(contentType) || (!/html/i.test(contentType) && /^\s*<\?xml[\s?]/.test(body));
}

export function formatBody(body: string, contentType = ''): FormattedBody {
  if (looksLikeJson(contentType, body)) {
    try {
      const text = JSON.stringify(JSON.parse(body), null, 2);
      return { text, language: 'json', reformatted: text !== body };
    } catch {
      return { text: body, language: 'text', reformatted: false };
    }
  }
  if (looksLikeXml(contentType, body)) {
    const text = indentXml(body);
    if (text !== null) return { text, language: 'xml', reformatted: text !== body };
  }
  return { text: body, language: 'text', reformatted: false };
}

const XML_TOKEN = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<![^>]*>|<\/?[A-Za-z_:][^>]*>|[^<]+|</g;

type Kind = 'open' | 'close' | 'empty' | 'other' | 'text';

function kindOf(token: string): Kind {
  if (!token.startsWith('<')) return 'text';
  if (token.startsWith('</')) return 'close';
  if (token.startsWith('<?') || token.startsWith('<!')) return 'other';
  if (token.endsWith('/>')) return 'empty';
  return token.length > 1 ? 'open' : 'text';
}

/**
 * Re-indents XML two spaces a level, keeping `<a>text</a>` on one line. Whitespace-only text
 * between tags is dropped (it is layout, not data, in the documents people send here: cXML,
 * SOAP). Returns null when the tags do not nest, so broken XML is shown as it came.
 */
export function indentXml(xml: string): string | null {
  const tokens = xml.match(XML_TOKEN) ?? [];
  const lines: string[] = [];
  const stack: string[] = [];
  const pad = () => '  '.repeat(stack.length);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const kind = kindOf(token);
    if (kind === 'text') {
      const text = token.trim();
      if (text) lines.push(pad() + text);
      continue;
    }
    if (kind === 'close') {
      const name = token.slice(2, -1).trim();
      if (stack.pop() !== name) return null;
      lines.push(pad() + token);
      continue;
    }
    if (kind === 'open') {
      const name = /^<([^\s/>]+)/.exec(token)?.[1] ?? '';
      const next = tokens[i + 1];
      const after = tokens[i + 2];
      // <a></a> and <a>short text</a> stay on one line.
      if (next !== undefined && kindOf(next) === 'close' && next.slice(2, -1).trim() === name) {
        lines.push(pad() + token + next);
        i += 1;
        continue;
      }
      if (next !== undefined && kindOf(next) === 'text' && !next.includes('\n') && after !== undefined && kindOf(after) === 'close' && after.slice(2, -1).trim() === name) {
        lines.push(pad() + token + next.trim() + after);
        i += 2;
        continue;
      }
      lines.push(pad() + token);
      stack.push(name);
      continue;
    }
    lines.push(pad() + token.trim());
  }
  return stack.length === 0 && lines.length > 0 ? lines.join('\n') : null;
}
