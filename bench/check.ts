// The whole mTLS server check against a loopback nginx configured with the check's own install
// kit, against its floor: the same handshakes and GETs made by bare tls.connect with the same
// kinds of certificates, the same number at a time, in the same run (runs alternate, so
// machine noise hits both). The check's time includes minting its certificates.
//   node --import tsx bench/check.ts [runs]      (the lead hooks checkBench() as `npm run bench -- check`)
import { rm } from 'node:fs/promises';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { validateLimits } from '../server/defaults.ts';
import { makeTestPki } from '../server/testing/test-pki.ts';
import { startNginx } from '../server/testing/nginx.ts';
import { installKit, prepareCheck } from '../server/check/prepare.ts';
import { planCases, runCheck, type PlannedCase } from '../server/check/run-check.ts';
import { makeCheckCa, writeKit } from '../server/testing/check-ca.ts';
import { CHECK_LIMITS } from '../server/check/limits.ts';
import type { MtlsCheckRequest } from '../shared/check/request.ts';

export interface CheckBench {
  checkMs: number[];
  bareMs: number[];
  medianCheckMs: number;
  medianBareMs: number;
  ratio: number;
  /** The first run: nothing minted or checked before (the later runs reuse the case certificates). */
  coldCheckMs: number;
  coldBareMs: number;
  grade: string | null;
  cases: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** One handshake and GET, read to the end, as plainly as Node allows. */
function bare(port: number, serverCa: string, c: PlannedCase): Promise<void> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: serverCa, ...(c.client ? { cert: c.client.certificatePem, key: c.client.privateKeyPem } : {}) }, () => {
      s.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    });
    s.on('data', () => {});
    s.once('error', () => resolve());
    s.once('close', () => resolve());
  });
}

async function barePool(port: number, serverCa: string, plans: PlannedCase[], limit: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < plans.length) await bare(port, serverCa, plans[next++]!);
  }));
}

export async function checkBench(runs = 5): Promise<CheckBench> {
  const pki = await makeTestPki();
  const ca = await makeCheckCa('Bench');
  const base: Omit<MtlsCheckRequest, 'url'> = { ca, rule: { cnEquals: 'cxml-supplier.coupahost.com' }, verifyDepth: 2, caPem: pki.serverCa.cert };
  const prepared = await prepareCheck({ ...base, url: 'https://127.0.0.1/' });
  const kit = await installKit(prepared);
  const { dir, paths } = await writeKit(kit);
  const nginx = await startNginx({
    sites: {
      check: (port: number) => kit.nginx
        .replace('listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`)
        .replace('/etc/ssl/harness-check/check-ca.pem', paths['check-ca.pem']!)
        .replace('/etc/ssl/harness-check/check-crl.pem', paths['check-crl.pem']!)
        .replace('/etc/ssl/private/server.pem', pki.server.certFile)
        .replace('/etc/ssl/private/server.key', pki.server.keyFile),
    },
  });
  try {
    const url = nginx.url('check');
    const port = nginx.ports.check;
    const plans = await planCases(prepared);
    const limits = validateLimits();
    const checkMs: number[] = [];
    const bareMs: number[] = [];
    let grade: string | null = null;
    let cold = [0, 0];
    for (let i = 0; i <= runs; i++) {
      let t = performance.now();
      const report = await runCheck({ ...base, url }, { limits });
      const checkTime = performance.now() - t;
      t = performance.now();
      await barePool(port, pki.serverCa.cert, plans, CHECK_LIMITS.checkConcurrency);
      const bareTime = performance.now() - t;
      grade = report.grade;
      if (i === 0) {
        cold = [checkTime, bareTime]; // also the warm-up: module loading, first connections
        continue;
      }
      checkMs.push(checkTime);
      bareMs.push(bareTime);
    }
    const medianCheckMs = median(checkMs);
    const medianBareMs = median(bareMs);
    return { checkMs, bareMs, medianCheckMs, medianBareMs, ratio: medianCheckMs / medianBareMs, coldCheckMs: cold[0]!, coldBareMs: cold[1]!, grade, cases: plans.length };
  } finally {
    await nginx.stop();
    await rm(dir, { recursive: true, force: true });
    await rm(pki.dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await checkBench(Number(process.argv[2] ?? 5));
  console.log(`mTLS server check, ${r.cases} cases against loopback nginx (grade ${r.grade}): median ${r.medianCheckMs.toFixed(0)} ms over ${r.checkMs.length} runs; bare tls.connect, same handshakes: ${r.medianBareMs.toFixed(0)} ms; ratio ${r.ratio.toFixed(2)}`);
  console.log(`cold first run (minting and input checks included): check ${r.coldCheckMs.toFixed(0)} ms, bare ${r.coldBareMs.toFixed(0)} ms`);
  console.log(`check runs: ${r.checkMs.map((x) => x.toFixed(0)).join(', ')} ms; bare: ${r.bareMs.map((x) => x.toFixed(0)).join(', ')} ms`);
}
