// Where a probe's time went, from the events alone: DNS, TCP and TLS are their steps' spans;
// the HTTP exchange comes from the response step's `details.timings` (ms since run start);
// the total from the verdict's `details.totalMs`.
import { detailsOf, type Step } from '../../../../shared/protocol/index.ts';

interface TimingRow {
  id: string;
  label: string;
  /** What the span measures, for the reader who wonders. */
  means: string;
  /** ms since the run started. */
  startMs: number;
  endMs: number;
}

export interface PhaseTimings {
  rows: TimingRow[];
  totalMs: number;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function span(step: Step | undefined): [number, number] | null {
  if (!step || step.status === 'running' || step.status === 'skipped' || step.durationMs === undefined) return null;
  return [step.startMs, step.startMs + step.durationMs];
}

const STEP_ROWS: Array<[id: string, label: string, means: string]> = [
  ['inputs', 'Inputs', 'checking the certificate, key and URL before connecting'],
  ['dns', 'DNS', 'resolving the host name'],
  ['tcp', 'TCP', 'TCP connect to the address'],
  ['tls', 'TLS', 'the TLS handshake, client certificate included'],
];

export function phaseTimings(steps: Step[], runDurationMs: number | null): PhaseTimings | null {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const rows: TimingRow[] = [];
  for (const [id, label, means] of STEP_ROWS) {
    const s = span(byId.get(id));
    if (s) rows.push({ id, label, means, startMs: s[0], endMs: s[1] });
  }
  const request = byId.get('request');
  const response = detailsOf(byId.get('response'), 'response');
  const t = response && 'timings' in response ? response.timings : undefined;
  if (t) {
    const sent = num(t.requestSentMs);
    const headers = num(t.headersMs);
    const firstByte = num(t.firstByteMs);
    const end = num(t.endMs);
    if (sent !== null && request) rows.push({ id: 'sent', label: 'Request sent', means: 'writing the request line, headers and body', startMs: request.startMs, endMs: sent });
    if (sent !== null && headers !== null) rows.push({ id: 'headers', label: 'Response headers', means: 'waiting for the server to answer (its processing time)', startMs: sent, endMs: headers });
    if (headers !== null && firstByte !== null) rows.push({ id: 'first-byte', label: 'First body byte', means: 'from the headers to the first byte of the body', startMs: headers, endMs: firstByte });
    if (end !== null) {
      const from = firstByte ?? headers;
      if (from !== null) rows.push({ id: 'body', label: 'Body complete', means: 'reading the rest of the body', startMs: from, endMs: end });
    }
  }
  if (rows.length === 0) return null;
  const verdictTotal = num(detailsOf(byId.get('verdict'), 'verdict')?.totalMs);
  const totalMs = verdictTotal ?? runDurationMs ?? Math.max(...rows.map((r) => r.endMs));
  return { rows, totalMs };
}
