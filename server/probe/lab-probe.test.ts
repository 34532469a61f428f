// The probe against the built-in lab's mTLS target, which refuses like nginx (one 400 page for
// every verification failure) but names Node's verification error in a header: what the
// server said wins over what the harness infers, and both are told apart in the diagnosis.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProbe } from './run-probe.ts';
import { validateLimits } from '../defaults.ts';
import { startLab, type RunningLab } from '../lab/lab.ts';
import { generateKeyPair, exportPkcs8Pem, selfSign, issue } from '../../shared/pki/issue.ts';
import type { ProbeRequest } from '../../shared/protocol/index.ts';

let lab: RunningLab;
let stranger: NonNullable<ProbeRequest['client']>;
let expired: NonNullable<ProbeRequest['client']>;

before(async () => {
  lab = await startLab({ dataDir: await mkdtemp(join(tmpdir(), 'lab-probe-')) });
  const keys = await generateKeyPair('P-256', true);
  const key = await exportPkcs8Pem(keys.privateKey);
  stranger = { certificatePem: (await selfSign(keys, { subject: 'CN=stranger', profile: 'client' })).toString('pem'), privateKeyPem: key };
  const day = 86_400_000;
  const old = await issue(keys.publicKey, lab.pki.clientCa, { subject: 'CN=lab-client-expired', profile: 'client', notBefore: new Date(Date.now() - 30 * day), notAfter: new Date(Date.now() - day) });
  expired = { certificatePem: old.toString('pem'), privateKeyPem: key };
});

after(() => lab.close());

async function probe(client: ProbeRequest['client']) {
  const url = lab.info.targets.find((t) => t.id === 'mtls')!.url;
  return runProbe({ url, ...(client ? { client } : {}) }, {
    limits: validateLimits(),
    lab: { serverCaPem: lab.serverCaPem, endpoints: [new URL(url).host] },
    onStep: () => {},
  });
}

const cases = [
  { name: 'certificate from another CA', client: () => stranger, want: 'client_cert_unknown_ca', header: /x-lab-verify-error: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/ },
  { name: 'expired certificate from the lab CA', client: () => expired, want: 'client_cert_expired', header: /x-lab-verify-error: CERT_HAS_EXPIRED/ },
] as const;

for (const c of cases) {
  test(`lab mTLS target: ${c.name} → ${c.want}, as the server's header says (not inferred)`, async () => {
    const r = await probe(c.client());
    const tls = r.steps.find((s) => s.id === 'tls')!;
    const context = JSON.stringify(tls.diagnosis);
    assert.equal(r.outcome, 'fail');
    assert.equal(r.diagnoses[0], c.want, context);
    assert.equal(tls.diagnosis?.code, c.want, context);
    assert.match(tls.diagnosis!.evidence.join('\n'), c.header, context);
    assert.equal(tls.diagnosis?.inferred, undefined, context);
  });
}
