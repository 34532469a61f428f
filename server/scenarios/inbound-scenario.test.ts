// An inbound check saved as a scenario runs headless: the listener with the saved settings on a
// free loopback port, one client connection with the saved certificate (its key read from the
// file the scenario names), and the connection's own verdict and diagnosis as the result —
// what the app shows for a client that connects. The key never reaches an event.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toScenario, type InboundScenarioRequest } from '../../shared/flows/scenario.ts';
import type { ServerMessage } from '../../shared/protocol/index.ts';
import { makeTestPki, type TestPki } from '../testing/test-pki.ts';
import { runScenario } from '../commands/run.ts';
import { checkExpect, parseScenario, ScenarioError } from './scenario.ts';

let pki: TestPki;
let dir: string;

before(async () => {
  pki = await makeTestPki();
  dir = await mkdtemp(join(tmpdir(), 'inbound-scenario-'));
  await writeFile(join(dir, 'client-key.pem'), pki.client.key);
});

const CASES: { name: string; request: () => InboundScenarioRequest; outcome: 'pass' | 'fail'; diagnoses: string[] }[] = [
  { name: 'a certificate from the trusted CA passes', request: () => ({ listener: { caPem: pki.clientCa.cert }, client: { certificatePem: pki.client.cert, privateKeyPem: pki.client.key } }), outcome: 'pass', diagnoses: [] },
  { name: 'no certificate at all', request: () => ({ listener: { caPem: pki.clientCa.cert } }), outcome: 'fail', diagnoses: ['client_cert_required'] },
  { name: 'a CN the access rule refuses', request: () => ({ listener: { caPem: pki.clientCa.cert, rule: { cnEquals: 'someone-else' } }, client: { certificatePem: pki.client.cert, privateKeyPem: pki.client.key } }), outcome: 'fail', diagnoses: ['access_denied'] },
];

for (const c of CASES) {
  test(`inbound scenario: ${c.name}`, async () => {
    const file = toScenario({ kind: 'inbound', inbound: c.request() }, { name: c.name, expect: { outcome: c.outcome, diagnoses: c.diagnoses } });
    const text = JSON.stringify(file);
    assert.doesNotMatch(text, /PRIVATE KEY/, 'the key is named, not saved');
    const scenario = parseScenario(text);
    const events: ServerMessage[] = [];
    const result = await runScenario(scenario, { baseDir: dir, lab: null, onEvent: (m) => events.push(m) });
    const check = checkExpect(scenario, result)!;
    assert.ok(check.ok, check.message);
    assert.equal(events[0]?.type, 'run.started');
    assert.equal(events.at(-1)?.type, 'run.finished');
    const keyLine = pki.client.key.split('\n')[1]!;
    assert.ok(!JSON.stringify(events).includes(keyLine), 'no event carries the key');
  });
}

test('inbound scenario: bad input names the field', async () => {
  const bad = [
    [{ version: 1, name: 'x', kind: 'inbound', inbound: {} }, /inbound\.listener must be an object/],
    [{ version: 1, name: 'x', kind: 'inbound', inbound: { listener: { caPem: 'nope' } } }, /inbound\.caPem must be a PEM bundle/],
    [{ version: 1, name: 'x', kind: 'inbound', inbound: { listener: { caPem: 'x', port: 8443 } } }, /inbound\.listener\.port is not saved/],
    [{ version: 1, name: 'x', kind: 'inbound', inbound: { listener: { caPem: 'x' }, client: 'me' } }, /inbound\.client must be an object/],
  ] as const;
  for (const [raw, message] of bad) {
    await assert.rejects(async () => runScenario(parseScenario(JSON.stringify(raw)), { baseDir: dir, lab: null, onEvent: () => {} }), (err: Error) => err instanceof ScenarioError || err.name === 'ProtocolError' ? message.test(err.message) : false);
  }
});
