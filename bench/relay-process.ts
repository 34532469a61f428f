// The relay under benchmark, in its own process like in real use. Answers `stats` requests
// over IPC with its memory, descriptors and event-loop delay.
import { readdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startRelay } from '../server/relay.ts';

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
const relay = await startRelay({
  port: 0,
  quiet: true,
  lab: false,
  dataDir: await mkdtemp(join(tmpdir(), 'bench-lab-')),
  webRoot: await mkdtemp(join(tmpdir(), 'bench-web-')),
  // The scale figure opens 1,000 sessions at once (the default cap is 256).
  limits: { runsPerConnection: 64, runsTotal: 512, sessionsTotal: 1_100 },
});

process.send!({ type: 'ready', port: relay.port, token: relay.token, origin: relay.origin });
process.on('message', (m: { type: string; collect?: boolean }) => {
  if (m.type === 'stats') {
    // CPU so far (user + system, all threads), read before the collection below adds to it.
    const cpu = process.cpuUsage();
    if (m.collect !== false) globalThis.gc?.();
    const mem = process.memoryUsage();
    process.send!({ type: 'stats', cpuMs: (cpu.user + cpu.system) / 1000, heapUsed: mem.heapUsed, external: mem.external + mem.arrayBuffers, rss: mem.rss, fds: readdirSync('/proc/self/fd').length, loopP99Ms: delay.percentile(99) / 1e6, loopMaxMs: delay.max / 1e6 });
    delay.reset();
  }
  if (m.type === 'stop') void relay.close().then(() => process.exit(0));
});
