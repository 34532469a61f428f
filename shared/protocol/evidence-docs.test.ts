// docs/protocol.md documents every evidence field: this test reads evidence.ts with the
// TypeScript compiler, lists each phase's details fields (per run kind) and each named shape they
// use, and holds the "Step evidence" tables of the docs to exactly those names — a field added
// to the types without a line in the docs fails here, and so does a field the docs list that the
// types do not have. In those tables backticks mark field names only (values go in quotes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { evidenceFromTypes, KINDS } from '../testing/evidence-fields.ts';

const EVIDENCE = fileURLToPath(new URL('./evidence.ts', import.meta.url));
const DOCS = fileURLToPath(new URL('../../docs/protocol.md', import.meta.url));
const SHAPES_HEADING = 'Shapes';

/** The rows of the table under `### heading` in the "Step evidence" section: first cell → backticked names of the second. */
export function docsTable(markdown: string, heading: string): Map<string, Set<string>> {
  const section = markdown.split(/^## /m).find((s) => s.startsWith('Step evidence'));
  assert.ok(section, 'docs/protocol.md has no "## Step evidence" section');
  const part = section.split(/^### /m).find((s) => s.startsWith(`${heading}\n`));
  assert.ok(part, `docs/protocol.md "Step evidence" has no "### ${heading}" table`);
  const rows = new Map<string, Set<string>>();
  for (const line of part.split('\n')) {
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    const key = /^`([^`]+)`$/.exec(cells[0] ?? '')?.[1];
    if (!key || cells.length < 2) continue;
    rows.set(key, new Set([...cells.slice(1).join(' ').matchAll(/`([^`\s]+)`/g)].map((m) => m[1]!)));
  }
  return rows;
}

function sameNames(where: string, inTypes: Set<string>, inDocs: Set<string> | undefined): void {
  assert.ok(inDocs, `${where}: no row in docs/protocol.md`);
  const missing = [...inTypes].filter((n) => !inDocs.has(n));
  const extra = [...inDocs].filter((n) => !inTypes.has(n));
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, `${where}: docs/protocol.md must list exactly the fields of the types (missing: not documented; extra: not in the types)`);
}

const evidence = evidenceFromTypes();
const markdown = readFileSync(DOCS, 'utf8');

for (const [, heading] of KINDS) {
  test(`docs/protocol.md "${heading}" lists every field of every phase, and no other`, () => {
    const types = evidence.phases.get(heading)!;
    const docs = docsTable(markdown, heading);
    assert.deepEqual([...docs.keys()].sort(), [...types.keys()].sort(), `${heading}: one row per phase`);
    for (const [phase, fields] of types) sameNames(`${heading} / ${phase}`, fields, docs.get(phase));
  });
}

test('docs/protocol.md "Shapes" lists every named shape the evidence uses with its fields, and no other', () => {
  const docs = docsTable(markdown, SHAPES_HEADING);
  assert.deepEqual([...docs.keys()].sort(), [...evidence.shapes.keys()].sort(), 'one row per shape');
  for (const [name, fields] of evidence.shapes) sameNames(`shape ${name}`, fields, docs.get(name));
});

test('the reading of the types sees a field the moment it is added', () => {
  // The same reading over evidence.ts with one field more must report it: the test above cannot pass by seeing nothing.
  const text = readFileSync(EVIDENCE, 'utf8').replace('export interface DnsDetails extends ErrorEvidence {', 'export interface DnsDetails extends ErrorEvidence {\n  resolver?: string;');
  const host = ts.createCompilerHost({});
  const read = host.readFile;
  host.readFile = (f) => (f === EVIDENCE ? text : read(f));
  const program = ts.createProgram([EVIDENCE], { strict: true, noEmit: true }, host);
  const checker = program.getTypeChecker();
  const symbol = checker.getSymbolAtLocation(program.getSourceFile(EVIDENCE)!)!;
  const dns = checker.getExportsOfModule(symbol).find((s) => s.name === 'DnsDetails')!;
  const fields = checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(dns)).map((p) => p.name);
  assert.ok(fields.includes('resolver'));
  assert.ok(!evidence.phases.get('Probe steps')!.get('dns')!.has('resolver'));
  assert.throws(() => sameNames('Probe steps / dns', new Set(fields), evidence.phases.get('Probe steps')!.get('dns')!), /missing/);
});
