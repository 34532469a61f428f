import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FORMAT_LIMITS, formatBody, utf8Length } from './format-body.ts';
import { MASK } from './redact.ts';

const CAP = 256 * 1024;
const nested = (levels: number, leaf = '0') => `${'['.repeat(levels)}${leaf}${']'.repeat(levels)}`;
/** The body: 4,000 levels, 15 numbers on each (60,000 values, ~128 KB). */
const amplifying = `${'[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,'.repeat(3_999)}[0]${']'.repeat(3_999)}`;

const cases: { name: string; body: string; type?: string; indented: boolean; note?: RegExp; hidden?: string; shown?: string }[] = [
  { name: 'ordinary JSON is indented with secrets masked', body: '{"access_token":"opaque-S3CRET","scope":"read"}', type: 'application/json', indented: true, hidden: 'opaque-S3CRET', shown: `"access_token": "${MASK}"` },
  { name: 'JSON without a JSON content type is still indented', body: ' {"a":[1,2]}', type: 'text/plain', indented: true, shown: '"a": [' },
  { name: 'nesting at the depth limit is indented', body: nested(FORMAT_LIMITS.maxDepth), type: 'application/json', indented: true },
  { name: 'nesting past the depth limit is shown raw', body: nested(FORMAT_LIMITS.maxDepth + 1), type: 'application/json', indented: false, note: /nested deeper than 32 levels/ },
  { name: 'the 4,000-level body is shown raw', body: amplifying, type: 'application/json', indented: false, note: /nested deeper/ },
  { name: 'too many values are shown raw', body: JSON.stringify(Array.from({ length: FORMAT_LIMITS.maxValues + 1 }, () => 1)), type: 'application/json', indented: false, note: /more than 20000 values/ },
  { name: 'form bodies are masked by field name', body: 'access_token=opaque-S3CRET&token_type=bearer', type: 'application/x-www-form-urlencoded', indented: false, hidden: 'opaque-S3CRET', shown: 'token_type=bearer' },
  { name: 'text is masked by shape', body: '<SharedSecret>S3CRET-1</SharedSecret>', type: 'text/xml', indented: false, hidden: 'S3CRET-1' },
  { name: 'broken JSON is shown as text', body: '{"a": [1, 2', type: 'application/json', indented: false },
];

for (const c of cases) {
  test(`format: ${c.name}`, () => {
    const out = formatBody(c.body, c.type, CAP);
    assert.ok(utf8Length(out.text) <= CAP, `${utf8Length(out.text)} bytes`);
    if (c.note) assert.match(out.note ?? '', c.note);
    else assert.equal(out.note, undefined);
    if (c.indented) assert.match(out.text, /\n {2}/);
    else assert.doesNotMatch(out.text, /\n {2}\S/);
    if (c.hidden) assert.ok(!out.text.includes(c.hidden), out.text);
    if (c.shown) assert.ok(out.text.includes(c.shown), out.text);
  });
}

test('format: indenting that would pass the cap falls back to the raw body', () => {
  // 9,000 values four levels deep: ~90 KB raw, past 128 KiB once each value has its own line.
  const body = JSON.stringify(Array.from({ length: 30 }, () => Array.from({ length: 30 }, () => Array.from({ length: 10 }, () => 'abcdefg'))));
  const out = formatBody(body, 'application/json', 128 * 1024);
  assert.match(out.note ?? '', /indented it would pass 131072 bytes/);
  assert.equal(out.text, body);
});

test('format: the output never passes the cap, in bytes, whatever the input', () => {
  const bodies = ['\uFFFD'.repeat(CAP), 'é'.repeat(CAP), '<Password>a</Password>'.repeat(CAP / 16), '-eyJab'.repeat(CAP / 4)];
  for (const body of bodies) {
    const out = formatBody(body, 'text/plain', CAP);
    assert.ok(utf8Length(out.text) <= CAP, `${utf8Length(out.text)} bytes from ${body.slice(0, 12)}…`);
    assert.match(out.note ?? '', /cut to the first 262144 bytes/);
  }
});

test('format: the 4,000-level body takes little time and memory', () => {
  const t0 = performance.now();
  const out = formatBody(amplifying, 'application/json', CAP);
  assert.ok(performance.now() - t0 < 500, `${performance.now() - t0} ms`);
  assert.equal(out.text, amplifying);
});

test('utf8Length agrees with TextEncoder', () => {
  for (const s of ['', 'abc', 'é', '€', '😀', '\uD800', '\uDC00x', 'a\uD83D\uDE00b']) assert.equal(utf8Length(s), new TextEncoder().encode(s).length, JSON.stringify(s));
});
