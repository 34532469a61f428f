// Step evidence: what a run reports, step by step. See docs/protocol.md, "Run events".

export type StepStatus = 'running' | 'ok' | 'warn' | 'fail' | 'skipped';
export type RunOutcome = 'pass' | 'fail' | 'error';
/** `inbound`: one client connection to an inbound listener (see inbound.start). */
export type RunKind = 'probe' | 'flow' | 'inbound';

/** Phases of an mTLS probe, in order. */
export const PROBE_PHASES = ['inputs', 'dns', 'tcp', 'tls', 'request', 'response', 'verdict'] as const;
/** Phases of token flows (each HTTP call of a flow is one step of phase `exchange`). */
export const FLOW_PHASES = ['inputs', 'discovery', 'authorize', 'callback', 'exchange', 'token', 'call', 'verdict'] as const;
/** Phases of an inbound run: a client connected to a listener the session opened. */
export const INBOUND_PHASES = ['tcp', 'tls', 'certificate', 'verify', 'rule', 'request', 'response', 'verdict'] as const;
export type ProbePhase = (typeof PROBE_PHASES)[number] | (typeof FLOW_PHASES)[number] | (typeof INBOUND_PHASES)[number];

export interface Fix {
  /** What the person running the harness changes: their certificate, key, request, URL. */
  client: string;
  /** What the operator of the target server changes (Apache/nginx directives, trust store). */
  server: string;
}

export interface Diagnosis {
  /** Stable code from shared/diagnoses.ts; support staff search for these. */
  code: string;
  /** One line in plain language: what happened and why. */
  summary: string;
  /** The signals that led to this diagnosis (alert number, error code, HTTP status, tap). */
  evidence: string[];
  fix: Fix;
  /**
   * The server did not say why; the harness singled the cause out from what it checked itself
   * (an evidence line starting "inferred by the harness" says from what).
   */
  inferred?: boolean;
}

export interface Step {
  /** Stable within a run; a later event with the same id replaces the earlier one. */
  id: string;
  phase: ProbePhase;
  status: StepStatus;
  title: string;
  /** One line shown beside the title, e.g. "localhost → 127.0.0.1". */
  summary?: string;
  /** Milliseconds since run start when the step began. */
  startMs: number;
  /** Milliseconds the step took; absent while running. */
  durationMs?: number;
  /** Structured evidence. Already redacted. */
  details?: Record<string, unknown>;
  diagnosis?: Diagnosis;
}
