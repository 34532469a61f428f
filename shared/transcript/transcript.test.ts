// Transcripts: what goes in is redacted, what comes back is exactly what went in, and anything
// that is not a transcript of this version says which field or version is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVIDENCE_VERSION, type RunEvent, type Step } from '../protocol/index.ts';
import { makeTranscript, parseTranscript, readRun, transcriptFileName, TranscriptError, TRANSCRIPT_VERSION, type Transcript, type TranscriptEvent } from './transcript.ts';
import { compareTranscripts, formatComparison } from './compare.ts';
import { renderHtmlReport } from './report-html.ts';
import { renderJunit } from './junit.ts';
import { readShareLink, shareLink, ShareLinkError, MAX_SHARE_LINK_CHARS } from './share-link.ts';

const ENV = { harness: '0.1.0', node: '20.20.2', openssl: '3.0.17', platform: 'linux x64' };

function step(id: string, status: Step['status'], details?: Record<string, unknown>, extra: Partial<Step> = {}): Step {
  return { id, phase: id === 'verdict' ? 'verdict' : (id as Step['phase']), status, title: id, startMs: 1, durationMs: 2, ...(details ? { details } : {}), ...extra } as Step;
}

function probeRun(sentChain: string[], outcome: 'pass' | 'fail' | 'error', diagnoses: string[] = []): TranscriptEvent[] {
  const events: RunEvent[] = [
    { type: 'run.started', id: 'x', runId: 'r1', kind: 'probe', target: 'https://partner.example:8443/orders' },
    { type: 'step', runId: 'r1', step: step('tls', 'ok', { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', certificateRequested: true, acceptableCAs: ['CN=Partner Root'], sentChain, serverChain: [{ subject: 'CN=partner.example' }] }) },
    { type: 'step', runId: 'r1', step: step('response', outcome === 'pass' ? 'ok' : 'fail', { status: outcome === 'pass' ? 200 : 400 }) },
    { type: 'run.finished', runId: 'r1', outcome, diagnoses, durationMs: 12 },
  ];
  return events.map((event, i) => ({ t: i * 3, event }));
}

const transcript = (name: string, events: TranscriptEvent[], secrets: string[] = []): Transcript =>
  makeTranscript({ name, recordedBy: 'cli', startedAt: new Date('2026-12-06T10:00:00Z'), environment: ENV, events, secrets });

test('a transcript reads back exactly as written, and its run is its steps\' last states', () => {
  const t = transcript('lab probe', probeRun(['CN=client', 'CN=Partner Intermediate'], 'pass'));
  const back = parseTranscript(JSON.stringify(t));
  assert.deepEqual(back, t);
  assert.equal(back.version, TRANSCRIPT_VERSION);
  const run = readRun(back);
  assert.equal(run.outcome, 'pass');
  assert.deepEqual(run.steps.map((s) => s.id), ['tls', 'response']);
  assert.equal(transcriptFileName(back), 'lab-probe-2026-12-06T10-00-00Z.transcript.json');
});

test('secret canaries never reach a transcript: keys, JWTs, secret fields, values the run was given, inline scenario secrets', () => {
  const canaryKey = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7CANARYKEY\n-----END PRIVATE KEY-----';
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlLWNhbmFyeS1zaWduYXR1cmU';
  const secret = 'canary-client-secret-9f8e7d';
  const events = probeRun(['CN=client'], 'fail', ['client_cert_rejected']);
  events.splice(2, 0, { t: 4, event: { type: 'step', runId: 'r1', step: step('request', 'ok', { headers: { authorization: `Bearer ${jwt}` }, body: `echo: ${secret} ${canaryKey}`, client_secret: secret, note: jwt }) } });
  const t = makeTranscript({
    name: `run with ${secret}`, recordedBy: 'app', startedAt: new Date(), environment: ENV, events, secrets: [secret],
    scenario: { version: 1, name: 'x', kind: 'probe', probe: {}, secrets: { client_secret: { value: secret }, key: { file: 'client.key' } } },
  });
  const text = JSON.stringify(t);
  for (const canary of [secret, 'CANARYKEY', 'c2lnbmF0dXJlLWNhbmFyeS1zaWduYXR1cmU']) assert.ok(!text.includes(canary), `${canary} leaked`);
  assert.deepEqual((t.scenario as { secrets: unknown }).secrets, { client_secret: { value: '••••••' }, key: { file: 'client.key' } }, 'sources stay, values go');
});

test('a transcript records its evidence version; one written before it did (no evidenceVersion) still reads, as version 1', () => {
  const t = transcript('x', probeRun(['CN=c'], 'pass'));
  assert.equal(t.evidenceVersion, EVIDENCE_VERSION);
  const { evidenceVersion: _, ...old } = t;
  const back = parseTranscript(JSON.stringify(old));
  assert.equal(back.evidenceVersion, undefined);
  assert.equal(readRun(back).outcome, 'pass');
});

test('what is not a transcript of this version names the field or the version', () => {
  const good = transcript('x', probeRun(['CN=c'], 'pass'));
  const cases: { name: string; text: string; field: string; message: RegExp }[] = [
    { name: 'not JSON', text: 'hello', field: '', message: /not JSON/ },
    { name: 'truncated', text: JSON.stringify(good).slice(0, 200), field: '', message: /truncated/ },
    { name: 'a scenario', text: JSON.stringify({ version: 1, name: 's', kind: 'probe', probe: {} }), field: 'format', message: /scenario, not a transcript/ },
    { name: 'an inbound scenario', text: JSON.stringify({ version: 1, name: 's', kind: 'inbound', inbound: { listener: {} } }), field: 'format', message: /scenario, not a transcript/ },
    { name: 'foreign JSON', text: JSON.stringify({ hello: 'world' }), field: 'format', message: /not a transcript/ },
    { name: 'newer version', text: JSON.stringify({ ...good, version: 7 }), field: 'version', message: /7 is newer than this harness reads \(1\)/ },
    { name: 'newer evidence', text: JSON.stringify({ ...good, evidenceVersion: 2 }), field: 'evidenceVersion', message: /2 is newer than this harness reads \(1\)/ },
    { name: 'evidence version not a number', text: JSON.stringify({ ...good, evidenceVersion: '1' }), field: 'evidenceVersion', message: /whole number/ },
    { name: 'bad event type', text: JSON.stringify({ ...good, events: [good.events[0], { t: 1, event: { type: 'welcome', runId: 'r1' } }] }), field: 'events[1].event.type', message: /not a run event/ },
    { name: 'bad step status', text: JSON.stringify({ ...good, events: [good.events[0], { t: 1, event: { type: 'step', runId: 'r1', step: { ...step('tls', 'ok'), status: 'great' } } }] }), field: 'events[1].event.step.status', message: /must be one of/ },
    { name: 'no run.started first', text: JSON.stringify({ ...good, events: good.events.slice(1) }), field: 'events[0].event.type', message: /run.started/ },
    { name: 'missing environment', text: JSON.stringify({ ...good, environment: { node: '20' } }), field: 'environment.harness', message: /string/ },
  ];
  for (const c of cases) {
    assert.throws(() => parseTranscript(c.text), (err: unknown) => {
      assert.ok(err instanceof TranscriptError, c.name);
      assert.equal(err.field, c.field, c.name);
      assert.match(err.message, c.message, c.name);
      return true;
    }, c.name);
  }
});

test('compare: a missing intermediate is named as such, with the outcome and the HTTP status', () => {
  const a = transcript('works for me', probeRun(['CN=client', 'CN=Partner Intermediate'], 'pass'));
  const b = transcript('partner', probeRun(['CN=client'], 'fail', ['client_cert_rejected']));
  const c = compareTranscripts(a, b);
  assert.equal(c.same, false);
  const sent = c.differences.find((d) => d.what === 'sent certificates');
  assert.equal(sent?.meaning, "run B sent 1 certificate, run A 2: B's intermediate CN=Partner Intermediate is missing");
  assert.ok(c.differences.some((d) => d.what === 'HTTP status' && d.a === '200' && d.b === '400'));
  assert.ok(c.differences.some((d) => d.what === 'outcome' && d.meaning === 'only run B: client_cert_rejected'));
  const text = formatComparison(c);
  assert.match(text, /intermediate CN=Partner Intermediate is missing/);
  assert.equal(compareTranscripts(a, a).same, true);
  assert.match(formatComparison(compareTranscripts(a, a)), /The runs match/);
});

test('compare: the server\'s acceptable CA names and TLS version', () => {
  const a = transcript('a', probeRun(['CN=client'], 'pass'));
  const bEvents = probeRun(['CN=client'], 'pass');
  const tls = (bEvents[1]!.event as Extract<RunEvent, { type: 'step' }>).step;
  tls.details = { ...tls.details, protocol: 'TLSv1.2', acceptableCAs: ['CN=Other Root'] };
  const c = compareTranscripts(a, transcript('b', bEvents));
  const cas = c.differences.find((d) => d.what === 'acceptable CA names');
  assert.match(cas?.meaning ?? '', /only A's server accepts CN=Partner Root; only B's server accepts CN=Other Root/);
  assert.ok(c.differences.some((d) => d.what === 'TLS version' && d.b === 'TLSv1.2'));
});

test('HTML report: self-contained, no script, everything escaped, a summary row per run', () => {
  const evil = transcript('<script>alert(1)</script>', probeRun(['CN=<img src=x onerror=alert(1)>'], 'fail', ['client_cert_rejected']));
  const good = transcript('good', probeRun(['CN=client'], 'pass'));
  const html = renderHtmlReport([{ transcript: good, expectation: { met: true, message: 'expected pass' } }, { transcript: evil }]);
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /<img/i);
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no network resource');
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html, /1 of 2 runs as expected/);
  assert.equal(html.match(/<tr><td><a href="#run-/g)?.length, 2);
});

test('JUnit: failures and errors counted, the diagnosis in the failure, XML-escaped', () => {
  const pass = transcript('passes', probeRun(['CN=c'], 'pass'));
  const fail = transcript('fails & <breaks>', probeRun(['CN=c'], 'fail', ['client_cert_rejected']));
  const errEvents = probeRun(['CN=c'], 'fail');
  errEvents[3] = { t: 9, event: { type: 'run.finished', runId: 'r1', outcome: 'error', diagnoses: ['run_timeout'], durationMs: 60_000 } };
  const xml = renderJunit([{ transcript: pass }, { transcript: fail }, { transcript: transcript('errs', errEvents) }]);
  assert.match(xml, /<testsuites name="mtls-harness" tests="3" failures="1" errors="1"/);
  assert.match(xml, /name="fails &amp; &lt;breaks&gt;"/);
  assert.match(xml, /<failure message="run failed: client_cert_rejected" type="client_cert_rejected">/);
  assert.match(xml, /<error message="run could not finish: run_timeout"/);
});

test('JUnit: a run neither met nor missed (a check case that stayed inconclusive) is skipped with its reason; a group is the classname', () => {
  const t = transcript('weak_key — partner', probeRun(['CN=c'], 'fail', ['client_cert_rejected']));
  const xml = renderJunit([{ transcript: t, expectation: { met: false, message: 'inconclusive: the harness cannot send a 1024-bit key', undecided: true }, group: 'harness.server-check.partner' }]);
  assert.match(xml, /<testsuite name="mtls-harness" tests="1" failures="0" errors="0" skipped="1"/);
  assert.match(xml, /<testcase classname="harness\.server-check\.partner" name="weak_key — partner" time="[\d.]+">\s*<skipped message="inconclusive: the harness cannot send a 1024-bit key"\/>/);
});

test('JUnit: an inconclusive check case whose run could not finish (a key this OpenSSL will not send) is skipped, not an error', () => {
  const t = transcript('weak_key — partner', probeRun(['CN=c'], 'error', ['key_too_weak']));
  const xml = renderJunit([{ transcript: t, expectation: { met: false, message: 'inconclusive: the harness cannot send a 1024-bit key', undecided: true } }]);
  assert.match(xml, /<testsuite name="mtls-harness" tests="1" failures="0" errors="0" skipped="1"/);
  // The same run without a check's judgement is an error.
  assert.match(renderJunit([{ transcript: t }]), /errors="1"/);
});

test('share link: round trip through the fragment; too large and damaged links say so', async () => {
  const t = transcript('small', probeRun(['CN=c'], 'pass'));
  const link = await shareLink(t, 'http://127.0.0.1:8080/?token=abc#old');
  assert.ok(link.startsWith('http://127.0.0.1:8080/?token=abc#transcript='));
  assert.deepEqual(await readShareLink(new URL(link).hash), t);
  assert.equal(await readShareLink('#probe'), null);
  await assert.rejects(readShareLink('#transcript=AAAA'), ShareLinkError);
  await assert.rejects(readShareLink('#transcript=a+b'), /damaged/);
  const many = probeRun(['CN=c'], 'pass');
  for (let i = 0; i < 3000; i += 1) many.splice(1, 0, { t: i, event: { type: 'step', runId: 'r1', step: step(`s${i}`, 'ok', { random: Math.random().toString(36).repeat(4) }) } });
  await assert.rejects(shareLink(transcript('big', many), 'http://x/'), (err: unknown) => err instanceof ShareLinkError && /too large for a link/.test(err.message) && err.message.includes(`${MAX_SHARE_LINK_CHARS / 1000} k`));
});
