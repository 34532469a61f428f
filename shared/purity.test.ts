// shared/ runs in the browser and in Node: no node:* modules, no DOM globals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

const FORBIDDEN = [
  /from ['"](node:[a-z_/]+|fs|path|net|tls|crypto|http|https|ws|child_process|os)['"]/,
  /\bdocument\./,
  /\bwindow\./,
  /\bprocess\./,
  /\bBuffer\./,
];

test('shared/ stays pure TypeScript', () => {
  const files = sources(new URL('.', import.meta.url).pathname);
  assert.ok(files.length > 3);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const pattern of FORBIDDEN) assert.doesNotMatch(text, pattern, `${file} uses ${pattern}`);
  }
});
