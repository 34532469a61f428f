import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLab } from '../server/lab/lab.ts';
import { runProbe } from '../server/probe/run-probe.ts';
import { validateLimits } from '../server/defaults.ts';
import { generateKeyPair, createCsr, exportPkcs8Pem } from '../shared/pki/issue.ts';
import type { Step } from '../shared/protocol/index.ts';
const lab = await startLab({ dataDir: await mkdtemp(join(tmpdir(), 'prof-')) });
const keys = await generateKeyPair('RSA-2048', true);
const signed = await lab.signCsr(await createCsr(keys, 'CN=p'));
const client = { certificatePem: signed.certificatePem, privateKeyPem: await exportPkcs8Pem(keys.privateKey) };
const sums = new Map<string, number[]>();
const url = process.argv[2] === 'ip' ? lab.info.targets[0]!.url.replace('localhost', '127.0.0.1') : lab.info.targets[0]!.url;
for (let i = 0; i < Number(process.env.N ?? 60); i++) {
  const t0 = performance.now();
  const steps: Step[] = [];
  const r = await runProbe({ url, client, ...(process.argv[3] === 'ca' ? { caPem: lab.serverCaPem } : {}) }, { limits: validateLimits(), lab: { serverCaPem: lab.serverCaPem, endpoints: lab.info.targets.map((t) => new URL(t.url).host) }, onStep: (s) => steps.push(s) });
  const total = performance.now() - t0;
  if (i < 10) continue;
  for (const s of r.steps) { if (s.durationMs !== undefined) { const a = sums.get(s.id) ?? []; a.push(s.durationMs); sums.set(s.id, a); } }
  const a = sums.get('TOTAL') ?? []; a.push(total); sums.set('TOTAL', a);
}
for (const [k, v] of sums) { v.sort((a, b) => a - b); console.log(k.padEnd(10), v[v.length >> 1]!.toFixed(2)); }
await lab.close();
