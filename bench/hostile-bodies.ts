// Measures the two hostile-body costs from issue 10: redacting a backtracking text body, and
// the largest event frame of a probe against JSON nested 4,000 deep. Takes a few seconds:
//   node --import tsx bench/hostile-bodies.ts
import { redactDeep, redactText } from '../shared/redact.ts';
import { runProbe } from '../server/probe/run-probe.ts';
import { validateLimits } from '../server/defaults.ts';
import { makeTestPki } from '../server/testing/test-pki.ts';
import { deepJson, startHostileTarget } from '../server/testing/hostile-target.ts';

const KIB = 1024;
const text = '-eyJab'.repeat(Math.ceil((256 * KIB) / 6)).slice(0, 256 * KIB);
for (const size of [32 * KIB, 96 * KIB, 256 * KIB]) {
  const t0 = performance.now();
  redactText(text.slice(0, size));
  console.log(`redactText on ${size / KIB} KiB of -eyJab: ${(performance.now() - t0).toFixed(1)} ms`);
}

// What the former formatter (JSON.stringify(…, null, 2), no bound) made of the body.
const body = deepJson();
console.log(`4,000-level body: ${body.length} bytes; indented without bounds: ${JSON.stringify(JSON.parse(body), null, 2).length} bytes`);

const pki = await makeTestPki();
const target = await startHostileTarget(pki.server);
const frames: number[] = [];
const t0 = performance.now();
await runProbe({ url: `${target.base}/deep-json`, caPem: pki.serverCa.cert }, {
  limits: validateLimits(),
  // As the session sends it: redacted, one frame per step event.
  onStep: (step) => frames.push(Buffer.byteLength(JSON.stringify({ type: 'step', runId: 'r', step: redactDeep(step) }))),
});
console.log(`probe of the 4,000-level body: largest frame ${Math.max(...frames)} bytes, ${frames.length} frames, ${(performance.now() - t0).toFixed(0)} ms`);
await target.close();
