import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { indentXml, xmlTokens } from './indent-xml.ts';
import { FORMAT_LIMITS } from './format-body.ts';
import { notLinear } from './testing/linear-time.ts';

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
] as const;

for (const h of hostile) {
  test(`indentXml: ${SIZE / 1024} KiB of ${h.name} within 100 ms or in linear time, output bounded`, () => {
    const make = (size: number) => `<r>${h.unit.repeat(Math.ceil(size / h.unit.length))}</r>`;
    const why = notLinear(indentXml, make, SIZE, 100);
    assert.equal(why, undefined, why);
    const out = indentXml(make(SIZE));
    assert.ok(out === null || out.length <= FORMAT_LIMITS.maxIndentedBytes, `${out?.length} characters`);
  });
}

test('indentXml: 256 KiB of short elements is indented within the output bound', () => {
  const out = indentXml(`<r>${'<a>x</a>'.repeat(SIZE / 8)}</r>`);
  assert.ok(out !== null && out.length <= FORMAT_LIMITS.maxIndentedBytes && out.startsWith('<r>\n  <a>x</a>\n'));
  assert.equal(indentXml(`<r>${'<a>x</a>'.repeat(SIZE / 8)}</r>`, 64 * 1024), null, 'past the bound it is left as it came');
});

test('indentXml: nesting past the depth limit is left as it came', () => {
  const deep = (n: number) => `${'<a>'.repeat(n)}x${'</a>'.repeat(n)}`;
  assert.notEqual(indentXml(deep(FORMAT_LIMITS.maxDepth)), null);
  assert.equal(indentXml(deep(FORMAT_LIMITS.maxDepth + 2)), null);
});
