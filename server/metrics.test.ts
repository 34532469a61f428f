// /metrics on a real relay: what an operator sees after real runs and refusals, label values
// that stay a fixed set whatever targets the class probes, and the hosted-mode rule (served
// only with a metrics token of its own, checked on every scrape).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startRelay, type RelayOptions, type RunningRelay } from './relay.ts';
import { RelayClient, openOrRefused } from './testing/relay-client.ts';

const started: RunningRelay[] = [];
after(async () => { await Promise.all(started.map((r) => r.close())); });

async function relay(opts: RelayOptions = {}): Promise<RunningRelay> {
  const r = await startRelay({ port: 0, quiet: true, lab: false, webRoot: await mkdtemp(join(tmpdir(), 'harness-metrics-web-')), ...opts });
  started.push(r);
  return r;
}

function scrape(port: number, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/metrics', headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
    }).on('error', reject);
  });
}

/** A port nothing listens on: a probe of it fails fast with connect_refused. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const { port } = s.address() as AddressInfo;
  await new Promise((ok) => s.close(ok));
  return port;
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Every distinct series (name and labels) in a scrape. */
function series(text: string): Set<string> {
  return new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.slice(0, l.lastIndexOf(' '))));
}

test('after real runs and refusals the scrape has sessions, runs by kind and outcome, step histograms, refusals and event-loop delay', async () => {
  const r = await relay();
  const client = await RelayClient.open(r);
  const port = await closedPort();
  const finished = await client.probe({ url: `https://127.0.0.1:${port}/` });
  assert.equal(finished.outcome, 'fail');
  const wrongToken = await openOrRefused({ ...r, token: 'not-the-token' });
  assert.equal(wrongToken.welcomed, false);

  const { status, body, type } = await scrape(r.port);
  assert.equal(status, 200);
  assert.match(type, /^text\/plain; version=0\.0\.4/);
  assert.equal(value(body, 'harness_sessions'), 1);
  assert.equal(value(body, 'harness_runs_total{kind="probe",outcome="fail"}'), 1);
  assert.equal(value(body, 'harness_run_duration_seconds_count{kind="probe",outcome="fail"}'), 1);
  assert.ok((value(body, 'harness_step_duration_seconds_count{phase="tcp",status="fail"}') ?? 0) >= 1, 'the failed connect is a tcp step');
  assert.equal(value(body, 'harness_refusals_total{reason="upgrade_token"}'), 1);
  assert.equal(value(body, 'harness_refusals_total{reason="busy_relay"}'), 0, 'every reason is present from the start');
  assert.ok(value(body, 'harness_event_loop_delay_seconds{quantile="0.99"}') !== undefined);
  assert.ok(value(body, 'process_open_fds') !== undefined);
  await client.close();
});

test('labels stay a fixed set: probing 12 more targets adds no series, and no target appears', async () => {
  const r = await relay();
  const client = await RelayClient.open(r);
  const ports = await Promise.all(Array.from({ length: 13 }, closedPort));
  await client.probe({ url: `https://127.0.0.1:${ports[0]}/` });
  const before = series((await scrape(r.port)).body);
  for (const [i, port] of ports.slice(1).entries()) await client.probe({ url: `https://${i % 2 ? 'localhost' : '127.0.0.1'}:${port}/x?q=${i}` });
  const text = (await scrape(r.port)).body;
  const grown = [...series(text)].filter((s) => !before.has(s) && s.startsWith('harness_'));
  assert.deepEqual(grown, []);
  for (const port of ports) assert.ok(!text.includes(`:${port}`), `port ${port} is in the metrics`);
  assert.ok(!/localhost|127\.0\.0\.1|https?:/.test(text), 'a host or URL is in the metrics');
  await client.close();
});

const hostedCases = [
  { name: 'without a metrics token, hosted mode does not serve /metrics', token: undefined, send: undefined, want: 'absent' },
  { name: 'with one, a scrape without it is refused', token: 'm'.repeat(40), send: undefined, want: 401 },
  { name: 'with one, the access token is not it', token: 'm'.repeat(40), send: 'ACCESS', want: 401 },
  { name: 'with one, the right bearer token scrapes', token: 'm'.repeat(40), send: 'm'.repeat(40), want: 200 },
] as const;

for (const c of hostedCases) {
  test(`hosted: ${c.name}`, async () => {
    const r = await relay({ hosted: true, ...(c.token ? { metricsToken: c.token } : {}) });
    const bearer = c.send === 'ACCESS' ? r.token : c.send;
    const res = await scrape(r.port, bearer ? { authorization: `Bearer ${bearer}` } : {});
    // Not served: the request falls through to the app's files, like any unknown path.
    if (c.want === 'absent') assert.notEqual(res.status, 200);
    else assert.equal(res.status, c.want);
    if (c.want !== 200) assert.ok(!res.body.includes('harness_'), 'no metric leaks with the refusal');
  });
}
