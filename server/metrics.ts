// Prometheus metrics for the operator of a hosted relay (docs/deployment.md): sessions, runs by
// kind and outcome, step and run durations, refusals by reason, event-loop delay. Every label
// takes values from a fixed set chosen by the code (kinds, outcomes, phases, refusal codes),
// never a URL, host, address or message, so the series stay few whatever the class does.
import { timingSafeEqual } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type http from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RunOutcome, Step } from '../shared/protocol/index.ts';

const METRICS_PATH = '/metrics';

/** What a run is, as counted: the protocol's run kinds plus server checks and JWKS fetches. */
type MeteredKind = 'probe' | 'flow' | 'inbound' | 'check' | 'jwks';

/** Why something was refused: protocol error codes and the relay's own edges. A fixed set. */
const REFUSAL_REASONS = [
  'busy_session', 'busy_address', 'busy_relay', 'slow_reader', 'shutting_down', 'rate_limited',
  'upgrade_path', 'upgrade_host', 'upgrade_origin', 'upgrade_token', 'upgrade_invalid', 'upgrade_draining',
  'pre_auth_sockets', 'pre_auth_sockets_per_address',
] as const;
type RefusalReason = (typeof REFUSAL_REASONS)[number];

const OUTCOMES = new Set<string>(['pass', 'fail', 'error']);
const STEP_STATUSES = new Set<string>(['ok', 'warn', 'fail', 'skipped']);

export class RelayMetrics {
  readonly registry = new Registry();
  readonly #sessions = new Gauge({ name: 'harness_sessions', help: 'WebSocket sessions open now', registers: [this.registry] });
  readonly #sessionsOpened = new Counter({ name: 'harness_sessions_opened_total', help: 'WebSocket sessions admitted since start', registers: [this.registry] });
  readonly #runsInFlight = new Gauge({ name: 'harness_runs_in_flight', help: 'Runs, server checks and JWKS fetches in flight', labelNames: ['kind'], registers: [this.registry] });
  readonly #runs = new Counter({ name: 'harness_runs_total', help: 'Runs finished, by kind and outcome (cancelled runs count as error)', labelNames: ['kind', 'outcome'], registers: [this.registry] });
  readonly #runSeconds = new Histogram({
    name: 'harness_run_duration_seconds', help: 'Whole run durations', labelNames: ['kind', 'outcome'], registers: [this.registry],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  });
  readonly #stepSeconds = new Histogram({
    name: 'harness_step_duration_seconds', help: 'Step durations by phase and status (dns, tcp, tls, request, exchange, …)', labelNames: ['phase', 'status'], registers: [this.registry],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
  });
  readonly #refusals = new Counter({ name: 'harness_refusals_total', help: 'Requests, sessions and sockets refused, by reason', labelNames: ['reason'], registers: [this.registry] });
  readonly #draining = new Gauge({ name: 'harness_draining', help: '1 while the relay shuts down', registers: [this.registry] });
  readonly #loopDelay = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.#loopDelay.enable();
    const loop = this.#loopDelay;
    new Gauge({
      name: 'harness_event_loop_delay_seconds', help: 'Event-loop delay since the last scrape (p50, p99, max): what every session\'s events wait behind', labelNames: ['quantile'], registers: [this.registry],
      collect() {
        this.set({ quantile: '0.5' }, loop.percentile(50) / 1e9);
        this.set({ quantile: '0.99' }, loop.percentile(99) / 1e9);
        this.set({ quantile: '1' }, loop.max / 1e9);
        loop.reset();
      },
    });
    for (const reason of REFUSAL_REASONS) this.#refusals.inc({ reason }, 0);
    // Process figures (CPU, memory, open file descriptors, handles) under the usual names.
    collectDefaultMetrics({ register: this.registry });
  }

  sessionOpened(): void {
    this.#sessions.inc();
    this.#sessionsOpened.inc();
  }

  sessionClosed(): void {
    this.#sessions.dec();
  }

  runStarted(kind: MeteredKind): void {
    this.#runsInFlight.inc({ kind });
  }

  runFinished(kind: MeteredKind, outcome: RunOutcome | string, seconds: number): void {
    const o = OUTCOMES.has(outcome) ? outcome : 'error';
    this.#runsInFlight.dec({ kind });
    this.#runs.inc({ kind, outcome: o });
    this.#runSeconds.observe({ kind, outcome: o }, seconds);
  }

  step(step: Step): void {
    if (step.durationMs === undefined || !STEP_STATUSES.has(step.status)) return;
    this.#stepSeconds.observe({ phase: step.phase, status: step.status }, step.durationMs / 1000);
  }

  refused(reason: RefusalReason): void {
    this.#refusals.inc({ reason });
  }

  draining(): void {
    this.#draining.set(1);
  }

  close(): void {
    this.#loopDelay.disable();
  }
}

/**
 * Serves /metrics. `token`: when set, a scrape must send `Authorization: Bearer <token>`
 * (Prometheus: authorization.credentials_file). False for any other path.
 */
export function answerMetrics(req: http.IncomingMessage, res: http.ServerResponse, metrics: RelayMetrics, token: string | undefined): boolean {
  if ((req.url ?? '').split('?')[0] !== METRICS_PATH) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('method not allowed');
    return true;
  }
  if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
    res.writeHead(401, { 'content-type': 'text/plain', 'cache-control': 'no-store', 'www-authenticate': 'Bearer realm="metrics"' }).end('metrics need the metrics token');
    return true;
  }
  metrics.registry.metrics().then((text) => {
    res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' }).end(text);
  }, () => {
    res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable');
  });
  return true;
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer (\S+)$/i.exec(header ?? '')?.[1];
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
