import type { RelayConnection } from '../relay/connection.svelte.ts';
import { describeError } from '../relay/errors.ts';
import type { KeyRing } from '../keys/keyring.svelte.ts';
import { RunTimeline } from '../timeline/run.svelte.ts';
import { buildProbeRequest, type Method } from './request.ts';

/** The probe form and the run it started. */
export class ProbeSession {
  url = $state('');
  method = $state<Method>('GET');
  headersText = $state('');
  body = $state('');
  /** Selected credential id; empty for "no client certificate". */
  credentialId = $state('');
  /** Whether the user typed a URL (then the lab default no longer replaces it). */
  urlEdited = $state(false);
  /** A problem with the form or with starting the run, shown above the timeline. */
  error = $state<string | null>(null);
  current = $state<RunTimeline | null>(null);

  readonly #relay: RelayConnection;
  readonly #keyring: KeyRing;

  constructor(relay: RelayConnection, keyring: KeyRing) {
    this.#relay = relay;
    this.#keyring = keyring;
  }

  get running(): boolean {
    return this.current?.active ?? false;
  }

  /** Fills the URL with the lab's default target unless the user chose one. */
  offerDefaultUrl(url: string): void {
    if (!this.urlEdited && !this.url) this.url = url;
  }

  /** Starts a probe with the form as it is; resolves when the run has finished or stopped. */
  async run(): Promise<RunTimeline | null> {
    if (this.running) return null;
    this.error = null;
    const built = buildProbeRequest({ url: this.url, method: this.method, headersText: this.headersText, body: this.body });
    if (!built.ok) {
      this.error = built.message;
      return null;
    }
    const probe = built.value;
    const credential = this.#keyring.get(this.credentialId);
    if (this.credentialId && !credential?.ready) {
      this.error = 'The selected key has no certificate yet: get one under Keys & certs, or choose another.';
      return null;
    }

    const timeline = new RunTimeline({ target: probe.url, method: probe.method ?? 'GET', clientLabel: credential?.description ?? null });
    this.current = timeline;
    try {
      if (credential) {
        probe.client = { certificatePem: credential.certificateChainPem, privateKeyPem: await credential.privateKeyPem() };
      }
      let settle!: () => void;
      const ended = new Promise<void>((resolve) => (settle = resolve));
      const runId = await this.#relay.startProbe(probe, {
        onEvent: (event) => {
          timeline.apply(event);
          if (event.type === 'run.finished') settle();
        },
        onLost: (reason) => {
          timeline.interrupt(reason);
          settle();
        },
      });
      credential?.sentForRuns.push(runId);
      await ended;
    } catch (err) {
      timeline.interrupt(`The run did not start: ${describeError(err)}`);
    }
    return timeline;
  }

  cancel(): void {
    const runId = this.current?.runId;
    if (runId && this.running) this.#relay.cancelRun(runId);
  }
}
