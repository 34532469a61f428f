// Every name a module of server/, shared/ or web/src/ exports is imported by some other file (issue 11: no
// unused exports). A name only its own file uses is file-local; a name nobody uses is dead code.
// Read with regular expressions and matched by name, not by module: a name imported anywhere
// (server/, shared/, web/src/ with .svelte, e2e/, bench/, scripts/, bin/, tests included) counts as
// used, so two modules exporting the same name hide each other; that errs toward passing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '../..');

/**
 * Public on purpose though no file imports them, each with why. Keep it short: a name belongs
 * here only when something outside this repository's imports reads it.
 */
const PUBLIC: Record<string, string> = {
  // The wire protocol's own tables, which the protocol's types are built from.
  PROBE_PHASES: 'the protocol: the probe phases',
  FLOW_PHASES: 'the protocol: the flow phases',
  CHECK_KINDS: 'the protocol: the check kinds',
  INBOUND_FIELD_LIMITS: 'the protocol: limits README.md lists',
  CHECK_FIELD_LIMITS: 'the protocol: limits README.md lists',
};

/**
 * Modules whose every export is public: the step evidence types are the documented wire contract
 * (docs/protocol.md, checked against them by shared/protocol/evidence-docs.test.ts) that a client
 * outside this repository narrows on, so a type no file here imports still belongs to it.
 */
const PUBLIC_MODULES: Record<string, string> = {
  'shared/protocol/evidence.ts': 'the protocol: step evidence per run kind and phase',
};

/** Folders whose files may import from server/ and shared/ (bin/harness.js imports the CLI's main and terminalAsk). */
const CONSUMERS = ['server', 'shared', 'web/src', 'e2e', 'bench', 'scripts', 'bin'] as const;

const DECLARED = /(?:^|\n)\s*export\s+(?:declare\s+)?(?:async\s+)?(?:abstract\s+)?(?:const|let|var|function\*?|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/g;
const LISTED = /(?:^|\n)\s*export\s+(?:type\s+)?\{([^{}]*)\}/g;
const IMPORTED = /(?:^|[\n;>])\s*(?:import|export)\s+(?:type\s+)?(?:[\w$]+\s*,\s*)?\{([^{}]*)\}\s*from\s*['"]/g;
const DYNAMIC = /\{([^{}]*)\}\s*=\s*await\s+import\(|\bimport\(\s*['"][^'"]+['"]\s*\)\.([\w$]+)/g;

function files(dir: string, keep: (name: string) => boolean): string[] {
  if (!existsSync(join(ROOT, dir))) return [];
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules') return [];
    if (statSync(join(ROOT, path)).isDirectory()) return files(path, keep);
    return keep(name) ? [path] : [];
  });
}

/** The names in a `{ a, type b, c as d }` list: the name before `as` when `side` is 'local', after it when 'exported'. */
function listNames(list: string, side: 'local' | 'exported'): string[] {
  return list.split(',').map((part) => part.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '').trim().replace(/^type\s+/, '')).filter(Boolean).map((part) => {
    const [local, exported] = part.split(/\s+as\s+/);
    return (side === 'exported' ? exported ?? local : local)!.trim();
  });
}

/** The names a module exports, declared there or listed in `export { … }` (re-exports included). */
export function exportedNames(text: string): string[] {
  return [...new Set([...[...text.matchAll(DECLARED)].map((m) => m[1]!), ...[...text.matchAll(LISTED)].flatMap((m) => listNames(m[1]!, 'exported'))])];
}

/** The names a file takes from other modules: import and re-export lists, awaited `import()` destructuring and `import('…').Name`. */
export function importedNames(text: string): string[] {
  return [
    ...[...text.matchAll(IMPORTED)].flatMap((m) => listNames(m[1]!, 'local')),
    ...[...text.matchAll(DYNAMIC)].flatMap((m) => (m[1] !== undefined ? listNames(m[1].replace(/:\s*[\w$]+/g, ''), 'local') : [m[2]!])),
  ];
}

const isModule = (path: string) => path.endsWith('.ts') && !path.endsWith('.d.ts') && !path.endsWith('.test.ts') && !path.split('/').includes('testing');

/** `module: name` for each export of `modules` that no other file of `consumers` imports. */
export function unusedExports(modules: Map<string, string>, consumers: Map<string, string>): string[] {
  const importers = new Map<string, Set<string>>();
  for (const [file, text] of consumers) for (const name of importedNames(text)) (importers.get(name) ?? importers.set(name, new Set()).get(name)!).add(file);
  return [...modules].filter(([file]) => !(file in PUBLIC_MODULES)).flatMap(([file, text]) => exportedNames(text)
    .filter((name) => !(name in PUBLIC) && ![...(importers.get(name) ?? [])].some((by) => by !== file))
    .map((name) => `${file}: ${name}`));
}

const read = (paths: string[]) => new Map(paths.map((p) => [p, readFileSync(join(ROOT, p), 'utf8')] as const));
const consumers = read(CONSUMERS.flatMap((dir) => files(dir, (name) => /\.(ts|svelte|js|mjs)$/.test(name) && !name.endsWith('.d.ts'))));
const modules = new Map([...consumers].filter(([path]) => ['server/', 'shared/', 'web/src/'].some((dir) => path.startsWith(dir)) && isModule(path)));

test('the scan reads the modules and what imports them', () => {
  assert.ok(modules.size > 150, `${modules.size} modules`);
  assert.ok([...consumers.keys()].some((p) => p.endsWith('.svelte')), 'the .svelte files are read');
  assert.ok(exportedNames(modules.get('server/run/envelope.ts')!).includes('runInEnvelope'));
});

test('no module of server/, shared/ or web/src/ exports a name no other file imports', () => {
  assert.deepEqual(unusedExports(modules, consumers), []);
});

test('the public allow-list names only exports that exist', () => {
  const all = new Set([...modules.values()].flatMap(exportedNames));
  assert.deepEqual(Object.keys(PUBLIC).filter((name) => !all.has(name)), []);
  assert.deepEqual(Object.keys(PUBLIC_MODULES).filter((file) => !modules.has(file)), []);
});

test('the scan catches what it is for', () => {
  const cases: { modules: [string, string][]; consumers: [string, string][]; unused: string[] }[] = [
    // Declared exports of each kind, one imported by a test, one by a .svelte file, one unused.
    {
      modules: [['m.ts', 'export const A = 1;\nexport async function b() {}\nexport interface C {}\nexport type D = 1;\nexport class E {}\nexport enum F { x }']],
      consumers: [['m.test.ts', "import { A, b, type C } from 'm';"], ['V.svelte', "<script>import type { D } from 'm';</script>"]],
      unused: ['m.ts: E', 'm.ts: F'],
    },
    // Used only in its own file: still flagged (make it file-local).
    { modules: [['m.ts', 'export const A = 1;\nconst b = A;']], consumers: [['m.ts', 'export const A = 1;\nconst b = A;']], unused: ['m.ts: A'] },
    // A re-export uses the original name and is itself an export to be used.
    {
      modules: [['a.ts', 'export interface X {}'], ['b.ts', "export { type X as Y } from 'a';"]],
      consumers: [['a.ts', 'export interface X {}'], ['b.ts', "export { type X as Y } from 'a';"]],
      unused: ['b.ts: Y'],
    },
    // A multi-line import, a default-plus-named one, an awaited dynamic import and an import type query.
    {
      modules: [['m.ts', 'export function a() {}\nexport function b() {}\nexport function c() {}\nexport type D = 1;']],
      consumers: [['x.ts', "import {\n  a,\n} from 'm';\nimport def, { b } from 'm';\nconst { c: cc } = await import('m');\nlet d: import('m').D;"]],
      unused: [],
    },
  ];
  for (const c of cases) assert.deepEqual(unusedExports(new Map(c.modules), new Map(c.consumers)), c.unused, JSON.stringify(c.modules));
});
