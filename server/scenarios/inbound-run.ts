// Running an inbound scenario headless: the listener the app would open (same CA bundle, rule
// and depth, on a free loopback port) and one client connection to it, made as curl would make
// it — the saved certificate and key, trusting the listener's CA. The run is that connection's:
// the same events, outcome and diagnoses the app shows for a client that connects.
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import type { ClientCredentials, InboundRequest, RunEvent, RunOutcome } from '../../shared/protocol/index.ts';
import type { RunningLab } from '../lab/lab.ts';
import { createLogger } from '../log.ts';
import { INBOUND_LIMITS } from '../inbound/limits.ts';
import { startInboundListener } from '../inbound/listener.ts';
import { serverIdentity } from '../inbound/server-identity.ts';
import { CaBundleError, readTrustBundle } from '../inbound/trust-bundle.ts';
import { ScenarioError } from '../../shared/flows/scenario.ts';

/** How long an inbound scenario waits for its connection's run to end: the listener's own handshake and request limits, and a margin. */
const INBOUND_SCENARIO_TIMEOUT_MS = INBOUND_LIMITS.handshakeTimeoutMs + INBOUND_LIMITS.headersTimeoutMs + 5_000; // ms

interface InboundRunResult {
  outcome: RunOutcome;
  diagnoses: string[];
  durationMs: number;
}

export async function runInboundScenario(inbound: InboundRequest, client: ClientCredentials | null, opts: { lab: RunningLab | null; onEvent(event: RunEvent): void }): Promise<InboundRunResult> {
  let bundle: Awaited<ReturnType<typeof readTrustBundle>>;
  try {
    bundle = await readTrustBundle(inbound.caPem);
  } catch (err) {
    if (err instanceof CaBundleError) throw new ScenarioError(`inbound.listener.caPem: ${err.message}`);
    throw err;
  }
  const identity = await serverIdentity(opts.lab?.pki ?? null);
  let finish!: (r: InboundRunResult) => void;
  const finished = new Promise<InboundRunResult>((resolve) => (finish = resolve));
  let runId: string | null = null;
  const listener = await startInboundListener({
    listenerId: `l${randomBytes(6).toString('hex')}`,
    requestId: 'cli',
    host: '127.0.0.1',
    port: 0,
    identity,
    bundle,
    ...(inbound.rule ? { rule: inbound.rule } : {}),
    ...(inbound.verifyDepth !== undefined ? { verifyDepth: inbound.verifyDepth } : {}),
    limits: { ...INBOUND_LIMITS },
    log: createLogger(true),
    emit: (event) => {
      // Only the scenario's own connection is reported: one client, one run.
      if (event.type === 'run.started') runId ??= event.runId;
      if (event.runId !== runId) return;
      opts.onEvent(event);
      if (event.type === 'run.finished') finish({ outcome: event.outcome, diagnoses: event.diagnoses, durationMs: event.durationMs });
    },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    // The client's side may fail (a refused handshake): what matters is what the listener saw.
    const request = https.get({
      host: '127.0.0.1',
      port: listener.port,
      path: '/',
      servername: 'localhost',
      ca: identity.caPem,
      ...(client ? { cert: client.certificatePem, key: client.privateKeyPem } : {}),
      agent: false,
    });
    request.on('response', (res) => res.resume());
    request.on('error', () => {});
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ScenarioError(`the inbound listener reported no finished connection within ${INBOUND_SCENARIO_TIMEOUT_MS} ms`)), INBOUND_SCENARIO_TIMEOUT_MS);
    });
    const result = await Promise.race([finished, timeout]);
    request.destroy();
    return result;
  } finally {
    clearTimeout(timer);
    await listener.close();
  }
}
