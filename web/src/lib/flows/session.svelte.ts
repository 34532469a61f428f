// One token-flow run at a time: builds the request from the form, starts it on the relay,
// feeds the events to the same RunTimeline the probe uses, and drives the authorization popup.
import type { FlowRequest } from '../../../../shared/flows/flow-request.ts';
import { flowTarget } from '../../../../shared/flows/flow-request.ts';
import type { RelayConnection } from '../relay/connection.svelte.ts';
import { describeError } from '../relay/errors.ts';
import { clientNeedMessage } from '../scenarios/resolve.ts';
import { RunTimeline } from '../timeline/run.svelte.ts';
import { buildFlow, type BuildContext } from './build.ts';
import { FLOW_KIND_INFO, type FlowFields } from './fields.svelte.ts';
import { AuthorizationPopup, CALLBACK_CHANNEL } from './popup.svelte.ts';

/** As many as the relay keeps per connection (server/flows/kept-refresh-tokens.ts). */
const KEPT_REFRESH_SOURCES = 4; // runs

/** An Auth code run whose final refresh token the relay kept. */
interface RefreshSource {
  runId: string;
  clientId: string;
  issuer: string;
  at: Date;
}

export class FlowsSession {
  current = $state<RunTimeline | null>(null);
  /** A problem with the form or with starting the run. */
  error = $state<string | null>(null);
  /** Signing and building before the relay has the request. */
  preparing = $state(false);
  popup = $state<AuthorizationPopup | null>(null);
  /**
   * Auth code runs of this page that ended with a refresh token, newest first: the relay keeps
   * each one's token for a refresh-token run to name (as many as the relay keeps).
   */
  refreshSources = $state<RefreshSource[]>([]);
  /** The request of the current run, kept in this tab only (it holds secrets) to save it as a scenario. */
  lastFlow = $state.raw<FlowRequest | null>(null);

  readonly #relay: RelayConnection;
  readonly #ctx: BuildContext;

  constructor(relay: RelayConnection, ctx: BuildContext) {
    this.#relay = relay;
    this.#ctx = ctx;
  }

  get running(): boolean {
    return this.preparing || (this.current?.active ?? false);
  }

  /** Starts the flow the form describes; call from the user's action (it may open the popup). */
  async run(fields: FlowFields): Promise<RunTimeline | null> {
    if (this.running) return null;
    this.error = null;
    if (fields.clientNeed && !fields.credentialId) {
      this.error = clientNeedMessage(fields.clientNeed, 'Run without a client certificate instead');
      return null;
    }
    this.popup?.finish();
    this.popup = fields.kind === 'authorization-code' ? new AuthorizationPopup() : null;
    const popup = this.popup;
    this.preparing = true;
    const built = await buildFlow(fields, this.#ctx).finally(() => (this.preparing = false));
    if (!built.ok) {
      this.error = built.message;
      popup?.finish();
      return null;
    }
    const { flow } = built;
    this.lastFlow = flow;
    const ignoredHere = new IgnoredRedirects();
    const timeline = new RunTimeline({ target: flowTarget(flow), method: FLOW_KIND_INFO[flow.kind].title, clientLabel: built.sendsKeyOf?.description ?? null, detail: built.summary });
    this.current = timeline;
    try {
      let settle!: () => void;
      const ended = new Promise<void>((resolve) => (settle = resolve));
      const runId = await this.#relay.startRun({ type: 'flow.start', id: this.#relay.nextId(), flow }, {
        onEvent: (event) => {
          timeline.apply(event);
          if (event.type === 'step' && event.step.phase === 'authorize' && event.step.details) {
            if (event.step.status === 'ok' || event.step.status === 'warn') popup?.navigate(event.step.details.authorizationUrl);
            ignoredHere.expect(event.step.details.redirectUri);
          }
          if (event.type === 'step' && event.step.id.startsWith('callback-ignored-')) ignoredHere.reported(() => timeline.runId && timeline.active && this.#relay.settleRun(timeline.runId));
          if (event.type === 'run.finished') {
            popup?.finish();
            ignoredHere.close();
            settle();
          }
        },
        onLost: (reason) => {
          timeline.interrupt(reason);
          ignoredHere.close();
          popup?.finish();
          settle();
        },
      });
      built.sendsKeyOf?.sentForRuns.push(runId);
      await ended;
      if (flow.kind === 'authorization-code' && timeline.outcome === 'pass' && !timeline.diagnoses.includes('refresh_token_missing')) {
        this.refreshSources = [{ runId, clientId: flow.clientAuth.clientId, issuer: flow.issuer ?? flow.tokenUrl ?? '', at: new Date() }, ...this.refreshSources].slice(0, KEPT_REFRESH_SOURCES);
      }
    } catch (err) {
      timeline.interrupt(`The run did not start: ${describeError(err)}`);
      popup?.finish();
    }
    return timeline;
  }

  cancel(): void {
    const runId = this.current?.runId;
    if (runId && this.current?.active) this.#relay.cancelRun(runId);
  }
}

/**
 * Our own sign-in came back with a state the flow did not send (an issuer that drops or alters
 * it): the relay reports the redirect as ignored and the page it showed says so on a channel.
 * Both together mean no other redirect is coming, so the run is settled at once instead of at
 * the callback timeout.
 */
class IgnoredRedirects {
  #path: string | null = null;
  #shown = false;
  #reported: (() => unknown) | null = null;
  #channel: BroadcastChannel | null = null;

  expect(redirectUri: string): void {
    try {
      this.#path = new URL(redirectUri).pathname;
    } catch {
      return;
    }
    this.#channel = new BroadcastChannel(CALLBACK_CHANNEL);
    this.#channel.onmessage = (e: MessageEvent) => {
      if (e.data !== this.#path) return;
      this.#shown = true;
      this.#settle();
    };
  }

  reported(settle: () => unknown): void {
    this.#reported = settle;
    this.#settle();
  }

  #settle(): void {
    if (this.#shown && this.#reported) {
      this.#reported();
      this.close();
    }
  }

  close(): void {
    this.#channel?.close();
    this.#channel = null;
  }
}
