// Renders bench/results.json as the table in docs/performance.md.
import { writeFile } from 'node:fs/promises';
import type { Result } from './run.ts';

const fmt = (v: number | null) => (v === null ? '—' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));

export async function writePerformanceDoc(results: Result[], path: string): Promise<void> {
  const rows = results.map((r) => `| ${r.name} | ${fmt(r.value)} ${r.unit} | ${r.baseline === null ? '—' : `${fmt(r.baseline)} ${r.unit}`} | ${fmt(r.ratio)} | ${r.goal} | ${r.met ? 'yes' : '**no**'} | ${r.note ?? ''} |`);
  const text = `# Performance

Measured by \`npm run bench\` (sections: \`npm run bench -- overhead concurrency tap scale endurance frontend\`),
which writes [\`bench/results.json\`](../bench/results.json) and this table. Every ratio is measured
against its baseline **in the same run**, on loopback, with the relay in its own process and the
built-in lab's mTLS target as the server. The machine is shared and noisy (2 cores): compare
ratios, not absolute times, across runs.

- *Overhead*: 200 sequential probes (TLS 1.3, RSA-2048 client certificate, GET, small JSON)
  through the relay's WebSocket, interleaved with 200 bare \`tls.connect\` + the same request
  from the benchmark process. Median of each.
- *Concurrency*: 16 clients × 25 probes at once, probes per second, median of 3 rounds each.
- *TLS tap*: 200 handshakes through the wire tap vs 200 plain \`tls.connect\` handshakes, interleaved.
- *Scale*: 1,000 idle WebSocket sessions (RSS growth / 1,000), then 3 × 100 concurrent probes
  from 100 of them, time from \`probe.start\` sent to the first \`step\` event received.
- *Endurance*: 10,000 probes over 8 connections; heap (after GC), RSS and open descriptors
  of the relay process against the values after warm-up.
- *Front end*: gzip size of the JavaScript the first page load fetches; click on Run → first
  step row in the DOM, in Debian's Chromium driven by Playwright; key generation in the page.

| figure | value | baseline | ratio | goal | met | note |
| --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}
`;
  await writeFile(path, text);
}
