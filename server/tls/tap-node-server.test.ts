// The tap against a Node tls.Server: what Node sends when it asks for a client certificate
// (measured: the `ca` list goes out as CA names on TLS 1.2 and as certificate_authorities on
// TLS 1.3), and proof that the tap changes nothing the application sees.
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { certificateNames } from './certificate-names.ts';
import { tapConnection } from './tap.ts';
import { connectionOutcome, connectThroughTap } from './testing/connect.ts';
import { sClient } from '../testing/peers.ts';
import { makeTapPki, type TapPki } from '../testing/test-pki.ts';

let pki: TapPki;
before(async () => {
  pki = await makeTapPki();
});
after(async () => {
  await pki?.remove();
});

async function nodeServer(options: tls.TlsOptions): Promise<{ port: number; close(): void }> {
  const server = tls.createServer({ key: pki.serverViaIntermediate.key, cert: pki.serverChainPem, ...options }, (socket) => socket.end('hello from node'));
  // Rejected clients surface here; they are expected.
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
  describe(`Node tls.Server ${version}`, () => {
    const pinned = { minVersion: version, maxVersion: version } as const;

    test('sends its `ca` list as acceptable CA names, exactly as s_client reads them', async () => {
      const server = await nodeServer({ ...pinned, requestCert: true, rejectUnauthorized: true, ca: [pki.clientCa.cert, pki.secondClientCa.cert] });
      try {
        const oracle = await sClient(server.port);
        const result = await connectThroughTap(server.port, { ca: pki.serverCa.cert, cert: pki.clientRsa.cert, key: pki.clientRsa.key });
        const o = result.observation;
        assert.equal(result.error, undefined);
        assert.equal(o.version, version);
        assert.equal(o.certificateRequested, true);
        assert.deepEqual(o.acceptableCANames.map((n) => n.openssl), oracle.acceptableCAs);
        assert.deepEqual(o.acceptableCANames.map((n) => n.der), [pki.clientCa, pki.secondClientCa].map((ca) => certificateNames(ca.der).subject.der));
        assert.deepEqual(o.serverChainDer, [pki.serverViaIntermediate.der, pki.serverIntermediate.der]);
        assert.deepEqual(o.clientChainDer, [pki.clientRsa.der]);
      } finally {
        server.close();
      }
    });

    test('at secureConnect the observation already holds the CertificateRequest and both chains', async () => {
      const server = await nodeServer({ ...pinned, requestCert: true, ca: [pki.clientCa.cert] });
      const socket = net.connect(server.port, '127.0.0.1');
      try {
        await new Promise((resolve) => socket.once('connect', resolve));
        const tap = tapConnection(socket);
        const tlsSocket = tap.connect({ servername: 'localhost', ca: pki.serverCa.cert, cert: pki.clientRsa.cert, key: pki.clientRsa.key });
        await new Promise((resolve) => tlsSocket.once('secureConnect', resolve));
        const o = tap.observation();
        assert.equal(o.certificateRequested, true);
        assert.deepEqual(o.acceptableCAs, ['CN=Test Client Root, O=Harness Tests']);
        assert.deepEqual(o.serverChainDer, [pki.serverViaIntermediate.der, pki.serverIntermediate.der]);
        assert.deepEqual(o.clientChainDer, [pki.clientRsa.der]);
        tlsSocket.destroy();
      } finally {
        socket.destroy();
        server.close();
      }
    });

    test('requestCert false: no CertificateRequest, no client Certificate message', async () => {
      const server = await nodeServer(pinned);
      try {
        const result = await connectThroughTap(server.port, { ca: pki.serverCa.cert, cert: pki.clientRsa.cert, key: pki.clientRsa.key });
        assert.equal(result.error, undefined);
        assert.equal(result.observation.certificateRequested, false);
        assert.equal(result.observation.clientChainDer, null);
      } finally {
        server.close();
      }
    });

    test('no client certificate: OpenSSL alerts (40 on TLS 1.2, 116 on TLS 1.3), and the tap changes nothing the application sees', async () => {
      const server = await nodeServer({ ...pinned, requestCert: true, rejectUnauthorized: true, ca: [pki.clientCa.cert] });
      try {
        const options = { ca: pki.serverCa.cert };
        const plain = await connectionOutcome(server.port, options, 'plain');
        const tapped = await connectionOutcome(server.port, options, 'tap');
        assert.deepEqual(tapped, plain);
        const result = await connectThroughTap(server.port, options);
        const expected = version === 'TLSv1.2' ? 40 : 116;
        assert.deepEqual(result.observation.alerts.map((a) => [a.from, a.description]), [['server', expected]]);
        assert.deepEqual(result.observation.clientChainDer, []);
      } finally {
        server.close();
      }
    });

    test('untrusted client certificate: Node closes without any alert, through the tap as without it', async () => {
      const server = await nodeServer({ ...pinned, requestCert: true, rejectUnauthorized: true, ca: [pki.secondClientCa.cert] });
      try {
        const options = { ca: pki.serverCa.cert, cert: pki.clientRsa.cert, key: pki.clientRsa.key };
        const plain = await connectionOutcome(server.port, options, 'plain');
        const tapped = await connectionOutcome(server.port, options, 'tap');
        assert.deepEqual(tapped, plain);
        // Measured: TLS 1.2 fails with ECONNRESET before secureConnect; TLS 1.3 completes, then a bare close.
        assert.deepEqual(plain, version === 'TLSv1.2' ? { secureConnect: false, received: '', errorCode: 'ECONNRESET' } : { secureConnect: true, received: '' });
        const result = await connectThroughTap(server.port, options);
        assert.deepEqual(result.observation.alerts, []);
        assert.deepEqual(result.observation.clientChainDer, [pki.clientRsa.der]);
      } finally {
        server.close();
      }
    });
  });
}
