// Every file in examples/ runs against one in-process lab and ends the way its `expect` block
// says — outcome and diagnosis codes (a server check: the cases not enforced) — with no secret
// of the run in its events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerMessage } from '../../shared/protocol/index.ts';
import { startLab, type RunningLab } from '../lab/lab.ts';
import { checkExpect, loadScenario } from './scenario.ts';
import { runScenario } from '../commands/run.ts';

const EXAMPLES = resolve(fileURLToPath(new URL('../../examples', import.meta.url)));
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json')).sort();
let lab: RunningLab;

before(async () => {
  lab = await startLab({ dataDir: await mkdtemp(join(tmpdir(), 'examples-lab-')) });
});
after(() => lab.close());

test('there is an example for every flow kind, the probe and the server check', async () => {
  const kinds = new Set<string>();
  for (const f of files) {
    const { scenario } = await loadScenario(join(EXAMPLES, f));
    kinds.add(scenario.kind === 'flow' ? String((scenario.request as { kind: string }).kind) : scenario.kind);
    assert.ok(scenario.expect, `${f} has an expect block`);
  }
  assert.deepEqual([...kinds].sort(), ['api-key', 'authorization-code', 'client-credentials', 'discovery', 'introspect', 'jwt-bearer', 'jwt-exchange', 'probe', 'refresh-token', 'revoke', 'server-check']);
});

for (const f of files) {
  test(`examples/${f}`, async () => {
    const { scenario, baseDir } = await loadScenario(join(EXAMPLES, f));
    const events: ServerMessage[] = [];
    const result = await runScenario(scenario, { baseDir, lab, onEvent: (m) => events.push(m) });
    const verdict = checkExpect(scenario, result)!;
    const failing = events.flatMap((e) => (e.type === 'step' && e.step.diagnosis ? [`${e.step.id}: ${e.step.diagnosis.code} ${e.step.diagnosis.evidence.join(' | ')}`] : []));
    assert.ok(verdict.ok, `${verdict.message}\n${failing.join('\n')}`);
    const [first, last] = scenario.kind === 'server-check' ? ['check.started', 'check.finished'] : ['run.started', 'run.finished'];
    assert.equal(events[0]?.type, first);
    assert.equal(events.at(-1)?.type, last);
    const text = JSON.stringify(events);
    for (const secret of ['lab-basic-secret', 'lab-post-secret', 'lab-secretjwt-secret', 'last-years-secret', 'lab-seed-secret', 'lab-api-key', 'PRIVATE KEY-----\n']) assert.ok(!text.includes(secret), `${f}: "${secret}" leaked into the events`);
    assert.doesNotMatch(text, /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]{20,}/, `${f}: a signed JWT leaked into the events`);
  });
}
