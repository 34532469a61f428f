// The TLS contexts a hold keeps past their connections: a server check's cases until the check's
// cache drops them, and a session's recent ones for a moment after each was last used.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { acquireContext, ContextHold, openContexts } from './tls-contexts.ts';
import { makeTestPki, type TestPki } from '../testing/test-pki.ts';

let pki: TestPki;
before(async () => {
  pki = await makeTestPki();
});
after(() => pki?.remove());

const options = (name: 'client' | 'clientViaIntermediate' | 'clientFromOtherCa') => ({ certificatePem: pki[name].cert, privateKeyPem: pki[name].key, ca: [pki.serverCa.cert] });

/** Builds of tls.createSecureContext while `fn` runs. */
function builds(fn: () => void): number {
  const build = tls.createSecureContext;
  let n = 0;
  tls.createSecureContext = (...args) => { n++; return build(...args); };
  try {
    fn();
  } finally {
    tls.createSecureContext = build;
  }
  return n;
}

test('a session hold keeps each context until it has gone unused for idleMs, and makes room by dropping the least recently used', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const before = openContexts();
  const hold = new ContextHold(2, { idleMs: 100 });
  // A run: the connection acquires the context, the hold keeps it, the connection closes.
  const run = (name: Parameters<typeof options>[0]) => builds(() => {
    const connection = acquireContext(options(name));
    hold.keep(options(name));
    connection.release();
  });
  assert.equal(run('client'), 1, 'the first run builds its context');
  assert.equal(openContexts() - before, 1, 'kept after its connection closed');
  t.mock.timers.tick(60);
  assert.equal(run('client'), 0, 'a repeat within idleMs builds nothing');
  t.mock.timers.tick(60);
  assert.equal(openContexts() - before, 1, 'each use starts idleMs again');
  t.mock.timers.tick(41);
  assert.equal(openContexts() - before, 0, 'dropped idleMs after its last use');
  assert.equal(run('client'), 1, 'and built again after that');

  run('clientViaIntermediate');
  run('clientFromOtherCa');
  assert.equal(hold.size, 2);
  assert.equal(openContexts() - before, 2, 'the least recently used made room');
  assert.equal(run('clientFromOtherCa'), 0);
  assert.equal(run('client'), 1, 'the dropped one is built again');

  hold.release();
  assert.equal(openContexts() - before, 0, 'release drops every context at once');
  assert.equal(run('client'), 1);
  assert.equal(openContexts() - before, 0, 'a released hold keeps nothing more');
});

test('a hold without idleMs keeps what it was given until released, and no more than its size', () => {
  const before = openContexts();
  const hold = new ContextHold(1);
  for (const name of ['client', 'clientViaIntermediate'] as const) acquireContext(options(name)).release();
  hold.keep(options('client'));
  hold.keep(options('clientViaIntermediate'));
  assert.equal(openContexts() - before, 1, 'a full hold keeps no more');
  hold.release();
  assert.equal(openContexts() - before, 0);
});
