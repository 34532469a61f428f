// Before and after in the same run: bare tls.connect, the relay of another checkout (before,
// BEFORE=checkout) and this checkout's (after), each in its own process, probes interleaved
// (the order of the two relays alternates), so machine noise hits all three alike.
//   node --import tsx bench/before-after.ts          BEFORE=/path/to/checkout N=150 IPTOO=1 (also by IP address)
//   CLIENTS=16 ROUNDS=6: instead, rounds of 16 clients probing at once (bare, before, after in
//   turn), comparing rates and the CPU each relay process spends per probe.
import { fork } from 'node:child_process';
import tls from 'node:tls';
import WebSocket from 'ws';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyPair, createCsr, exportPkcs8Pem } from '../shared/pki/issue.ts';
if (!process.env.BEFORE) throw new TypeError('set BEFORE to the checkout to compare with (e.g. a git worktree of main)');
const roots = { before: process.env.BEFORE, after: join(dirname(fileURLToPath(import.meta.url)), '..') };
const labChild = fork(join(roots.after, 'bench', 'lab-process.ts'), [], { execArgv: ['--import', 'tsx'] });
const children = Object.fromEntries(Object.entries(roots).map(([k, r]) => [k, fork(`${r}/bench/relay-process.ts`, [], { cwd: r, execArgv: ['--import', 'tsx'] })]));
const lab = await new Promise<any>((ok) => labChild.once('message', ok));
const ready: Record<string, any> = {};
for (const [k, c] of Object.entries(children)) ready[k] = await new Promise<any>((ok) => c.once('message', ok));
const keys = await generateKeyPair('RSA-2048', true);
labChild.send({ type: 'sign', csrPem: await createCsr(keys, 'CN=bench') });
const signed = await new Promise<any>((ok) => labChild.once('message', ok));
const client = { certificatePem: signed.certificatePem, privateKeyPem: await exportPkcs8Pem(keys.privateKey) };
const url = new URL(lab.target);
function bare(): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: Number(url.port), servername: 'localhost', cert: client.certificatePem, key: client.privateKeyPem, ca: lab.serverCaPem }, () => {
      s.write(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`);
      s.on('data', () => {});
      s.on('end', () => resolve(performance.now() - t0));
    });
    s.on('error', reject);
  });
}
async function relayClient(r: any) {
  const ws = new WebSocket(`ws://127.0.0.1:${r.port}/ws?token=${r.token}`, { origin: r.origin });
  await new Promise((ok) => ws.once('open', ok));
  let n = 0; let done: ((m: any) => void) | undefined; let reads = 0;
  (ws as unknown as { _socket: import('node:net').Socket })._socket.on('data', () => { reads++; });
  ws.on('message', (d) => { const m = JSON.parse(String(d)); if (m.type === 'run.finished') done?.(m); });
  return {
    ws, reads: () => reads,
    probe: (target = lab.target) => new Promise<number>((ok, fail) => {
      const t0 = performance.now();
      done = (m) => (m.outcome === 'pass' ? ok(performance.now() - t0) : fail(new Error(JSON.stringify(m))));
      ws.send(JSON.stringify({ type: 'probe.start', id: `q${n++}`, probe: { url: target, client, caPem: lab.serverCaPem } }));
    }),
  };
}
const rc = { before: await relayClient(ready.before), after: await relayClient(ready.after) };
const med = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]!; };
const cpuMs = (k: string) => new Promise<number>((ok) => {
  const c = children[k]!;
  const on = (m: { type?: string; cpuMs?: number }) => { if (m.type === 'stats') { c.off('message', on); ok(m.cpuMs!); } };
  c.on('message', on);
  c.send({ type: 'stats', collect: false }); // a forced collection would slow the round after it
});
if (process.env.CLIENTS) {
  const clients = Number(process.env.CLIENTS);
  const per = Number(process.env.PER ?? 25);
  const pools = { before: await Promise.all(Array.from({ length: clients }, () => relayClient(ready.before))), after: await Promise.all(Array.from({ length: clients }, () => relayClient(ready.after))) };
  const rate = async (one: (w: number) => Promise<unknown>) => {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: clients }, async (_, w) => { for (let i = 0; i < per; i++) await one(w); }));
    return (clients * per) / ((performance.now() - t0) / 1000);
  };
  for (const k of ['before', 'after'] as const) await rate((w) => pools[k][w]!.probe()); // warm-up
  const r = { bare: [] as number[], before: [] as number[], after: [] as number[] };
  const cpu = { before: [] as number[], after: [] as number[] };
  for (let round = 0; round < Number(process.env.ROUNDS ?? 6); round++) {
    r.bare.push(await rate(() => bare()));
    for (const k of (round % 2 ? ['before', 'after'] : ['after', 'before']) as ('before' | 'after')[]) {
      const c0 = await cpuMs(k);
      r[k].push(await rate((w) => pools[k][w]!.probe()));
      cpu[k].push(((await cpuMs(k)) - c0) / (clients * per));
    }
  }
  const line = (k: 'before' | 'after') => `${k} ${med(r[k]).toFixed(0)}/s (${(med(r[k]) / med(r.bare)).toFixed(2)}x), ${med(cpu[k]).toFixed(2)} ms CPU/probe [${cpu[k].map((x) => x.toFixed(2)).join(' ')}]`;
  console.log(`rates by round: bare ${r.bare.map((x) => x.toFixed(0)).join(" ")} · before ${r.before.map((x) => x.toFixed(0)).join(" ")} · after ${r.after.map((x) => x.toFixed(0)).join(" ")}`);
  console.log(`${clients} clients at once: bare ${med(r.bare).toFixed(0)}/s · ${line('before')} · ${line('after')}`);
  for (const c of [...pools.before, ...pools.after]) c.ws.close();
  for (const c of Object.values(rc)) c.ws.close();
  for (const c of [...Object.values(children), labChild]) c.send({ type: 'stop' });
  process.exit(0);
}
for (let i = 0; i < 20; i++) { await bare(); await rc.before.probe(); await rc.after.probe(); }
const N = Number(process.env.N ?? 150);
const t = { bare: [] as number[], before: [] as number[], after: [] as number[], ip: [] as number[] };
const ipTarget = lab.target.replace('localhost', '127.0.0.1');
const m0 = { before: rc.before.reads(), after: rc.after.reads() };
for (let i = 0; i < N; i++) {
  t.bare.push(await bare());
  if (process.env.IPTOO) t.ip.push(await rc.after.probe(ipTarget));
  if (i % 2) { t.before.push(await rc.before.probe()); t.after.push(await rc.after.probe()); }
  else { t.after.push(await rc.after.probe()); t.before.push(await rc.before.probe()); }
}
console.log(`bare ${med(t.bare).toFixed(2)} ms · before ${med(t.before).toFixed(2)} (${(med(t.before) / med(t.bare)).toFixed(3)}x, ${((rc.before.reads() - m0.before) / N).toFixed(1)} reads/probe) · after ${med(t.after).toFixed(2)} (${(med(t.after) / med(t.bare)).toFixed(3)}x, ${((rc.after.reads() - m0.after) / N).toFixed(1)} reads/probe)`);
if (t.ip.length) console.log(`after, by IP address: ${med(t.ip).toFixed(2)} (${(med(t.ip) / med(t.bare)).toFixed(3)}x)`);
for (const c of Object.values(rc)) c.ws.close();
for (const c of [...Object.values(children), labChild]) c.send({ type: 'stop' });
