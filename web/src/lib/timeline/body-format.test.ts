// Bodies as people read them; only for display, and bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBody } from './body-format.ts';

test('JSON is indented by content type or by its look when there is none', () => {
  assert.deepEqual(formatBody('{"a":1}', 'application/json; charset=utf-8'), { text: '{\n  "a": 1\n}', language: 'json', reformatted: true });
  assert.equal(formatBody('[1]').language, 'json');
  assert.equal(formatBody('[1]', 'text/plain').language, 'text');
  assert.equal(formatBody('application/problem+json', 'application/problem+json').language, 'text', 'not JSON after all: as it came');
});

test('XML is indented; HTML is not XML even with a declaration', () => {
  const xml = formatBody('<?xml version="1.0"?><a><b>1</b></a>');
  assert.equal(xml.language, 'xml');
  assert.equal(xml.reformatted, true);
  assert.match(xml.text, /\n\s+<b>1<\/b>/);
  assert.equal(formatBody('<?xml version="1.0"?><html/>', 'text/html').language, 'text');
});

test('JSON too deep to indent within the bound is shown as it came', () => {
  const deep = '['.repeat(5000) + ']'.repeat(5000);
  const out = formatBody(deep, 'application/json');
  assert.equal(out.text, deep);
  assert.equal(out.reformatted, false);
});
