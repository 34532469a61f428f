// The check engine: bad input refused before anything is sent, each case's certificate differs
// from the valid one in its one property (openssl verify as the oracle, with the kit's CA and
// CRL files), and a run streams every case's steps with its id, a bounded number at a time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { validateLimits } from '../defaults.ts';
import { rawServer } from '../testing/peers.ts';
import { hostedPolicy } from '../net/outbound-guard.ts';
import { makeTestPki, type TestPki } from '../testing/test-pki.ts';
import { CheckInputError, type MtlsCheckRequest, type TestCaPems } from '../../shared/check/request.ts';
import { MTLS_CASE_IDS } from '../../shared/check/cases.ts';
import { installKit, prepareCheck, type InstallKit } from './prepare.ts';
import { planCases, runCheck, type PlannedCase } from './run-check.ts';
import { revokedSerial } from './mint.ts';
import { openContexts } from '../net/tls-contexts.ts';
import { clientSendsRsa1024, makeCheckCa, writeKit } from '../testing/check-ca.ts';

const run = promisify(execFile);
const RULE = { cnEquals: 'cxml-supplier.coupahost.com' };

let ca: TestCaPems;
let other: TestCaPems;
let pki: TestPki;
const dirs: string[] = [];

before(async () => {
  [ca, other, pki] = await Promise.all([makeCheckCa(), makeCheckCa('Other'), makeTestPki()]);
});
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

function request(over: Partial<MtlsCheckRequest> = {}): MtlsCheckRequest {
  return { url: 'https://127.0.0.1:9/', ca, rule: RULE, verifyDepth: 2, ...over };
}

const refusals: { name: string; req: () => MtlsCheckRequest; field: string; message: RegExp; policy?: boolean }[] = [
  { name: 'not https', req: () => request({ url: 'http://127.0.0.1/' }), field: 'url', message: /https:\/\// },
  { name: 'root key of another root', req: () => request({ ca: { ...ca, rootPrivateKeyPem: other.rootPrivateKeyPem } }), field: 'ca.rootPrivateKeyPem', message: /does not belong to the root/ },
  { name: 'CA certificate without its key', req: () => request({ ca: { ...ca, intermediatePrivateKeyPem: other.intermediatePrivateKeyPem } }), field: 'ca.intermediatePrivateKeyPem', message: /does not belong to the intermediate/ },
  { name: 'intermediate of another root', req: () => request({ ca: { ...ca, intermediateCertificatePem: other.intermediateCertificatePem } }), field: 'ca.intermediateCertificatePem', message: /not issued by the root/ },
  { name: 'root that is not self-signed', req: () => request({ ca: { ...ca, rootCertificatePem: ca.intermediateCertificatePem } }), field: 'ca.rootCertificatePem', message: /not self-signed/ },
  { name: 'a leaf as the intermediate', req: () => request({ ca: { ...ca, intermediateCertificatePem: pki.client.cert } }), field: 'ca.intermediateCertificatePem', message: /not a CA certificate/ },
  { name: 'rule that is not CN/SAN equals', req: () => request({ rule: { subjectMatches: 'x' } as never }), field: 'rule', message: /CN equals/ },
  { name: 'a private address in hosted mode', req: () => request({ url: 'https://127.0.0.1:443/' }), field: 'url', message: /127\.0\.0\.1 .*does not connect to/, policy: true },
  { name: 'a port hosted mode does not allow', req: () => request({ url: 'https://partner.example:8444/' }), field: 'url', message: /port 8444 is not allowed/, policy: true },
  { name: 'depth out of range', req: () => request({ verifyDepth: 12 }), field: 'verifyDepth', message: /1 to 9/ },
];

for (const r of refusals) {
  test(`refused before anything is sent: ${r.name}`, async () => {
    let connections = 0;
    const peer = await rawServer((s) => { connections++; s.destroy(); });
    try {
      const req = r.req();
      if (req.url.startsWith('https://127.0.0.1:9/')) req.url = `https://127.0.0.1:${peer.port}/`;
      await assert.rejects(runCheck(req, { limits: validateLimits(), ...(r.policy ? { policy: hostedPolicy() } : {}) }), (err: unknown) => err instanceof CheckInputError && err.field === r.field && r.message.test(err.message));
      assert.equal(connections, 0);
    } finally {
      await peer.close();
    }
  });
}

async function verify(kitPaths: Record<string, string>, plan: PlannedCase, depth: number, dir: string): Promise<string> {
  const blocks = plan.client!.certificatePem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)!;
  const leaf = join(dir, `${plan.id}.pem`);
  const chain = join(dir, `${plan.id}-chain.pem`);
  await writeFile(leaf, `${blocks[0]}\n`);
  await writeFile(chain, blocks.slice(1).join('\n') || '');
  const args = ['verify', '-CAfile', kitPaths['check-ca.pem']!, '-CRLfile', kitPaths['check-crl.pem']!, '-crl_check_all', '-purpose', 'sslclient', '-verify_depth', String(depth - 1), ...(blocks.length > 1 ? ['-untrusted', chain] : []), leaf];
  try {
    const { stdout } = await run('openssl', args);
    return stdout.trim().endsWith('OK') ? 'OK' : stdout;
  } catch (err) {
    return /error \d+ at \d+ depth lookup: (.*)/.exec(String((err as { stdout?: string }).stdout))?.[1] ?? String(err);
  }
}

for (const depth of [1, 2, 4]) {
  test(`depth ${depth}: openssl verify with the kit's CA and CRL files judges each case as the catalogue says`, async () => {
    const prepared = await prepareCheck(request({ verifyDepth: depth }));
    const kit: InstallKit = await installKit(prepared);
    const { dir, paths } = await writeKit(kit);
    dirs.push(dir);
    const plans = await planCases(prepared);
    assert.deepEqual(plans.map((p) => p.id), MTLS_CASE_IDS.filter((id) => depth >= 2 || id !== 'leaf_without_intermediate'));
    const byId = Object.fromEntries(plans.map((p) => [p.id, p]));
    const want: Record<string, RegExp> = {
      valid: /^OK$/,
      expired: /certificate has expired/,
      not_yet_valid: /certificate is not yet valid/,
      revoked: /certificate revoked/,
      server_auth_only: /unsuitable certificate purpose/,
      no_digital_signature: /unsuitable certificate purpose/,
      untrusted_ca: /unable to get local issuer certificate/,
      self_signed: /unable to get local issuer certificate|self-signed/,
      chain_too_deep: /certificate chain too long/,
      // openssl verify runs at security level 1; the server's TLS stack judges the key size.
      weak_key: /^OK$/,
      wrong_subject: /^OK$/,
      ...(depth >= 2 ? { leaf_without_intermediate: /^OK$/ } : {}),
    };
    for (const [id, pattern] of Object.entries(want)) assert.match(await verify(paths, byId[id]!, depth, dir), pattern, id);
    // The deep chain is refused for its depth alone: with room for it, it verifies (its CAs have CRLs in the kit).
    assert.match(await verify(paths, byId.chain_too_deep!, 10, dir), /^OK$/);
    // One property each, read back from the certificates.
    const leaf = (id: string) => new X509Certificate(byId[id]!.client!.certificatePem);
    assert.equal(leaf('valid').subject, 'CN=cxml-supplier.coupahost.com');
    assert.equal(leaf('wrong_subject').subject, 'CN=wrong-cxml-supplier.coupahost.com');
    assert.equal(leaf('revoked').serialNumber.toLowerCase(), revokedSerial(depth >= 2 ? prepared.intermediateDer : prepared.rootDer));
    assert.equal(leaf('weak_key').publicKey.asymmetricKeyDetails?.modulusLength, 1024);
    assert.deepEqual(leaf('server_auth_only').keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(byId.no_certificate!.client, undefined);
    assert.equal(byId.chain_too_deep!.client!.certificatePem.match(/BEGIN CERTIFICATE/g)!.length, depth + 1);
  });
}

test('a run streams each case\'s steps with its id, at most checkConcurrency at a time, and grades', async () => {
  const prepared = await prepareCheck(request());
  const kit = await installKit(prepared);
  let open = 0;
  let most = 0;
  const server = tls.createServer({
    cert: pki.server.cert, key: pki.server.key, ca: kit.files[0]!.pem, crl: kit.files[1]!.pem.match(/-----BEGIN X509 CRL-----[\s\S]*?-----END X509 CRL-----/g)!, requestCert: true, rejectUnauthorized: true,
  }, (s) => {
    const cn = s.getPeerCertificate().subject?.CN;
    s.once('data', () => s.end(cn === RULE.cnEquals ? 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok' : 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
  });
  server.on('connection', (s) => { open++; most = Math.max(most, open); s.once('close', () => open--); });
  server.on('tlsClientError', () => {});
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  try {
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const seen = new Map<string, string[]>();
    let announced: string[] = [];
    const finished: string[] = [];
    const custom = [{ title: 'the old partner certificate', expect: 'refuse' as const, certificatePem: pki.clientFromOtherCa.cert, privateKeyPem: pki.clientFromOtherCa.key }];
    const report = await runCheck({ ...request({ url }), caPem: pki.serverCa.cert, custom }, {
      limits: validateLimits(),
      checkLimits: { checkConcurrency: 3 },
      onStarted: (cases) => { announced = cases.map((c) => c.caseId); },
      onStep: (id, s) => seen.set(id, [...(seen.get(id) ?? []), s.id]),
      onCase: (r) => finished.push(r.caseId),
    });
    const ids = [...MTLS_CASE_IDS, 'custom-1'];
    assert.deepEqual(announced, ids);
    assert.deepEqual([...finished].sort(), [...ids].sort());
    assert.equal(report.cases.at(-1)!.title, 'the old partner certificate');
    assert.equal(report.cases.at(-1)!.verdict, 'enforced');
    // A case the harness cannot send (a 1024-bit key on an OpenSSL at security level 2) runs no probe.
    const sends = await clientSendsRsa1024();
    for (const id of ids) if (sends || id !== 'weak_key') assert.ok(seen.get(id)?.includes('verdict'), `${id} streamed its verdict step`);
    assert.ok(most <= 3, `at most 3 connections at once, saw ${most}`);
    // A Node server has no verify-depth option, and Node 20's OpenSSL runs at security level 1:
    // the deep chain and the 1024-bit key get through (on Node 24 the client cannot send that key).
    assert.deepEqual(report.cases.filter((c) => c.verdict !== 'enforced').map((c) => `${c.caseId}:${c.verdict}`), ['chain_too_deep:not_enforced', `weak_key:${sends ? 'not_enforced' : 'inconclusive'}`], JSON.stringify(report.cases.map((c) => [c.caseId, c.reason, c.evidence])));
    assert.equal(report.grade, 'B');
    assert.match(report.summary, sends
      ? /^mTLS server check of https:\/\/127\.0\.0\.1:\d+\/: grade B — 12\/14 cases as required; NOT enforced: chain_too_deep \(accepts chains deeper than agreed\); weak_key/
      : /^mTLS server check of https:\/\/127\.0\.0\.1:\d+\/: grade B — 12\/14 cases as required; NOT enforced: chain_too_deep \(accepts chains deeper than agreed\); inconclusive: weak_key/);
    assert.doesNotMatch(JSON.stringify(report), /PRIVATE KEY/);
  } finally {
    await new Promise<void>((ok) => server.close(() => ok()));
  }
});

test('case certificates are reused for casePlanTtlMs for the same CA, rule and depth, and only then', async (t) => {
  const ttl = { casePlanTtlMs: 60_000 };
  // The cache reads Date.now(): a mocked clock makes "only then" exact to the millisecond. It
  // starts a whole TTL after the real clock, so an entry an earlier test made here is stale.
  t.mock.timers.enable({ apis: ['Date'], now: Date.now() + ttl.casePlanTtlMs });
  const serial = async (over: Partial<MtlsCheckRequest>) => {
    const plans = await planCases(await prepareCheck(request(over), { limits: ttl }));
    return new X509Certificate(plans.find((p) => p.id === 'valid')!.client!.certificatePem).serialNumber;
  };
  const first = await serial({ verifyDepth: 3 });
  t.mock.timers.tick(ttl.casePlanTtlMs - 1);
  assert.equal(await serial({ verifyDepth: 3 }), first);
  assert.notEqual(await serial({ verifyDepth: 3, rule: { cnEquals: 'another.example' } }), first);
  t.mock.timers.tick(1);
  assert.notEqual(await serial({ verifyDepth: 3 }), first);
});

test('a check run again builds no TLS context for its cached cases (a custom case builds its own); the cache drops them with its entry', async () => {
  const prepared = await prepareCheck(request({ ca: other }));
  const kit = await installKit(prepared);
  const server = tls.createServer({ cert: pki.server.cert, key: pki.server.key, ca: kit.files[0]!.pem, requestCert: true, rejectUnauthorized: false }, (s) => {
    s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'));
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const build = tls.createSecureContext;
  let built = 0;
  try {
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const custom = [{ title: 'own', expect: 'refuse' as const, certificatePem: pki.client.cert, privateKeyPem: pki.client.key }];
    // A trust bundle of its own: the no-certificate case's context (trust only) is this check's alone.
    const check = () => runCheck({ ...request({ url, ca: other }), caPem: pki.serverCa.cert + pki.clientCa.cert, custom }, { limits: validateLimits(), checkLimits: { casePlanTtlMs: 600_000 } });
    const before = openContexts();
    const first = await check();
    await new Promise((ok) => setTimeout(ok, 50)); // sockets finish closing
    const probed = first.cases.filter((c) => c.steps.some((s) => s.id === 'tls') && !c.caseId.startsWith('custom')).length;
    assert.ok(probed >= 12, `${probed} cases probed`);
    assert.equal(openContexts() - before, probed, 'one context kept per cached case, none for the custom case');
    tls.createSecureContext = (...args) => { built++; return build(...args); };
    await check();
    assert.equal(built, 1, 'only the custom case built a context');
    // Past casePlanTtlMs the entry is made again, and the old one's contexts dropped.
    await planCases(await prepareCheck(request({ url, ca: other }), { limits: { casePlanTtlMs: 1 } }));
    await new Promise((ok) => setTimeout(ok, 50));
    assert.equal(openContexts(), before, 'dropped with the cache entry');
  } finally {
    tls.createSecureContext = build;
    await new Promise<void>((ok) => server.close(() => ok()));
  }
});

const badLimits: [string, Record<string, unknown>, RegExp][] = [
  ['unknown limit', { checkThreads: 2 }, /checkThreads is not a known limit/],
  ['zero concurrency', { checkConcurrency: 0 }, /checkConcurrency must be a positive integer/],
  ['fractional', { maxCustomCases: 1.5 }, /maxCustomCases must be a positive integer/],
];
for (const [name, limits, message] of badLimits) {
  test(`check limits: ${name} is refused`, async () => {
    const { validateCheckLimits } = await import('./limits.ts');
    assert.throws(() => validateCheckLimits(limits as never), message);
  });
}
