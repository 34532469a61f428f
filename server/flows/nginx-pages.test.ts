// Flows through nginx with `ssl_verify_client on`: nginx refuses a client certificate with its
// own 400 page before the API or token endpoint sees the request. The flow must say why, as
// the probe does (the certificate's dates, EKU and the acceptable CA names, marked inferred),
// not judge the API key or token that never reached the application.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeTestPki, type TestPki, type Pair } from '../testing/test-pki.ts';
import { startNginx, type NginxServer } from '../testing/nginx.ts';
import { validateLimits } from '../defaults.ts';
import type { FlowRequest } from '../../shared/flows/flow-request.ts';
import type { Step } from '../../shared/protocol/index.ts';
import { runFlow } from './run.ts';
import { startCallbackListener, type CallbackListener } from './callback-listener.ts';

let pki: TestPki;
let nginx: NginxServer<'api'>;
let listener: CallbackListener;

before(async () => {
  pki = await makeTestPki();
  listener = await startCallbackListener();
  nginx = await startNginx({
    sites: {
      api: (port) => [
        'server {',
        `  listen 127.0.0.1:${port} ssl;`,
        `  ssl_certificate ${pki.server.certFile};`,
        `  ssl_certificate_key ${pki.server.keyFile};`,
        '  ssl_verify_client on;',
        `  ssl_client_certificate ${pki.clientCa.certFile};`,
        '  location / { return 200 "{\\"ok\\":true}\\n"; }',
        '}',
      ].join('\n'),
    },
  });
});

after(async () => {
  await listener.close();
  await nginx?.stop();
});

async function call(client: Pair) {
  const events: Step[] = [];
  const flow: FlowRequest = { kind: 'api-key', url: nginx.url('api'), apiKey: 'k-123456', username: 'u', tls: { caPem: pki.serverCa.cert, client: { certificatePem: client.cert, privateKeyPem: client.key } } };
  const result = await runFlow(flow, { limits: validateLimits(), relayOrigin: listener.origin, callbacks: listener.callbacks, lab: null, onStep: (s) => events.push(s) });
  const final = new Map(events.map((s) => [s.id, s]));
  return { ...result, call: final.get('call')! };
}

const cases = [
  { name: 'expired certificate', client: () => pki.clientExpired, want: 'client_cert_expired' },
  { name: 'certificate from another CA', client: () => pki.clientFromOtherCa, want: 'client_cert_unknown_ca' },
  { name: 'serverAuth-only certificate', client: () => pki.clientServerAuthOnly, want: 'client_cert_wrong_usage' },
] as const;

for (const c of cases) {
  test(`API behind nginx, ${c.name}: ${c.want} (inferred), not api_key_rejected`, async () => {
    const r = await call(c.client());
    assert.equal(r.outcome, 'fail');
    assert.equal(r.call.diagnosis?.code, c.want, JSON.stringify(r.call.diagnosis));
    assert.equal(r.call.diagnosis?.inferred, true);
    assert.match(r.call.diagnosis!.evidence.join('\n'), /The SSL certificate error/);
  });
}

test('API behind nginx, good certificate: passes', async () => {
  const r = await call(pki.client);
  assert.equal(r.outcome, 'pass', JSON.stringify(r.call));
});
