// Secret canaries through the relay's log, in both formats: the access secret, the metrics
// token, a wrong token, secrets an attacker puts in headers and secrets a run carries reach no
// log line; JSON lines are one parseable object each (what a collector reads).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { startRelay } from './relay.ts';
import { RelayClient } from './testing/relay-client.ts';
import { LOG_FORMATS } from './log.ts';

const canary = (what: string) => `CANARY${what}${randomBytes(8).toString('hex')}`;

function rawUpgrade(port: number, path: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => {
      s.write([`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n'));
    });
    let text = '';
    s.on('data', (d) => { text += d; });
    s.on('close', () => resolve(text));
    s.on('error', reject);
  });
}

for (const format of LOG_FORMATS) {
  test(`${format} log: no secret reaches a line, whoever sent it`, async () => {
    const M = { access: canary('ACCESS'), metrics: canary('METRICS'), wrongToken: canary('WRONG'), jwtSig: canary('JWTSIG'), bearer: canary('BEARER'), apiKey: canary('APIKEY'), scrape: canary('SCRAPE') };
    const lines: string[] = [];
    const relay = await startRelay({
      port: 0, lab: false, hosted: true, quiet: false, logFormat: format, logWriter: (l) => lines.push(l),
      token: M.access, metricsToken: M.metrics,
      webRoot: await mkdtemp(join(tmpdir(), 'harness-logcanary-')),
    });
    // From anyone on the network: a wrong token, and secrets in the headers the log quotes.
    assert.match(await rawUpgrade(relay.port, `/ws?token=${M.wrongToken}`, { Origin: relay.origin }), /^HTTP\/1\.1 403/);
    assert.match(await rawUpgrade(relay.port, `/ws?token=${M.access}`, { Origin: `https://a.invalid/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.${M.jwtSig}` }), /^HTTP\/1\.1 403/);
    await new Promise<void>((ok) => http.get({ host: '127.0.0.1', port: relay.port, path: '/metrics', headers: { authorization: `Bearer ${M.scrape}` }, agent: false }, (res) => { res.resume(); res.on('end', ok); }));
    // A learner's run with secrets (refused by the hosted outbound guard: loopback).
    const client = await RelayClient.open(relay);
    const finished = await client.probe({ url: `https://127.0.0.1:9443/orders?apiKey=${M.apiKey}`, headers: { Authorization: `Bearer ${M.bearer}` } });
    assert.equal(finished.outcome, 'fail');
    await relay.shutdown();

    const messages = format === 'json' ? lines.map((l) => {
      const o = JSON.parse(l) as { level: string; time: string; msg: string };
      assert.ok(['info', 'error'].includes(o.level) && !Number.isNaN(Date.parse(o.time)), l);
      return o.msg;
    }) : lines;
    for (const want of ['websocket upgrade refused', 'session opened', 'run finished', 'session closed', 'shutdown started', 'shutdown finished']) {
      assert.ok(messages.some((m) => m.includes(want)), `no "${want}" line in ${format}: ${lines.join('')}`);
    }
    const all = lines.join('');
    for (const [name, value] of Object.entries(M)) assert.ok(!all.includes(value), `${name} reached the ${format} log`);
    assert.ok(lines.every((l) => l.endsWith('\n') && l.indexOf('\n') === l.length - 1), 'one line per event');
  });
}
