import type { Harness } from '../app/harness.svelte.ts';
import type { RelayConnection } from '../relay/connection.svelte.ts';
import { describeError } from '../relay/errors.ts';
import type { KeyRing } from '../keys/keyring.svelte.ts';
import { RunTimeline } from '../timeline/run.svelte.ts';
import { CXML_CONTENT_TYPE, cxmlOrderRequest, withHeader } from './cxml-example.ts';
import { buildProbeRequest, type Method } from './request.ts';
import { clientNeedMessage, type ClientNeed } from '../scenarios/resolve.ts';

/**
 * What a run was given, kept so its reproduce commands can be handed the files they name.
 * The private key is not kept: it is exported again from the key ring only when asked for.
 */
export interface RunInputs {
  /** Leaf first, then intermediates: what the relay presented (curl's --cert file). */
  certificateChainPem: string | null;
  /** The intermediates alone (openssl s_client's -cert_chain file). */
  intermediatesPem: string;
  /** The CA bundle the user gave for the server, if any. */
  caPem: string | null;
  body: string | null;
  credentialId: string | null;
  credentialLabel: string | null;
  /** The target was a lab target and the lab's server CA was trusted implicitly. */
  labTrusted: boolean;
}

export type { ClientNeed };

/** The scenario the form was last filled from: its expect block judges the runs. */
export interface OpenedScenario {
  name: string;
  expect: { outcome: 'pass' | 'fail' | 'error'; diagnoses?: string[] } | null;
}

/** The probe form and the run it started. */
export class ProbeSession {
  url = $state('');
  method = $state<Method>('GET');
  headersText = $state('');
  /** Header, form-field or query-parameter names the user marked secret. */
  secretNamesText = $state('');
  body = $state('');
  /** PEM CAs to trust for the server; blank for the system store (and the lab CA for lab targets). */
  caPem = $state('');
  verifyServer = $state(true);
  trustLab = $state(true);
  /** Selected credential id; empty for "no client certificate". */
  credentialId = $state('');
  /** Whether the user typed a URL (then the lab default no longer replaces it). */
  urlEdited = $state(false);
  /** A problem with the form or with starting the run, shown above the timeline. */
  error = $state<string | null>(null);
  current = $state<RunTimeline | null>(null);
  /** What the current run was given; null before the first run. */
  inputs = $state<RunInputs | null>(null);
  /** What an opened scenario still needs before Run does what the file describes. */
  clientNeed = $state<ClientNeed | null>(null);
  opened = $state<OpenedScenario | null>(null);

  readonly #relay: RelayConnection;
  readonly #keyring: KeyRing;

  constructor(harness: Harness) {
    this.#relay = harness.relay;
    this.#keyring = harness.keyring;
  }

  get running(): boolean {
    return this.current?.active ?? false;
  }

  /** Fills the URL with the lab's default target unless the user chose one. */
  offerDefaultUrl(url: string): void {
    if (!this.urlEdited && !this.url) this.url = url;
  }

  /** One click to a cXML purchase order: POST, Content-Type text/xml, a sample OrderRequest. */
  useCxmlExample(): void {
    this.method = 'POST';
    this.headersText = withHeader(this.headersText, 'Content-Type', CXML_CONTENT_TYPE);
    this.body = cxmlOrderRequest();
  }

  /** Starts a probe with the form as it is; resolves when the run has finished or stopped. */
  async run(): Promise<RunTimeline | null> {
    if (this.running) return null;
    this.error = null;
    const built = buildProbeRequest({
      url: this.url,
      method: this.method,
      headersText: this.headersText,
      secretNamesText: this.secretNamesText,
      body: this.body,
      caPem: this.caPem,
      verifyServer: this.verifyServer,
      trustLab: this.trustLab,
    });
    if (!built.ok) {
      this.error = built.message;
      return null;
    }
    const probe = built.value;
    if (this.clientNeed && !this.credentialId) {
      this.error = clientNeedMessage(this.clientNeed, 'Probe without it');
      return null;
    }
    const credential = this.#keyring.get(this.credentialId);
    if (this.credentialId && !credential?.ready) {
      this.error = 'The selected key has no certificate yet: get one under Keys & certs, or choose another.';
      return null;
    }

    const timeline = new RunTimeline({
      target: probe.url,
      method: probe.method ?? 'GET',
      clientLabel: credential?.description ?? null,
      requestBody: probe.body ?? null,
    });
    this.current = timeline;
    const labTargets = this.#relay.info?.lab?.targets ?? [];
    this.inputs = {
      certificateChainPem: credential ? credential.certificateChainPem : null,
      intermediatesPem: credential?.chainPem ?? '',
      caPem: probe.caPem ?? null,
      body: probe.body ?? null,
      credentialId: credential?.id ?? null,
      credentialLabel: credential?.label ?? null,
      labTrusted: !probe.caPem && probe.trustLab !== false && labTargets.some((t) => new URL(t.url).host === new URL(probe.url).host),
    };
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

  /** The private key of the credential the current run presented, exported on demand. */
  async runPrivateKeyPem(): Promise<string> {
    const credential = this.#keyring.get(this.inputs?.credentialId);
    if (!credential) throw new Error('The key this run used is no longer in the key ring.');
    return credential.privateKeyPem();
  }

  cancel(): void {
    const runId = this.current?.runId;
    if (runId && this.running) this.#relay.cancelRun(runId);
  }
}
