// Measures the two hostile-body costs from issue 10: redacting a backtracking text body and
// formatting a deeply nested JSON body. Short (a few seconds); run with
//   node --import tsx bench/hostile-bodies.ts
import { redactText } from '../shared/redact.ts';

const KIB = 1024;
const text = '-eyJab'.repeat(Math.ceil((256 * KIB) / 6)).slice(0, 256 * KIB);
for (const size of [32 * KIB, 96 * KIB, 256 * KIB]) {
  const t0 = performance.now();
  redactText(text.slice(0, size));
  console.log(`redactText on ${size / KIB} KiB of -eyJab: ${(performance.now() - t0).toFixed(1)} ms`);
}
