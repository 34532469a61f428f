// The relay address and its access token, read from the page URL; the token leaves the address bar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WS_PATH } from '../../../../shared/protocol/index.ts';
import { readRelayAddress } from './address.ts';

function page(href: string) {
  const url = new URL(href);
  const location = { protocol: url.protocol, host: url.host, pathname: url.pathname, search: url.search, hash: url.hash } as Location;
  const replaced: string[] = [];
  const history = { state: null, replaceState: (_s: unknown, _t: string, to: string) => replaced.push(to) } as unknown as History;
  const items = new Map<string, string>();
  const storage = { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => items.set(k, v) } as unknown as Storage;
  return { location, history, storage, replaced, items };
}

test('the token moves from the address bar to this tab\'s storage; other parameters and the hash stay', () => {
  const p = page('http://127.0.0.1:8080/app?token=a%2Bb&x=1#probe');
  const address = readRelayAddress(p.location, p.history, p.storage);
  assert.equal(address.token, 'a+b');
  assert.equal(address.wsUrl, `ws://127.0.0.1:8080${WS_PATH}?token=a%2Bb`);
  assert.equal(address.httpUrl, `http://127.0.0.1:8080${WS_PATH}?token=a%2Bb`);
  assert.deepEqual(p.replaced, ['/app?x=1#probe']);
  assert.deepEqual([...p.items.values()], ['a+b']);
});

test('a reload without the token in the URL uses the stored one; https pages use wss', () => {
  const p = page('https://relay.example/');
  p.items.set('harness.relayToken', 'kept');
  const address = readRelayAddress(p.location, p.history, p.storage);
  assert.equal(address.wsUrl, `wss://relay.example${WS_PATH}?token=kept`);
  assert.deepEqual(p.replaced, [], 'nothing to take out of the address bar');
});

test('?relay= points elsewhere; without a token there is no query', () => {
  const p = page('http://localhost:5173/?relay=ws://127.0.0.1:9000//');
  const address = readRelayAddress(p.location, p.history, null);
  assert.equal(address.wsUrl, `ws://127.0.0.1:9000${WS_PATH}`);
  assert.equal(address.httpUrl, `http://127.0.0.1:9000${WS_PATH}`);
  assert.equal(address.token, '');
});
