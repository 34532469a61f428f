// The redirect endpoint of an authorization code flow is a URL anyone can make a browser load.
// A redirect that is not the answer to the waiting request (another state, or none) is reported
// and ignored, and the flow keeps waiting for its own; only when none comes is the ignored one the
// finding. Real lab, real callback listener, forged requests over HTTP from a "foreign origin".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlowRequest } from '../../shared/flows/flow-request.ts';
import type { Step } from '../../shared/protocol/index.ts';
import { validateLimits } from '../defaults.ts';
import { startLab, type RunningLab } from '../lab/lab.ts';
import { runFlow } from './run.ts';
import { startCallbackListener, type CallbackListener } from './callback-listener.ts';
import { followRedirects } from './user-agent.ts';
import { IGNORED_REDIRECTS_REPORTED } from './authorization-code.ts';

let lab: RunningLab;
let listener: CallbackListener;

before(async () => {
  lab = await startLab({ dataDir: await mkdtemp(join(tmpdir(), 'callbacks-')) });
  listener = await startCallbackListener();
});
after(async () => {
  await listener.close();
  await lab.close();
});

const t = (id: string) => lab.info.targets.find((x) => x.id === id)!.url;
const flow = (issuer: string, extra: object = {}): FlowRequest => ({ kind: 'authorization-code', issuer, clientAuth: { method: 'client_secret_basic', clientId: 'lab-basic', clientSecret: 'lab-basic-secret' }, scope: 'offline_access', ...extra });

/** A cross-site request to the redirect URI, as a page elsewhere can make a browser send. */
async function forge(authorizationUrl: string, query: string): Promise<number> {
  const redirectUri = new URL(authorizationUrl).searchParams.get('redirect_uri')!;
  const res = await fetch(`${redirectUri}?${query}`, { headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } });
  await res.text();
  return res.status;
}

/** Runs the flow; `browser` plays whoever loads URLs: forgers first, then maybe the real user agent. */
async function run(f: FlowRequest, browser: (url: string) => Promise<void>) {
  const events: Step[] = [];
  let done: Promise<void> = Promise.resolve();
  const started = performance.now();
  const result = await runFlow(f, {
    limits: validateLimits(),
    relayOrigin: listener.origin,
    callbacks: listener.callbacks,
    lab,
    onStep: (s) => events.push(s),
    openAuthorizationUrl: (url) => { done = browser(url); },
  });
  await done;
  const final = new Map(events.map((s) => [s.id, s]));
  return { ...result, events, ms: performance.now() - started, step: (id: string) => final.get(id) };
}

const follow = (url: string) => followRedirects(url, { ca: [lab.serverCaPem] }).then(() => {});

test('a forged redirect with a guessed state does not end the flow: reported, ignored, and the real one is taken', async () => {
  const statuses: number[] = [];
  const r = await run(flow(lab.tokens!.issuer), async (url) => {
    statuses.push(await forge(url, 'code=forged-code-123456&state=guess'));
    statuses.push(await forge(url, 'code=forged-code-123456'));
    await follow(url);
  });
  assert.equal(r.outcome, 'pass', JSON.stringify(r.diagnoses));
  assert.deepEqual(r.diagnoses, []);
  assert.deepEqual(statuses, [400, 400], 'the forger is told it was ignored');
  assert.equal(r.step('callback-ignored-1')?.status, 'warn');
  assert.match(r.step('callback-ignored-1')!.summary!, /a redirect with state guess arrived .*ignored; still waiting/);
  assert.match(r.step('callback-ignored-2')!.summary!, /a redirect with no state arrived/);
  assert.equal(r.step('callback')?.status, 'ok');
  assert.ok(!JSON.stringify(r.events).includes('forged-code-123456'), 'the forged code is masked like a real one');
});

const onlyForged: [string, string, string, RegExp][] = [
  ['another state', 'code=x1234567&state=guess', 'state_mismatch', /returned state guess \| 1 redirect to .* arrived without the state sent and was ignored; none carried it/],
  ['no state', 'error=access_denied', 'state_missing', /the redirect carried no state parameter .*1 redirect .* ignored; none carried it \(error access_denied\)/],
];

for (const [name, query, code, evidence] of onlyForged) {
  test(`only redirects with ${name} within the wait: ${code} at the timeout, with what was ignored`, async () => {
    const r = await run(flow(lab.tokens!.issuer, { callbackTimeoutMs: 1000 }), async (url) => { await forge(url, query); });
    assert.equal(r.outcome, 'fail');
    assert.deepEqual(r.diagnoses, [code]);
    const cb = r.step('callback')!;
    assert.equal(cb.status, 'fail');
    assert.match(cb.diagnosis!.evidence.join(' | '), evidence);
    assert.ok(r.ms >= 1000, 'the flow waited for the real redirect until the timeout');
  });
}

test(`a flood of forged redirects: ${IGNORED_REDIRECTS_REPORTED} reported as steps, the rest counted`, async () => {
  const n = IGNORED_REDIRECTS_REPORTED + 7;
  const r = await run(flow(lab.tokens!.issuer, { callbackTimeoutMs: 1500 }), async (url) => {
    await Promise.all(Array.from({ length: n }, (_, i) => forge(url, `code=c${i}xxxxxx&state=g${i}`)));
  });
  assert.deepEqual(r.diagnoses, ['state_mismatch']);
  assert.equal(r.events.filter((s) => s.id.startsWith('callback-ignored-') && s.status === 'warn').length, IGNORED_REDIRECTS_REPORTED);
  assert.match(r.step('callback')!.diagnosis!.evidence.join(' | '), new RegExp(`${n} redirects to .* were ignored`));
});

test('the lab issuer that alters state: state_mismatch as soon as the headless user agent is done, not at the timeout', async () => {
  const r = await run(flow(t('altered-state'), { callbackTimeoutMs: 60_000 }), async (url) => {
    await follow(url);
    listener.callbacks.settle(url);
  });
  assert.deepEqual(r.diagnoses, ['state_mismatch']);
  assert.equal(r.step('callback-ignored-1')?.status, 'warn');
  assert.ok(r.ms < 15_000, `ended after ${Math.round(r.ms)} ms`);
});
