// The step evidence as evidence.ts declares it, read with the TypeScript compiler: each run
// kind's phases with their details fields, and each named shape with its fields. The docs test
// holds docs/protocol.md to it; the lessons test holds the catalogue's evidence paths to it.
import ts from 'typescript';

// A path without node:url (shared/ stays free of Node modules): file URLs of a checkout are plain paths.
const EVIDENCE = decodeURIComponent(new URL('../protocol/evidence.ts', import.meta.url).pathname);

export const KINDS = [
  ['ProbeEvidence', 'Probe steps'],
  ['FlowEvidence', 'Token flow steps'],
  ['InboundEvidence', 'Inbound run steps'],
] as const;

export interface Evidence {
  /** heading → phase → field names. */
  phases: Map<string, Map<string, Set<string>>>;
  /** shape name → field names. */
  shapes: Map<string, Set<string>>;
}

export function evidenceFromTypes(file = EVIDENCE): Evidence {
  const program = ts.createProgram([file], { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, allowImportingTsExtensions: true, noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file)!;
  const fileSymbol = checker.getSymbolAtLocation(source)!;
  const exports = new Map(checker.getExportsOfModule(fileSymbol).map((s) => [s.name, s]));
  const shapes = new Map<string, Set<string>>();

  const declaredHere = (t: ts.Type) => (t.aliasSymbol ?? t.getSymbol())?.declarations?.some((d) => d.getSourceFile() === source) ?? false;
  const nameOf = (t: ts.Type) => (t.aliasSymbol ?? t.getSymbol())?.name ?? '';

  /** Field names of an object type, with those of its anonymous object-typed members inlined; named shapes are collected apart. */
  const fieldsOf = (t: ts.Type, into = new Set<string>()): Set<string> => {
    for (const p of checker.getPropertiesOfType(t)) {
      into.add(p.name);
      visit(checker.getTypeOfSymbol(p), into);
    }
    return into;
  };
  const visit = (t: ts.Type, row: Set<string>): void => {
    const types = t.isUnion() ? t.types : [t];
    for (const u of types) {
      if (checker.isArrayType(u)) {
        visit(checker.getTypeArguments(u as ts.TypeReference)[0]!, row);
        continue;
      }
      if (!(u.flags & ts.TypeFlags.Object) && !u.isIntersection()) continue;
      for (const info of checker.getIndexInfosOfType(u)) visit(info.type, row);
      const name = nameOf(u);
      if (declaredHere(u) && name && !name.startsWith('__') && name !== 'Record') {
        if (!shapes.has(name)) {
          shapes.set(name, new Set());
          shapes.set(name, fieldsOf(u));
        }
      } else if (checker.getPropertiesOfType(u).length && (name === '__type' || name === '__object')) {
        fieldsOf(u, row);
      }
    }
  };

  const phases = new Map<string, Map<string, Set<string>>>();
  for (const [map, heading] of KINDS) {
    const mapType = checker.getDeclaredTypeOfSymbol(exports.get(map)!);
    const byPhase = new Map<string, Set<string>>();
    for (const phase of checker.getPropertiesOfType(mapType)) byPhase.set(phase.name, fieldsOf(checker.getTypeOfSymbol(phase)));
    phases.set(heading, byPhase);
  }
  return { phases, shapes };
}

/** Every field name the evidence has, in any phase of any kind or in any shape. */
export function allEvidenceFields(evidence: Evidence): Set<string> {
  const all = new Set<string>();
  for (const phases of evidence.phases.values()) for (const fields of phases.values()) for (const f of fields) all.add(f);
  for (const fields of evidence.shapes.values()) for (const f of fields) all.add(f);
  return all;
}
