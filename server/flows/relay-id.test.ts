// Several relays behind one balancer: what each relay mints carries its --relay-id, so the
// balancer can route a sign-in redirect to the relay holding the flow; a redirect that reaches
// the wrong relay says so; a bad id is refused with the rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallbackRegistry, checkRelayId } from './callbacks.ts';
import { main } from '../cli.ts';

test('relay ids: lower-case letters, digits and inner hyphens, 1-32 characters', () => {
  const cases: [string, boolean][] = [
    ['r1', true], ['harness-0', true], ['a', true], ['x'.repeat(32), true],
    ['', false], ['R1', false], ['-r1', false], ['r1-', false], ['r.1', false], ['r_1', false], ['x'.repeat(33), false], ['r1/../x', false],
  ];
  for (const [id, ok] of cases) {
    if (ok) assert.equal(checkRelayId(id), id);
    else assert.throws(() => checkRelayId(id), /must be 1-32 characters of a-z, 0-9 and inner hyphens/, JSON.stringify(id));
  }
  assert.throws(() => new CallbackRegistry('Bad'), TypeError);
});

test('a relay marks its state "<id>.<random>" and generated keys "<id>-<random>"; without an id both are plain', () => {
  const marked = new CallbackRegistry('harness-1');
  for (let i = 0; i < 20; i++) {
    assert.match(marked.newState(), /^harness-1\.[A-Za-z0-9_-]{22}$/);
    assert.match(marked.newKey(), /^harness-1-[A-Za-z0-9]{8,16}$/);
  }
  const plain = new CallbackRegistry();
  assert.match(plain.newState(), /^[A-Za-z0-9_-]{22}$/);
  assert.match(plain.newKey(), /^[A-Za-z0-9]{8,16}$/);
});

test('a redirect the balancer sent to the wrong relay is answered 404 with both relay ids and where to fix it', async () => {
  const registry = new CallbackRegistry('r2');
  const server = http.createServer((req, res) => { if (!registry.handle(req, res)) res.writeHead(404).end(); });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback/`;
  try {
    const cases: [string, RegExp][] = [
      ['r1-abc123?code=x&state=r1.s', /belongs to relay r1, and this is relay r2\. The load balancer must route \/callback\//],
      ['mykey?code=x&state=r1.s', /belongs to relay r1/],
      ['r1-abc123?code=x', /belongs to relay r1/],
      ['mykey?code=x&state=plain', /^No flow is waiting for this redirect \(it may have timed out\)\.$/],
      ['r2-abc123?code=x&state=r2.s', /^No flow is waiting for this redirect \(it may have timed out\)\.$/],
      ['mykey?code=x&state=EVIL%3Cscript%3E.s', /^No flow is waiting/],
    ];
    for (const [path, want] of cases) {
      const res = await fetch(base + path);
      assert.equal(res.status, 404, path);
      assert.match(await res.text(), want, path);
    }
  } finally {
    server.close();
  }
});

test('serve --relay-id refuses a bad id with the rule, before it listens', async () => {
  let err = '';
  const code = await main(['serve', '--port', '0', '--no-lab', '--relay-id', 'Relay_1'], { stdout: () => {}, stderr: (s) => { err += s; } });
  assert.equal(code, 2);
  assert.match(err, /relay id "Relay_1" must be 1-32 characters/);
});
