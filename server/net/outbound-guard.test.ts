// The SSRF corpus: in hosted mode none of these reaches the canary listener on loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import https from 'node:https';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { checkAllAddresses, checkUrlAllowed, hostedPolicy, LOCAL_POLICY, OutboundRefused } from './outbound-guard.ts';
import { startRelay, type RunningRelay } from '../relay.ts';
import { detailsOf, type ServerMessage } from '../../shared/protocol/index.ts';
import { makeTestPki } from '../testing/test-pki.ts';
import { probeDiagnoses } from '../testing/relay-client.ts';

const addressCases: [string, boolean][] = [
  ['127.0.0.1', false], ['127.255.255.254', false], ['::1', false], ['::ffff:127.0.0.1', false], ['::ffff:7f00:1', false],
  ['0.0.0.0', false], ['::', false], ['169.254.169.254', false], ['100.64.0.1', false],
  ['10.0.0.1', false], ['172.16.0.1', false], ['172.31.255.255', false], ['192.168.1.1', false],
  ['fe80::1', false], ['fc00::1', false], ['fd12:3456::1', false], ['224.0.0.1', false], ['255.255.255.255', false],
  ['192.0.2.1', false], ['2002:7f00:1::1', false], ['64:ff9b::7f00:1', false],
  ['8.8.8.8', true], ['1.1.1.1', true], ['2001:4860:4860::8888', true], ['172.32.0.1', true],
];

for (const [address, allowed] of addressCases) {
  test(`hosted policy: ${address} is ${allowed ? 'allowed' : 'refused'}`, () => {
    const check = () => checkAllAddresses('target.example', [address], hostedPolicy());
    if (allowed) assert.doesNotThrow(check);
    else assert.throws(check, (e: unknown) => e instanceof OutboundRefused && e.code === 'target_address_refused');
  });
}

// IPv6 forms that carry an IPv4 address: the IPv4 address inside is judged by the IPv4 rules
// and named in the refusal. [address, allowed, what the refusal must say]
const embeddedCases: [string, boolean, RegExp | null][] = [
  ['::7f00:1', false, /IPv4-compatible address embedding 127\.0\.0\.1 \(loopback\)/],
  ['::a00:1', false, /IPv4-compatible address embedding 10\.0\.0\.1 \(private\)/],
  ['::a9fe:a9fe', false, /embedding 169\.254\.169\.254 \(linkLocal\)/],
  ['::808:808', false, /IPv4-compatible address embedding 8\.8\.8\.8: a transition form/],
  ['::ffff:0:7f00:1', false, /IPv4-translated address embedding 127\.0\.0\.1/],
  ['::ffff:a00:1', false, /10\.0\.0\.1/], // IPv4-mapped: judged as the IPv4 address itself
  ['::ffff:808:808', true, null],
  ['64:ff9b::7f00:1', false, /NAT64 address embedding 127\.0\.0\.1/],
  ['64:ff9b::c0a8:101', false, /NAT64 address embedding 192\.168\.1\.1 \(private\)/],
  ['64:ff9b::6440:1', false, /NAT64 address embedding 100\.64\.0\.1 \(carrierGradeNat\)/],
  ['64:ff9b::808:808', true, null], // how an IPv6-only (DNS64) host reaches a public IPv4 server
  ['64:ff9b:1::7f00:1', false, /local-use NAT64 address: a transition form/],
  ['64:ff9b:1:808:8:800::', false, /local-use NAT64/],
  ['2002:7f00:1::1', false, /6to4 address embedding 127\.0\.0\.1/],
  ['2002:a9fe:a9fe::1', false, /6to4 address embedding 169\.254\.169\.254/],
  ['2002:808:808::1', false, /6to4 address embedding 8\.8\.8\.8: a transition form/],
  ['2001:0:a00:1::f7f7:f7f7', false, /Teredo address embedding 10\.0\.0\.1/], // server part
  ['2001:0:808:808::80ff:fffe', false, /Teredo address embedding 127\.0\.0\.1/], // client part, inverted
  ['2001:0:808:808::f7f7:f7f7', false, /Teredo address embedding 8\.8\.8\.8 and 8\.8\.8\.8: a transition form/],
  ['::1', false, /\(loopback\)/],
  ['::', false, /\(unspecified\)/],
];
for (const [address, allowed, says] of embeddedCases) {
  test(`hosted policy, IPv4 inside IPv6: ${address} is ${allowed ? 'allowed' : 'refused'}`, () => {
    const check = () => checkAllAddresses('target.example', [address], hostedPolicy());
    if (allowed) assert.doesNotThrow(check);
    else assert.throws(check, (e: unknown) => e instanceof OutboundRefused && e.code === 'target_address_refused' && says!.test(e.message));
  });
}

test('a name with one public and one private answer is refused whole', () => {
  assert.throws(() => checkAllAddresses('mixed.example', ['8.8.8.8', '10.0.0.5'], hostedPolicy()), OutboundRefused);
});

test('operator allowlist admits a named private host, and only that name', () => {
  const policy = hostedPolicy({ allowTargets: ['intranet.example.'] });
  assert.doesNotThrow(() => checkAllAddresses('INTRANET.example', ['10.0.0.5'], policy));
  assert.throws(() => checkAllAddresses('other.example', ['10.0.0.5'], policy), OutboundRefused);
});

const urlCases: [string, string | null][] = [
  ['https://partner.example/', null],
  ['https://partner.example:8443/', null],
  ['https://partner.example:22/', 'target_port_refused'],
  ['http://partner.example/', 'target_scheme_refused'],
  ['file:///etc/passwd', 'target_scheme_refused'],
  ['gopher://127.0.0.1:70/', 'target_scheme_refused'],
  ['https://user@partner.example/', 'target_userinfo_refused'],
  ['https://user:pw@partner.example/', 'target_userinfo_refused'],
];
for (const [url, want] of urlCases) {
  test(`hosted policy URL ${url} → ${want ?? 'allowed'}`, () => {
    const check = () => checkUrlAllowed(new URL(url), hostedPolicy());
    if (want === null) assert.doesNotThrow(check);
    else assert.throws(check, (e: unknown) => e instanceof OutboundRefused && e.code === want);
  });
}

test('local mode allows loopback and private targets (partners test their own servers)', () => {
  assert.doesNotThrow(() => checkAllAddresses('localhost', ['127.0.0.1', '10.0.0.1'], LOCAL_POLICY));
  assert.doesNotThrow(() => checkUrlAllowed(new URL('https://localhost:1234/'), LOCAL_POLICY));
});

// ---- through a real hosted relay, with a canary that counts connections

let relay: RunningRelay;
let canary: net.Server;
let canaryPort: number;
let canaryHits = 0;
let redirector: https.Server;
let redirectorPort: number;

before(async () => {
  canary = net.createServer((s) => { canaryHits++; s.destroy(); });
  await new Promise<void>((ok) => canary.listen(0, '127.0.0.1', ok));
  canaryPort = (canary.address() as net.AddressInfo).port;
  const pki = await makeTestPki();
  // An admitted endpoint that redirects to the canary: the probe must not follow.
  redirector = https.createServer({ cert: pki.server.cert, key: pki.server.key }, (_req, res) => {
    res.writeHead(302, { location: `https://127.0.0.1:${canaryPort}/` }).end();
  });
  await new Promise<void>((ok) => redirector.listen(0, '127.0.0.1', ok));
  redirectorPort = (redirector.address() as net.AddressInfo).port;
  relay = await startRelay({
    port: 0, hosted: true, quiet: true, lab: false,
    allowPorts: [canaryPort, 443],
    dataDir: await mkdtemp(join(tmpdir(), 'harness-ssrf-')),
    webRoot: await mkdtemp(join(tmpdir(), 'harness-web-')),
  });
  void pki;
});
after(async () => {
  await relay.close();
  canary.close();
  redirector.close();
});

const probeViaRelay = (url: string) => probeDiagnoses(relay, { url });

test('hosted relay: the SSRF corpus is refused and the canary sees no connection', async () => {
  const p = () => canaryPort;
  const corpus = [
    `https://127.0.0.1:${p()}/`, `https://127.1:${p()}/`, `https://2130706433:${p()}/`, `https://0x7f000001:${p()}/`,
    `https://017700000001:${p()}/`, `https://[::1]:${p()}/`, `https://[::ffff:127.0.0.1]:${p()}/`, `https://0.0.0.0:${p()}/`,
    `https://[::]:${p()}/`, `https://169.254.169.254:${p()}/`, `https://100.64.0.1:${p()}/`, `https://10.0.0.1:${p()}/`,
    `https://172.16.0.1:${p()}/`, `https://192.168.0.1:${p()}/`, `https://[fe80::1]:${p()}/`, `https://[fc00::1]:${p()}/`,
    `https://localhost:${p()}/`, `https://localhost.:${p()}/`, `https://x.localhost:${p()}/`, `https://user@127.0.0.1:${p()}/`,
    'file:///etc/passwd', `gopher://127.0.0.1:${p()}/`, 'https://127.0.0.1:22/',
  ];
  for (const url of corpus) {
    const diagnoses = await probeViaRelay(url);
    assert.ok(
      diagnoses.some((d) => d.startsWith('target_') || d === 'input_invalid' || d === 'dns_not_found'),
      `${url} was not refused: ${diagnoses.join(', ')}`,
    );
  }
  assert.equal(canaryHits, 0, 'no connection reached the canary');
});

test('hosted relay: IPv6 spellings of a loopback IPv4 address are refused with the guard\'s diagnosis', async () => {
  for (const host of ['[::127.0.0.1]', '[::7f00:1]', '[::ffff:0:127.0.0.1]', '[64:ff9b::127.0.0.1]', '[2002:7f00:1::1]']) {
    const diagnoses = await probeViaRelay(`https://${host}:${canaryPort}/`);
    assert.deepEqual(diagnoses, ['target_address_refused'], host);
  }
  assert.equal(canaryHits, 0, 'no connection reached the canary');
});

test('hosted relay: a redirect to loopback is reported, never followed', async () => {
  const admitted = await startRelay({
    port: 0, hosted: true, quiet: true, lab: false, allowTargets: ['localhost'], allowPorts: [redirectorPort],
    dataDir: await mkdtemp(join(tmpdir(), 'harness-ssrf-')), webRoot: await mkdtemp(join(tmpdir(), 'harness-web-')),
  });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${admitted.port}/ws?token=${admitted.token}`, { origin: admitted.origin });
    await new Promise((ok, fail) => { ws.once('open', ok); ws.once('error', fail); });
    ws.send(JSON.stringify({ type: 'probe.start', id: 'p', probe: { url: `https://localhost:${redirectorPort}/`, verifyServer: false } }));
    const steps: ServerMessage[] = [];
    await new Promise<void>((ok) => ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as ServerMessage;
      steps.push(m);
      if (m.type === 'run.finished') ok();
    }));
    ws.close();
    const response = steps.findLast((m) => m.type === 'step' && m.step.id === 'response');
    assert.ok(response && response.type === 'step');
    assert.equal(detailsOf(response.step, 'response')?.status, 302);
    assert.equal(canaryHits, 0);
  } finally {
    await admitted.close();
  }
});
