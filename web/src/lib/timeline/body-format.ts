// HTTP bodies as people read them: JSON and XML indented, everything else as it came.
// Only for display; what was sent or received byte for byte stays in the raw event. Indenting
// is bounded (shared/format-body.ts): a body nested too deep or too big once indented is
// shown as it came, so a hostile response cannot freeze the page.
import { FORMAT_LIMITS, indentJson } from '../../../../shared/format-body.ts';
import { indentXml } from '../../../../shared/indent-xml.ts';

export { indentXml };

type BodyLanguage = 'json' | 'xml' | 'text';

interface FormattedBody {
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
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return { text: body, language: 'text', reformatted: false };
    }
    const indented = indentJson(json, body.length, FORMAT_LIMITS.maxIndentedBytes);
    const text = 'text' in indented ? indented.text : body;
    return { text, language: 'json', reformatted: text !== body };
  }
  if (looksLikeXml(contentType, body)) {
    const text = indentXml(body);
    if (text !== null) return { text, language: 'xml', reformatted: text !== body };
  }
  return { text: body, language: 'text', reformatted: false };
}
