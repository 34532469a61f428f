// The security finding of a normal probe: openssl s_server -Verify 3 without
// -verify_return_error asks for a certificate and then accepts whatever it gets. A pass with a
// certificate the harness knows the server should not have trusted is a finding, not a pass
// next to a warning that the server "will most likely refuse it".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runProbe } from './run-probe.ts';
import { validateLimits } from '../defaults.ts';
import { makeTestPki, type TestPki, type Pair } from '../testing/test-pki.ts';
import { opensslServer, type Peer } from '../testing/peers.ts';
import { findStep } from '../../shared/protocol/index.ts';

let pki: TestPki;
let lax: Peer;

before(async () => {
  pki = await makeTestPki();
  lax = await opensslServer(['-cert', pki.server.certFile, '-key', pki.server.keyFile, '-CAfile', pki.clientCa.certFile, '-Verify', '3', '-www']);
});
after(() => lax?.close());

const cases: { name: string; client: () => Pair; want: string[]; evidence?: RegExp }[] = [
  { name: 'certificate from another CA', client: () => pki.clientFromOtherCa, want: ['server_accepts_untrusted_client_cert'], evidence: /not among the acceptable CAs/ },
  { name: 'expired certificate from the right CA', client: () => pki.clientExpired, want: ['server_accepts_untrusted_client_cert'], evidence: /cert_expired/ },
  { name: 'not-yet-valid certificate', client: () => pki.clientNotYetValid, want: ['server_accepts_untrusted_client_cert'], evidence: /cert_not_yet_valid/ },
  { name: 'valid certificate: no finding', client: () => pki.client, want: [] },
];

for (const c of cases) {
  test(`lax s_server, ${c.name} → ${c.want.join(', ') || 'pass'}`, async () => {
    const r = await runProbe({ url: `https://localhost:${lax.port}/`, caPem: pki.serverCa.cert, client: { certificatePem: c.client().cert, privateKeyPem: c.client().key } }, { limits: validateLimits(), onStep: () => {} });
    assert.equal(r.outcome, 'pass');
    assert.deepEqual(r.diagnoses, c.want);
    const tlsStep = findStep(r.steps, 'tls')!;
    if (c.evidence) {
      assert.equal(tlsStep.status, 'warn');
      assert.equal(tlsStep.diagnosis?.code, 'server_accepts_untrusted_client_cert');
      assert.equal(tlsStep.details?.untrustedAccepted, true);
      assert.match(tlsStep.diagnosis!.evidence.join('\n'), c.evidence);
      assert.match(findStep(r.steps, 'verdict')!.summary!, /should not have trusted/);
    } else {
      assert.equal(tlsStep.status, 'ok');
    }
  });
}
