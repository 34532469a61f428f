import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { indentXml, xmlTokens } from './indent-xml.ts';
import { FORMAT_LIMITS } from './format-body.ts';

/** The former tokenizer: right on terminated input, super-linear on hostile input. The oracle. */
const OLD_TOKEN = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<![^>]*>|<\/?[A-Za-z_:][^>]*>|[^<]+|</g;

const PIECES = ['<a>', '</a>', '<b x="1">', '</b>', '<c/>', 'text', ' ', '\n', '<!-- c -->', '<![CDATA[ <x> ]]>', '<?xml version="1.0"?>', '<!DOCTYPE a>', '< ', '<1', '&amp;'] as const;

test('xmlTokens splits terminated XML exactly as the former regex did', () => {
  fc.assert(fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }), (pieces) => {
    const xml = pieces.join('');
    assert.deepEqual(xmlTokens(xml), xml.match(OLD_TOKEN) ?? []);
  }), { numRuns: 2000 });
});

test('indentXml: a cXML document, one element a line, short text kept inline', () => {
  const xml = '<?xml version="1.0"?><cXML><Header><From><Credential domain="DUNS"><Identity>123</Identity></Credential></From></Header><Request/></cXML>';
  assert.equal(indentXml(xml), [
    '<?xml version="1.0"?>', '<cXML>', '  <Header>', '    <From>', '      <Credential domain="DUNS">', '        <Identity>123</Identity>', '      </Credential>', '    </From>', '  </Header>', '  <Request/>', '</cXML>',
  ].join('\n'));
});

const SIZE = 256 * 1024;
const hostile = [
  { name: 'unterminated comments', unit: '<!--' },
  { name: 'unterminated tags', unit: '<a' },
  { name: 'unterminated CDATA', unit: '<![CDATA[' },
  { name: 'unterminated instructions', unit: '<?x' },
  { name: 'deep nesting', unit: '<a>' },
  { name: 'many short elements', unit: '<a>x</a>' },
] as const;

for (const h of hostile) {
  test(`indentXml: ${SIZE / 1024} KiB of ${h.name} in linear time and bounded output`, () => {
    const xml = h.unit.repeat(Math.ceil(SIZE / h.unit.length));
    let ms = Infinity;
    let out: string | null = null;
    for (let i = 0; i < 3 && ms >= 100; i++) {
      const t0 = performance.now();
      out = indentXml(`<r>${xml}</r>`);
      ms = Math.min(ms, performance.now() - t0);
    }
    assert.ok(ms < 100, `${ms.toFixed(0)} ms`);
    assert.ok(out === null || out.length <= FORMAT_LIMITS.maxIndentedBytes, `${out?.length} characters`);
  });
}

test('indentXml: nesting past the depth limit is left as it came', () => {
  const deep = (n: number) => `${'<a>'.repeat(n)}x${'</a>'.repeat(n)}`;
  assert.notEqual(indentXml(deep(FORMAT_LIMITS.maxDepth)), null);
  assert.equal(indentXml(deep(FORMAT_LIMITS.maxDepth + 2)), null);
});
