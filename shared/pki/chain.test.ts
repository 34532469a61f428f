import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeChain, type ChainReport } from './chain.ts';
import { issuedPki, type IssuedPki } from './fixtures.test.ts';
import { inspectCertificates } from './inspect.ts';
import { readInput } from './read.ts';

let pki: IssuedPki;
let other: IssuedPki; // a second, unrelated PKI with the same names: impostors and strays
let rsaFromRoot: { pem: string };
let names: { root: string; intermediate: string; client: string };

before(async () => {
  pki = await issuedPki();
  other = await issuedPki();
  rsaFromRoot = await pki.issueWith('root', { subject: 'CN=issued-by-root' });
  const subjects = await inspectCertificates((await readInput(pki.root.pem + pki.intermediate.pem + pki.client.pem)).certificates);
  const [root, intermediate, client] = subjects.certificates.map((c) => c.info.subject);
  names = { root: root!, intermediate: intermediate!, client: client! };
});

async function analyze(text: string): Promise<ChainReport> {
  const read = await readInput(text, { name: 'bundle.pem' });
  assert.deepEqual(read.problems, []);
  return analyzeChain((await inspectCertificates(read.certificates)).certificates);
}

const codes = (r: ChainReport): string[] => r.problems.map((p) => p.code);

interface Case {
  name: string;
  bundle: () => string;
  want: { codes: string[]; path?: string[]; roles?: string[]; complete?: boolean; message?: RegExp; paths?: number };
}

const cases: Case[] = [
  { name: 'leaf, intermediate, root in order', bundle: () => pki.client.pem + pki.intermediate.pem + pki.root.pem, want: { codes: [], path: ['client', 'intermediate', 'root'], roles: ['leaf', 'intermediate', 'root'], complete: true } },
  { name: 'leaf and intermediate: root left to the trust store', bundle: () => pki.client.pem + pki.intermediate.pem, want: { codes: ['chain_root_not_included'], path: ['client', 'intermediate'], complete: false } },
  { name: 'reversed order', bundle: () => pki.root.pem + pki.intermediate.pem + pki.client.pem, want: { codes: ['chain_wrong_order'], path: ['client', 'intermediate', 'root'], message: /given as .*Root.*Intermediate.*client, O=Harness; the order must be .*client, O=Harness → .*Intermediate.*Root/ } },
  { name: 'intermediate before leaf', bundle: () => pki.intermediate.pem + pki.client.pem, want: { codes: ['chain_root_not_included', 'chain_wrong_order'], path: ['client', 'intermediate'] } },
  { name: 'leaf alone', bundle: () => pki.client.pem, want: { codes: ['chain_leaf_only'], path: ['client'], message: /its issuer CN=Harness Test Intermediate, O=Harness must be sent/ } },
  { name: 'leaf and root, intermediate missing', bundle: () => pki.client.pem + pki.root.pem, want: { codes: ['chain_missing_intermediate', 'chain_unrelated'], path: ['client'], message: /add the intermediate CN=Harness Test Intermediate, O=Harness/ } },
  { name: 'duplicate leaf', bundle: () => pki.client.pem + pki.client.pem + pki.intermediate.pem, want: { codes: ['chain_duplicate', 'chain_root_not_included'], path: ['client', 'intermediate'], message: /appears again; the first copy is at bundle.pem, block 1 \(line 1\)/ } },
  {
    name: 'same-named intermediate from another CA (signature does not verify)',
    bundle: () => pki.client.pem + other.intermediate.pem + other.root.pem,
    want: { codes: ['chain_signature_invalid', 'chain_missing_intermediate', 'chain_unrelated'], path: ['client'], message: /names CN=Harness Test Intermediate, O=Harness as its issuer, but that certificate's key \(at bundle.pem, block 2 \(line \d+\)\) did not sign it/ },
  },
  { name: 'unrelated root appended', bundle: () => pki.client.pem + pki.intermediate.pem + pki.root.pem + other.root.pem, want: { codes: ['chain_unrelated'], path: ['client', 'intermediate', 'root'], message: /is not in the chain of CN=harness-client, O=Harness/ } },
  { name: 'sibling CA is a stray, not a gap', bundle: () => rsaFromRoot.pem + pki.intermediate.pem, want: { codes: ['chain_leaf_only', 'chain_unrelated'], path: ['issued-by-root'] } },
  { name: 'CA bundle of two roots', bundle: () => pki.root.pem + other.root.pem, want: { codes: [], paths: 2, roles: ['root'] } },
];

for (const c of cases) {
  test(`analyzeChain: ${c.name}`, async () => {
    const report = await analyze(c.bundle());
    assert.deepEqual(codes(report), c.want.codes);
    const subjectOf: Record<string, string> = { client: names.client, intermediate: names.intermediate, root: names.root, 'issued-by-root': 'CN=issued-by-root' };
    const main = report.paths.find((p) => p.members[0]?.role === 'leaf') ?? report.paths[0]!;
    if (c.want.path) assert.deepEqual(main.members.map((m) => m.subject), c.want.path.map((k) => subjectOf[k]));
    if (c.want.roles) assert.deepEqual(main.members.map((m) => m.role), c.want.roles);
    if (c.want.complete !== undefined) assert.equal(main.complete, c.want.complete);
    if (c.want.paths !== undefined) assert.equal(report.paths.length, c.want.paths);
    if (c.want.message) assert.ok(report.problems.some((p) => c.want.message!.test(p.message)), JSON.stringify(report.problems, null, 1));
  });
}

test('analyzeChain: signatures along a complete chain verify, the anchor is named', async () => {
  const report = await analyze(pki.client.pem + pki.intermediate.pem + pki.root.pem);
  const [path] = report.paths;
  assert.deepEqual(path!.members.map((m) => m.signature), ['valid', 'valid', 'self']);
  assert.equal(path!.anchor, names.root);
  assert.deepEqual(report.anchors, [names.root]);
  assert.equal(report.distinct, 3);
});

test('analyzeChain: an incomplete chain names the certificate that would come next', async () => {
  const [path] = (await analyze(pki.client.pem)).paths;
  assert.equal(path!.complete, false);
  assert.equal(path!.missingIssuer, names.intermediate);
});

test('analyzeChain: order is judged within a bundle, not across separate inputs', async () => {
  const read = await readInput(pki.root.pem + pki.intermediate.pem);
  const leaf = await readInput(pki.client.pem, { name: 'leaf.pem' });
  const all = (await inspectCertificates([...read.certificates, ...leaf.certificates])).certificates;
  const bundles = new Map(all.map((c) => [c, c.info.where.startsWith('leaf.pem') ? 'leaf.pem' : 'ca.pem']));
  const report = await analyzeChain(all, { bundleOf: (c) => bundles.get(c)! });
  assert.deepEqual(codes(report), ['chain_wrong_order']); // root before intermediate inside ca.pem
  const inOrder = await readInput(pki.intermediate.pem + pki.root.pem);
  const certs = (await inspectCertificates([...inOrder.certificates, ...leaf.certificates])).certificates;
  const bundles2 = new Map(certs.map((c) => [c, c.info.where.startsWith('leaf.pem') ? 'leaf.pem' : 'ca.pem']));
  assert.deepEqual(codes(await analyzeChain(certs, { bundleOf: (c) => bundles2.get(c)! })), []);
});
