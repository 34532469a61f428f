// What a token flow is given (limits, where its steps go, the callback endpoint, the lab) and
// what it ends with. Apart from the entry (run.ts) and the shared mechanics (flow-steps.ts), so
// neither has to import the other for it.
import type { RunOutcome, Step } from '../../shared/protocol/index.ts';
import type { Limits } from '../defaults.ts';
import type { RunningLab } from '../lab/lab.ts';
import type { Owner } from '../net/fair-share.ts';
import type { OutboundPolicy } from '../net/outbound-guard.ts';
import type { CallbackRegistry } from './callbacks.ts';
import type { IssuedTokenSet } from './issued-tokens.ts';

export interface FlowContext {
  limits: Limits;
  signal?: AbortSignal;
  onStep(step: Step): void;
  /** The relay's own origin (for redirect URIs) and its callback endpoint. */
  relayOrigin: string;
  callbacks: CallbackRegistry;
  lab: RunningLab | null;
  /** The outbound guard (hosted mode); default: local, nothing refused. */
  policy?: OutboundPolicy;
  /** Whose run it is, for the fair share of the event loop (the session). */
  owner?: Owner;
  /**
   * Called with the authorization URL once the relay listens for the redirect. The browser
   * reads it from the `authorize` step instead; the CLI and tests follow it here.
   */
  openAuthorizationUrl?(url: string): void;
  /** The flow only waits for a person (true) or works again (false); the session lends its run slot meanwhile. */
  onWaiting?(waiting: boolean): void;
  /**
   * Send unsigned JWTs (alg none) instead of stopping at the inputs step. Only the server check
   * sets it, to prove the server refuses them; the protocol cannot.
   */
  sendUnsignedJwts?: boolean;
  /**
   * The refresh token a refresh-token flow was issued in place of its own (rotation), for a
   * caller that keeps it (`harness run --save-refresh-token`). It never appears in an event.
   */
  onRotatedRefreshToken?(refreshToken: string): void;
  /**
   * The refresh token a flow ends with (authorization code, or a rotating refresh): the session
   * keeps it so a later refresh-token run can name this run instead of the token.
   */
  keepRefreshToken?(token: string): void;
  /**
   * Every token a token request of the run was issued, for the session to keep (local mode
   * only) until the person reveals one (flow.reveal). Never part of an event.
   */
  onIssuedTokens?(tokens: IssuedTokenSet): void;
}

export interface FlowResult {
  outcome: RunOutcome;
  diagnoses: string[];
  durationMs: number;
  steps: Step[];
}
