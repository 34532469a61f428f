// The import graph of server/ and shared/ has no cycles and points downward only: shared/
// never imports server/; the probe, flows, inbound checks and JWKS fetch build on run/ and
// net/, not on each other or on what uses them; the test kits (testing/) are for tests.
// Import specifiers are read with a regular expression: relative ones are all this repository
// uses between its own files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '../..');

/**
 * Lower layers first: a file may import its own layer and the ones below. In an `isolated`
 * layer, its folders do not import one another either (the probe does not use the flows).
 * A path matches the first layer with a prefix of it; `server/` catches the rest (session,
 * relay, CLI, commands, checks, scenarios), which may use everything below.
 */
const LAYERS = [
  { name: 'shared', prefixes: ['shared/'], isolated: false },
  { name: 'relay basics', prefixes: ['server/defaults.ts', 'server/log.ts', 'server/response-headers.ts', 'server/pki/', 'server/tls/'], isolated: false },
  { name: 'net', prefixes: ['server/net/'], isolated: false },
  { name: 'run engine and lab', prefixes: ['server/run/', 'server/lab/'], isolated: true },
  { name: 'runs', prefixes: ['server/probe/', 'server/flows/', 'server/inbound/', 'server/jwks/'], isolated: true },
  { name: 'relay', prefixes: ['server/'], isolated: false },
] as const;

/** Cycles known and owned elsewhere, each with why it is still here (none now). */
const KNOWN_CYCLES: { why: string; holds(cycle: string[]): boolean }[] = [];

type Graph = Map<string, string[]>;

const SPECIFIER = /(?:^|[\n;])\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function importGraph(files: string[]): Graph {
  return new Map(files.map((file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const targets = [...text.matchAll(SPECIFIER)].map((m) => relative(ROOT, resolve(ROOT, dirname(file), m[1] ?? m[2]!)));
    return [file, [...new Set(targets)]];
  }));
}

const isTest = (file: string) => file.endsWith('.test.ts');
const isTestKit = (file: string) => file.split('/').includes('testing');

/** Strongly connected components of more than one file (Tarjan), each sorted. */
function cycles(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

function layerOf(file: string): { rank: number; folder: string } | null {
  const rank = LAYERS.findIndex((l) => l.prefixes.some((p) => file.startsWith(p)));
  if (rank < 0) return null;
  const prefix = LAYERS[rank]!.prefixes.find((p) => file.startsWith(p))!;
  return { rank, folder: prefix };
}

/** Each import that goes up a layer, across an isolated layer, from shared/ into server/, or into a test kit from outside the tests. */
function wrongImports(graph: Graph): string[] {
  const wrong: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      if (isTestKit(target) && !isTest(file) && !isTestKit(file)) {
        wrong.push(`${file} → ${target}: test kits are for tests`);
        continue;
      }
      // Tests and test kits may reach whatever they exercise.
      if (isTest(file) || isTestKit(file)) continue;
      const from = layerOf(file);
      const to = layerOf(target);
      if (!from || !to) continue;
      if (to.rank > from.rank) wrong.push(`${file} → ${target}: ${LAYERS[from.rank]!.name} must not depend on ${LAYERS[to.rank]!.name}`);
      else if (to.rank === from.rank && LAYERS[from.rank]!.isolated && to.folder !== from.folder) wrong.push(`${file} → ${target}: ${from.folder} and ${to.folder} are side by side; what both need belongs a layer down`);
    }
  }
  return wrong;
}

const files = [...sources('server'), ...sources('shared')];
const graph = importGraph(files);

test('the import graph reads every file and its imports', () => {
  assert.ok(files.length > 200, `${files.length} files`);
  assert.ok(graph.get('server/session.ts')!.includes('server/run/envelope.ts'));
  // A multi-line import and a type-only one are both edges.
  assert.ok(graph.get('server/session.ts')!.includes('server/flows/callbacks.ts'));
  for (const [file, targets] of graph) for (const target of targets) assert.ok(files.includes(target) || !target.endsWith('.ts'), `${file} imports ${target}, which does not exist`);
});

test('no import cycles', () => {
  const unknown = cycles(new Map([...graph].filter(([file]) => !isTest(file)))).filter((c) => !KNOWN_CYCLES.some((k) => k.holds(c)));
  assert.deepEqual(unknown, []);
});

test('imports point downward only', () => {
  assert.deepEqual(wrongImports(graph), []);
});

test('the checks catch what they are for', () => {
  const cases: { graph: [string, string[]][]; cycles: number; wrong: RegExp[] }[] = [
    { graph: [['server/flows/a.ts', ['server/flows/b.ts']], ['server/flows/b.ts', ['server/flows/a.ts']]], cycles: 1, wrong: [] },
    { graph: [['server/jwks/f.ts', ['server/flows/h.ts']], ['server/flows/h.ts', []]], cycles: 0, wrong: [/side by side/] },
    { graph: [['server/run/e.ts', ['server/probe/p.ts']], ['server/probe/p.ts', ['server/run/e.ts']]], cycles: 1, wrong: [/run engine and lab must not depend on runs/] },
    { graph: [['shared/x.ts', ['server/net/dial.ts']], ['server/net/dial.ts', []]], cycles: 0, wrong: [/shared must not depend on net/] },
    { graph: [['server/session.ts', ['server/testing/peers.ts']], ['server/testing/peers.ts', []]], cycles: 0, wrong: [/test kits are for tests/] },
    { graph: [['server/relay.test.ts', ['server/testing/peers.ts', 'server/session.ts']], ['server/session.ts', ['server/probe/run-probe.ts']], ['server/probe/run-probe.ts', ['server/run/recorder.ts']]], cycles: 0, wrong: [] },
  ];
  for (const c of cases) {
    const g: Graph = new Map(c.graph);
    assert.equal(cycles(g).length, c.cycles, JSON.stringify(c.graph));
    const wrong = wrongImports(g);
    assert.equal(wrong.length, c.wrong.length, wrong.join('\n'));
    c.wrong.forEach((pattern, i) => assert.match(wrong[i]!, pattern));
  }
});
