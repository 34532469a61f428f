// The TLS phase's failure signals against a real `openssl s_server`: the alert a refusing server
// sent comes from the wire tap, as a number, whatever text OpenSSL gives the error.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEFAULT_LIMITS } from '../defaults.ts';
import { opensslServer } from '../testing/peers.ts';
import { makeTapPki, type TapPki } from '../testing/test-pki.ts';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { exportPkcs8Pem, generateKeyPair, selfSign } from '../../shared/pki/issue.ts';
import { bounded, CancelledError, connectTcp, handshakeTls, PhaseError } from './dial.ts';

let pki: TapPki;
before(async () => {
  pki = await makeTapPki();
});
after(async () => {
  await pki?.remove();
});

const cases = [
  { name: 'TLS 1.2, no client certificate: handshake_failure', flag: '-tls1_2', clientCert: false, alert: 40 },
  { name: 'TLS 1.2, a certificate from a CA it does not trust: unknown_ca', flag: '-tls1_2', clientCert: true, alert: 48 },
] as const;

for (const c of cases) {
  test(`a refusing server's alert reaches the signals from the tap: ${c.name}`, async () => {
    // The client's own CA is left out of -CAfile for the unknown_ca case.
    const caFile = c.clientCert ? pki.serverCa.certFile : pki.clientCas.file;
    const server = await opensslServer(['-www', '-cert', pki.serverViaIntermediate.certFile, '-key', pki.serverViaIntermediate.keyFile, '-cert_chain', pki.serverIntermediate.certFile, c.flag, '-Verify', '1', '-verify_return_error', '-CAfile', caFile]);
    try {
      const socket = await connectTcp('127.0.0.1', server.port, 4, DEFAULT_LIMITS);
      const opts = { servername: 'localhost', ca: [pki.serverCa.cert], ...(c.clientCert ? { certificatePem: pki.clientRsa.cert, privateKeyPem: pki.clientRsa.key } : {}) };
      const err = await handshakeTls(socket, opts, 'localhost', DEFAULT_LIMITS, undefined, {}).then(
        () => assert.fail('the handshake should fail'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof PhaseError, String(err));
      assert.equal(err.signals.phase, 'tls');
      assert.equal(err.signals.serverAlert, c.alert, `error ${err.signals.errorCode}`);
    } finally {
      await server.close();
    }
  });
}

test('bounded: a cancelled wait leaves no timer behind (a shut-down relay exits at once)', async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const ac = new AbortController();
  const waits = Array.from({ length: 5 }, () => bounded(new Promise<never>(() => {}), 60_000, ac.signal, () => new Error('timeout')));
  assert.equal(timers(), before + 5);
  ac.abort();
  for (const w of waits) await assert.rejects(w, CancelledError);
  assert.equal(timers(), before);
});

test('the server name is judged as Node judges it: wildcards, CN-only certificates, IP addresses, letter case', async () => {
  const names: { dnsNames?: string[]; ipAddresses?: string[]; subject: string }[] = [
    { subject: 'CN=wild', dnsNames: ['*.example.test'] },
    { subject: 'CN=partial', dnsNames: ['f*.example.test'] },
    { subject: 'CN=cn-only.example.test' },
    { subject: 'CN=localhost', dnsNames: ['LocalHost'], ipAddresses: ['127.0.0.1', '::1'] },
  ];
  const hosts = ['a.example.test', 'foo.example.test', 'a.b.example.test', 'example.test', 'cn-only.example.test', 'localhost', '127.0.0.1', '127.0.0.2', '::1'];
  let compared = 0;
  for (const n of names) {
    const keys = await generateKeyPair('P-256', true);
    const cert = (await selfSign(keys, { ...n, profile: 'server' })).toString('pem');
    const server = tls.createServer({ cert, key: await exportPkcs8Pem(keys.privateKey) }, (s) => s.end());
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      for (const host of hosts) {
        const node = tls.checkServerIdentity(host, new X509Certificate(cert).toLegacyObject() as tls.PeerCertificate);
        const socket = await connectTcp('127.0.0.1', (server.address() as AddressInfo).port, 4, DEFAULT_LIMITS);
        const hs = await handshakeTls(socket, { servername: undefined, ca: [cert] }, host, DEFAULT_LIMITS, undefined, {});
        hs.socket.destroy();
        assert.equal(hs.verifyError, node ? String((node as NodeJS.ErrnoException).code) : null, `${n.subject} for ${host}: Node says ${node?.message ?? 'match'}`);
        compared++;
      }
    } finally {
      await new Promise<void>((ok) => server.close(() => ok()));
    }
  }
  assert.equal(compared, names.length * hosts.length);
});
