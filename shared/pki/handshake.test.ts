// Certificates as the workshop makes them (issue.ts: a root, an intermediate, client and server
// profiles, chosen validity) in a real mutual-TLS handshake: `openssl s_server -Verify` trusting the
// workshop root, Node's TLS as the client trusting the same root for the server. The training
// variants must fail the way DESIGN.md says real servers refuse them, with the TLS alert named.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { opensslServer, type Peer } from '../../server/testing/peers.ts';
import { alertFromError, alertName } from '../tls/alerts.ts';
import { issuedPki, tempDir } from './fixtures.test.ts';
import type { KeyAlgorithmName } from './issue.ts';

const DAY = 86_400_000; // ms
const pki = await issuedPki(new Date(Date.now() - 2 * DAY), 'Workshop Handshake');
const dir = tempDir();
const server = await pki.issueWith('intermediate', { subject: 'CN=localhost', profile: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
writeFileSync(join(dir, 'root.pem'), pki.root.pem);
writeFileSync(join(dir, 'server.pem'), server.pem);
writeFileSync(join(dir, 'int.pem'), pki.intermediate.pem);
writeFileSync(join(dir, 'server.key'), server.keyPem);
const peer: Peer & { output(): string } = await opensslServer(['-cert', join(dir, 'server.pem'), '-cert_chain', join(dir, 'int.pem'), '-key', join(dir, 'server.key'), '-Verify', '3', '-verify_return_error', '-CAfile', join(dir, 'root.pem'), '-www']);
after(() => peer.close());

interface Outcome {
  /** Node verified the server against the workshop root, SAN 127.0.0.1 included. */
  serverAuthorized: boolean;
  response: string;
  /** Node's error code when the server refused, e.g. ERR_SSL_TLSV1_ALERT_UNKNOWN_CA. */
  error?: string;
  /** The alert that error reports; OpenSSL's spelling of the code changes between versions. */
  alert?: string;
}

function connect(client: { pem: string; keyPem: string }, chainPem: string): Promise<Outcome> {
  return new Promise((resolve) => {
    let serverAuthorized = false;
    let response = '';
    const socket = tls.connect({ host: '127.0.0.1', port: peer.port, ca: pki.root.pem, cert: client.pem + chainPem, key: client.keyPem }, () => {
      serverAuthorized = socket.authorized;
      socket.write('GET / HTTP/1.0\r\n\r\n');
    });
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (response += d));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      const alert = alertFromError(e.code, e.message);
      resolve({ serverAuthorized, response, error: e.code ?? e.message, ...(alert !== undefined && { alert: alertName(alert) }) });
    });
    socket.on('close', () => resolve({ serverAuthorized, response }));
  });
}

for (const algorithm of ['P-256', 'RSA-2048', 'Ed25519'] as const satisfies readonly KeyAlgorithmName[]) {
  test(`a ${algorithm} client certificate from the workshop CA completes the handshake with openssl s_server -Verify`, async () => {
    const client = await pki.issueWith('intermediate', { subject: `CN=workshop-${algorithm}` }, algorithm);
    const outcome = await connect(client, pki.intermediate.pem);
    assert.equal(outcome.error, undefined, peer.output().slice(-500));
    assert.equal(outcome.serverAuthorized, true);
    assert.match(outcome.response, /^HTTP\/1\.0 200 ok/);
    assert.ok(new RegExp(`Client certificate[\\s\\S]*Subject: CN=workshop-${algorithm}\\n`).test(outcome.response), 'the server shows the certificate it verified');
  });
}

const REFUSED: { name: string; options: Parameters<typeof pki.issueWith>[1]; chain: 'intermediate' | 'none'; alert: string }[] = [
  { name: 'without its intermediate', options: { subject: 'CN=no-intermediate' }, chain: 'none', alert: 'unknown_ca' },
  { name: 'already expired', options: { subject: 'CN=expired', notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() - 60_000) }, chain: 'intermediate', alert: 'certificate_expired' },
  { name: 'not yet valid', options: { subject: 'CN=not-yet', notBefore: new Date(Date.now() + 30 * DAY) }, chain: 'intermediate', alert: 'bad_certificate' },
  { name: 'serverAuth only', options: { subject: 'CN=server-only', extendedKeyUsages: ['1.3.6.1.5.5.7.3.1'] }, chain: 'intermediate', alert: 'unsupported_certificate' },
];

for (const r of REFUSED) {
  test(`a workshop client certificate ${r.name} is refused with the alert a trainer expects`, async () => {
    const client = await pki.issueWith('intermediate', r.options);
    const outcome = await connect(client, r.chain === 'intermediate' ? pki.intermediate.pem : '');
    assert.equal(outcome.alert, r.alert, `error ${outcome.error}`);
    assert.doesNotMatch(outcome.response, /200 ok/);
  });
}
