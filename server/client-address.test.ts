// Per-address limits behind a proxy: with --trust-proxy naming it, sessions count against the
// client in X-Forwarded-For; from any other peer the header is the client's own word and ignored.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { startRelay, type RunningRelay } from './relay.ts';
import { clientAddress, parseTrustedProxies } from './client-address.ts';
import { openOrRefused, type RelayClient } from './testing/relay-client.ts';

const started: RunningRelay[] = [];
const clients: RelayClient[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(started.map((r) => r.close()));
});

async function hostedRelay(trustProxy?: string[]): Promise<RunningRelay> {
  const r = await startRelay({ port: 0, quiet: true, lab: false, hosted: true, limits: { sessionsPerAddress: 2 }, webRoot: await mkdtemp(join(tmpdir(), 'harness-proxy-web-')), ...(trustProxy ? { trustProxy } : {}) });
  started.push(r);
  return r;
}

/** Opens a session as if forwarded for `client`: true when welcomed, the close reason otherwise. */
async function session(r: RunningRelay, client: string): Promise<true | string> {
  const got = await openOrRefused(r, { 'x-forwarded-for': client });
  clients.push(got.client);
  return got.welcomed ? true : got.close!.reason;
}

test('behind a trusted proxy, sessionsPerAddress counts each forwarded client', async () => {
  const r = await hostedRelay(['127.0.0.1']);
  assert.equal(await session(r, '203.0.113.7'), true);
  assert.equal(await session(r, '203.0.113.7'), true);
  assert.match(String(await session(r, '203.0.113.7')), /^busy_address: at most 2 sessions/);
  // Another learner behind the same proxy has room of their own; a forged hop on the left does not help.
  assert.equal(await session(r, '198.51.100.1, 203.0.113.8'), true);
  assert.equal(await session(r, '203.0.113.7, 203.0.113.8'), true);
  assert.match(String(await session(r, '198.51.100.9, 203.0.113.8')), /^busy_address/);
});

test('without --trust-proxy (or from a peer not named) X-Forwarded-For is ignored', async () => {
  for (const r of [await hostedRelay(), await hostedRelay(['192.0.2.1'])]) {
    assert.equal(await session(r, '203.0.113.1'), true);
    assert.equal(await session(r, '203.0.113.2'), true);
    assert.match(String(await session(r, '203.0.113.3')), /^busy_address/, 'all three are the loopback peer');
  }
});

test('clientAddress reads X-Forwarded-For from the right, past trusted hops, and falls back to the peer', () => {
  const trusted = parseTrustedProxies(['127.0.0.1, 10.0.0.5']);
  const req = (peer: string, xff?: string | string[]) => ({ socket: { remoteAddress: peer }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as unknown as IncomingMessage;
  const cases: [string, string | string[] | undefined, string][] = [
    ['127.0.0.1', '203.0.113.7', '203.0.113.7'],
    ['::ffff:127.0.0.1', '203.0.113.7', '203.0.113.7'],
    ['127.0.0.1', '203.0.113.7, 10.0.0.5', '203.0.113.7'],
    ['127.0.0.1', ['198.51.100.1', '203.0.113.7'], '203.0.113.7'],
    ['127.0.0.1', '2001:db8::1', '2001:db8::1'],
    ['127.0.0.1', undefined, '127.0.0.1'],
    ['127.0.0.1', 'not-an-address', '127.0.0.1'],
    ['127.0.0.1', '10.0.0.5', '127.0.0.1'],
    ['127.0.0.1', `${'1.2.3.4, '.repeat(200)}203.0.113.7`, '127.0.0.1'],
    ['192.0.2.50', '203.0.113.7', '192.0.2.50'],
  ];
  for (const [peer, xff, want] of cases) assert.equal(clientAddress(req(peer, xff), trusted), want, `${peer} ${JSON.stringify(xff)}`);
  assert.throws(() => parseTrustedProxies(['127.0.0.1,nginx']), /trust-proxy "nginx" is not an IP address/);
});
