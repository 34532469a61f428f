import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { issuedPki, openssl, tempDir, type IssuedPki } from './fixtures.test.ts';
import { generateKeyPair, issue, selfSign } from './issue.ts';
import { checkRotation, type RotationCandidate } from './rotation.ts';

const d = (iso: string): Date => new Date(`${iso}T00:00:00Z`);

let a: IssuedPki; // the CA the server trusts today
let b: IssuedPki; // the partner's new CA
let rekeyed: IssuedPki; // a CA with the same names as `a` but new keys
let current: string; // leaf + intermediate A, valid 2030-01-01 … 2031-01-01
let currentLeaf: string;
let upcomingSameCa: string; // from intermediate A, valid 2030-12-01 … 2031-12-01
let upcomingNewCa: string; // from intermediate B, same dates
let rekeyedUpcoming: string;
let shortInt: { leaf: string; root: string }; // intermediate expires 2030-09-01, before its leaf

before(async () => {
  a = await issuedPki(d('2029-01-01'));
  b = await issuedPki(d('2029-01-01'), 'Partner 2030');
  rekeyed = await issuedPki(d('2029-01-01'));
  currentLeaf = (await a.issueWith('intermediate', { subject: 'CN=partner-client', notBefore: d('2030-01-01'), notAfter: d('2031-01-01') })).pem;
  current = currentLeaf + a.intermediate.pem;
  upcomingSameCa = (await a.issueWith('intermediate', { subject: 'CN=partner-client', notBefore: d('2030-12-01'), notAfter: d('2031-12-01') })).pem + a.intermediate.pem;
  rekeyedUpcoming = (await rekeyed.issueWith('intermediate', { subject: 'CN=partner-client', notBefore: d('2030-12-01'), notAfter: d('2031-12-01') })).pem + rekeyed.intermediate.pem;
  upcomingNewCa = (await b.issueWith('intermediate', { subject: 'CN=partner-client', notBefore: d('2030-12-01'), notAfter: d('2031-12-01') })).pem + b.intermediate.pem;

  const rootKeys = await generateKeyPair('P-256', true);
  const root = await selfSign(rootKeys, { subject: 'CN=Short Root', profile: 'root-ca', notBefore: d('2029-01-01') });
  const intKeys = await generateKeyPair('P-256', true);
  const int = await issue(intKeys.publicKey, { certificate: root, privateKey: rootKeys.privateKey }, { subject: 'CN=Short Intermediate', profile: 'intermediate-ca', notBefore: d('2029-01-01'), notAfter: d('2030-09-01') });
  const leafKeys = await generateKeyPair('P-256', true);
  const leaf = await issue(leafKeys.publicKey, { certificate: int, privateKey: intKeys.privateKey }, { subject: 'CN=outlived', profile: 'client', notBefore: d('2030-01-01'), notAfter: d('2031-01-01') });
  shortInt = { leaf: `${leaf.toString('pem')}\n${int.toString('pem')}\n`, root: `${root.toString('pem')}\n` };
});

/** openssl verify at the frozen time: the oracle for "would the server accept it now". */
function opensslAccepts(bundle: string, candidate: string, now: Date): boolean {
  const dir = tempDir();
  const blocks = candidate.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!;
  writeFileSync(join(dir, 'ca.pem'), bundle);
  writeFileSync(join(dir, 'leaf.pem'), blocks[0]!);
  writeFileSync(join(dir, 'chain.pem'), blocks.slice(1).join('') || blocks[0]!);
  try {
    openssl(dir, ['verify', '-attime', String(Math.floor(now.getTime() / 1000)), '-CAfile', 'ca.pem', '-untrusted', 'chain.pem', 'leaf.pem']);
    return true;
  } catch {
    return false;
  }
}

interface Case {
  name: string;
  bundle: () => string;
  clients: () => RotationCandidate[];
  now: Date;
  want: {
    entries: { trusted: boolean; acceptedNow: boolean; until?: string; codes?: string[] }[];
    codes: string[];
    message?: RegExp;
  };
}

const cases: Case[] = [
  {
    name: 'upcoming from a CA the server does not trust yet',
    bundle: () => a.root.pem,
    clients: () => [{ role: 'current', pem: current }, { role: 'upcoming', pem: upcomingNewCa }],
    now: d('2030-11-15'),
    want: {
      entries: [
        { trusted: true, acceptedNow: true, until: '2031-01-01', codes: ['expires_soon'] },
        { trusted: false, acceptedNow: false, codes: ['chain_untrusted'] },
      ],
      codes: ['rotation_no_upcoming'],
      message: /partner-client stops being accepted on 2031-01-01 \(in 47 days\) and none of the 1 upcoming certificate\(s\) is trusted/,
    },
  },
  {
    name: 'upcoming from a re-keyed CA with the same name',
    bundle: () => a.root.pem,
    clients: () => [{ role: 'current', pem: current }, { role: 'upcoming', pem: rekeyedUpcoming }],
    now: d('2030-11-15'),
    want: {
      entries: [{ trusted: true, acceptedNow: true }, { trusted: false, acceptedNow: false, codes: ['chain_signature_invalid', 'chain_untrusted'] }],
      codes: ['rotation_no_upcoming'],
    },
  },
  {
    name: 'server already trusts the new CA; successor not valid yet is fine',
    bundle: () => a.root.pem + b.root.pem,
    clients: () => [{ role: 'current', pem: current }, { role: 'upcoming', pem: upcomingNewCa }],
    now: d('2030-11-15'),
    want: { entries: [{ trusted: true, acceptedNow: true, codes: ['expires_soon'] }, { trusted: true, acceptedNow: false, until: '2031-12-01', codes: [] }], codes: [] },
  },
  {
    name: 'successor from the same CA',
    bundle: () => a.root.pem,
    clients: () => [{ role: 'current', pem: current }, { role: 'upcoming', pem: upcomingSameCa }],
    now: d('2030-12-15'),
    want: { entries: [{ trusted: true, acceptedNow: true, codes: ['expires_soon'] }, { trusted: true, acceptedNow: true, codes: [] }], codes: [] },
  },
  {
    name: 'no successor given',
    bundle: () => a.root.pem,
    clients: () => [{ role: 'current', pem: current }],
    now: d('2030-11-15'),
    want: { entries: [{ trusted: true, acceptedNow: true, codes: ['expires_soon'] }], codes: ['rotation_no_upcoming'], message: /no upcoming certificate was given/ },
  },
  {
    name: 'plenty of time left: no rotation warning',
    bundle: () => a.root.pem,
    clients: () => [{ role: 'current', pem: current }],
    now: d('2030-06-01'),
    want: { entries: [{ trusted: true, acceptedNow: true, codes: [] }], codes: [] },
  },
  {
    name: 'current already expired',
    bundle: () => a.root.pem,
    clients: () => [{ role: 'current', pem: current }],
    now: d('2031-02-01'),
    want: { entries: [{ trusted: true, acceptedNow: false, codes: ['cert_expired'] }], codes: ['rotation_no_upcoming'], message: /stopped being accepted on 2031-01-01/ },
  },
  {
    name: 'client does not send its intermediate and the bundle lacks it',
    bundle: () => a.root.pem,
    clients: () => [{ role: 'current', pem: currentLeaf }],
    now: d('2030-06-01'),
    want: { entries: [{ trusted: false, acceptedNow: false, codes: ['chain_untrusted'] }], codes: [] },
  },
  {
    name: 'bundle holds the intermediate: the leaf alone is enough',
    bundle: () => a.root.pem + a.intermediate.pem,
    clients: () => [{ role: 'current', pem: currentLeaf }],
    now: d('2030-06-01'),
    want: { entries: [{ trusted: true, acceptedNow: true, codes: [] }], codes: [] },
  },
  {
    name: 'bundle holds only the intermediate, not its root',
    bundle: () => a.intermediate.pem,
    clients: () => [{ role: 'current', pem: current }],
    now: d('2030-06-01'),
    want: { entries: [{ trusted: false, acceptedNow: false, codes: ['trust_anchor_missing_root'] }], codes: [] },
  },
  {
    name: 'an intermediate that expires first ends acceptance',
    bundle: () => shortInt.root,
    clients: () => [{ role: 'current', pem: shortInt.leaf }],
    now: d('2030-10-01'),
    want: { entries: [{ trusted: true, acceptedNow: false, until: '2030-09-01', codes: ['cert_expired'] }], codes: ['rotation_no_upcoming'] },
  },
];

for (const c of cases) {
  test(`checkRotation: ${c.name}`, async () => {
    const clients = c.clients();
    const report = await checkRotation(c.bundle(), clients, c.now);
    assert.deepEqual(report.problems.map((p) => p.code), c.want.codes, JSON.stringify(report.problems, null, 1));
    assert.equal(report.entries.length, c.want.entries.length);
    c.want.entries.forEach((w, i) => {
      const e = report.entries[i]!;
      assert.equal(e.trusted, w.trusted, `${e.label} trusted`);
      assert.equal(e.acceptedNow, w.acceptedNow, `${e.label} accepted now`);
      if (w.until) assert.equal(e.acceptedUntil?.slice(0, 10), w.until);
      if (w.codes) assert.deepEqual(e.problems.map((p) => p.code), w.codes, JSON.stringify(e.problems, null, 1));
      assert.equal(opensslAccepts(c.bundle(), clients[i]!.pem, c.now), e.acceptedNow, `openssl verify agrees on ${e.label}`);
    });
    if (c.want.message) assert.ok(report.problems.some((p) => c.want.message!.test(p.message)), JSON.stringify(report.problems, null, 1));
  });
}

test('checkRotation: entries name the chain, the anchor and the days left', async () => {
  const report = await checkRotation(a.root.pem, [{ role: 'current', pem: current, label: 'prod cert' }], d('2030-11-15'));
  const [entry] = report.entries;
  assert.equal(entry!.label, 'prod cert');
  assert.equal(entry!.daysLeft, 47);
  assert.deepEqual(entry!.chain.map((m) => m.role), ['leaf', 'intermediate', 'root']);
  assert.match(entry!.anchor!, /Harness Test Root/);
  assert.deepEqual(report.anchors, [entry!.anchor]);
});

test('checkRotation: a whole JSON bundle pasted as one candidate keeps every certificate, named and placed by its JSON name', async () => {
  const json = JSON.stringify({ certificates: [{ name: 'current', pem: current }, { name: 'upcoming', pem: upcomingNewCa }] });
  const report = await checkRotation(a.root.pem + b.root.pem, [{ role: 'current', pem: json }], d('2030-11-15'));
  assert.deepEqual(report.entries.map((e) => [e.label, e.role]), [
    ['current 1 · certificates[0].pem ("current"), block 1 (line 1)', 'current'],
    ['current 1 · certificates[1].pem ("upcoming"), block 1 (line 1)', 'upcoming'],
  ]);
  assert.deepEqual(report.entries.map((e) => [e.trusted, e.acceptedNow, e.problems.map((p) => p.code)]), [
    [true, true, ['expires_soon']],
    // Not valid yet: the normal state of a successor, not a problem.
    [true, false, []],
  ]);
  assert.deepEqual(report.problems, []);
});

test('checkRotation: current and upcoming in one PEM: the one not valid yet is the upcoming one', async () => {
  const report = await checkRotation(a.root.pem + b.root.pem, [{ role: 'current', pem: current + upcomingNewCa }], d('2030-11-15'));
  assert.deepEqual(report.entries.map((e) => e.role), ['current', 'upcoming']);
  assert.deepEqual(report.entries.map((e) => e.problems.map((p) => p.code)), [['expires_soon'], []]);
  assert.deepEqual(report.problems, []);
});

test('checkRotation: a JSON CA bundle keeps every CA', async () => {
  const json = JSON.stringify({ cas: [{ name: 'old root', pem: a.root.pem }, { name: 'new root', pem: b.root.pem }] });
  const report = await checkRotation(json, [{ role: 'current', pem: current }, { role: 'upcoming', pem: upcomingNewCa }], d('2030-11-15'));
  assert.equal(report.anchors.length, 2);
  assert.deepEqual(report.entries.map((e) => e.trusted), [true, true]);
});
