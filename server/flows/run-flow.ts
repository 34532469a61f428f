// Runs a token flow as a stream of steps, like the probe. Each kind of flow lives in its own
// file in this folder; this one only dispatches.
import type { FlowRequest } from '../../shared/flows/flow-request.ts';
import type { RunOutcome, Step } from '../../shared/protocol.ts';
import type { Limits } from '../defaults.ts';
import type { RunningLab } from '../lab/lab.ts';
import type { CallbackRegistry } from './callbacks.ts';

export interface FlowContext {
  limits: Limits;
  extraTrustedCaPem?: string[];
  signal?: AbortSignal;
  onStep(step: Step): void;
  /** The relay's own origin (for redirect URIs) and its callback endpoint. */
  relayOrigin: string;
  callbacks: CallbackRegistry;
  lab: RunningLab | null;
}

export interface FlowResult {
  outcome: RunOutcome;
  diagnoses: string[];
  durationMs: number;
  steps: Step[];
}

/** What the run is aimed at, for `run.started.target`. */
export function flowTarget(flow: FlowRequest): string {
  return flow.issuer;
}

/** Secret values the flow request carries, scrubbed from all of its events. */
export function flowSecrets(flow: FlowRequest): string[] {
  void flow;
  return [];
}

export async function runFlow(flow: FlowRequest, ctx: FlowContext): Promise<FlowResult> {
  void ctx;
  throw new TypeError(`flow kind ${flow.kind} is not implemented yet`);
}
