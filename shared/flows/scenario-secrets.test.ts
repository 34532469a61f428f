// A saved scenario without secrets holds none: not in a body, not in a URL's query, not under
// a name the user marked secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toScenario } from './scenario.ts';

const S = 'S3cr3t-Canary-42';
const cases = [
  { name: 'probe: form body and query token', request: { kind: 'probe' as const, probe: { url: `https://api.example/x?access_token=${S}&page=2`, method: 'POST' as const, body: `client_secret=${S}&grant_type=client_credentials` } } },
  { name: 'probe: JSON body and a header marked secret', request: { kind: 'probe' as const, probe: { url: 'https://api.example/x', method: 'POST' as const, headers: { 'X-Partner-Key': S }, body: JSON.stringify({ password: S }), secretNames: ['X-Partner-Key'] } } },
  { name: 'probe: a form field marked secret', request: { kind: 'probe' as const, probe: { url: 'https://api.example/x', method: 'POST' as const, body: `pin=${S}`, secretNames: ['pin'] } } },
  { name: 'API-key flow: query and body', request: { kind: 'flow' as const, flow: { kind: 'api-key' as const, url: `https://api.example/x?api_key=${S}`, apiKey: 'k-1234567', username: 'u', body: `password=${S}` } } },
  { name: 'flow call: query and body', request: { kind: 'flow' as const, flow: { kind: 'client-credentials' as const, tokenUrl: 'https://as.example/token', clientAuth: { method: 'none' as const, clientId: 'c' }, call: { url: `https://api.example/x?token=${S}`, body: `{"api_key":"${S}"}` } } } },
];

for (const c of cases) {
  test(`export without secrets: ${c.name}`, () => {
    const file = JSON.stringify(toScenario(c.request, { name: 'n' }));
    assert.ok(!file.includes(S), file);
    assert.match(file, /"\$secret"/);
  });
}

test('export keeps ordinary URLs and bodies as they are', () => {
  const file = toScenario({ kind: 'probe', probe: { url: 'https://api.example/x?page=2', method: 'POST', body: 'grant_type=client_credentials' } }, { name: 'n' });
  assert.deepEqual(file.probe, { url: 'https://api.example/x?page=2', method: 'POST', body: 'grant_type=client_credentials' });
});
