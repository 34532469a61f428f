import type { KeyRing } from '../keys/keyring.svelte.ts';
import type { Harness } from '../app/harness.svelte.ts';
import { ProbeSession } from '../probe/probe.svelte.ts';
import type { RelayConnection } from '../relay/connection.svelte.ts';
import { describeError } from '../relay/errors.ts';

export type DemoStage = 'idle' | 'key' | 'certificate' | 'probe' | 'done' | 'failed';

export const DEMO_COMMON_NAME = 'lab-client';

/**
 * The one-click lab demo: a P-256 key made in this browser, a CSR, a certificate from the
 * lab CA, and a probe of the lab's default mTLS target with it. Each stage uses the same
 * code paths as the manual flow, so the demo shows exactly what a user would do by hand.
 */
export class LabDemo {
  stage = $state<DemoStage>('idle');
  error = $state<string | null>(null);

  readonly #relay: RelayConnection;
  readonly #keyring: KeyRing;
  readonly #probe: ProbeSession;

  constructor(harness: Harness) {
    this.#relay = harness.relay;
    this.#keyring = harness.keyring;
    this.#probe = harness.screen(ProbeSession);
  }

  get busy(): boolean {
    return this.stage === 'key' || this.stage === 'certificate' || this.stage === 'probe';
  }

  async run(): Promise<void> {
    const target = this.#relay.info?.lab?.targets[0];
    if (!target || this.busy) return;
    this.error = null;
    try {
      this.stage = 'key';
      const credential = await this.#keyring.generate('P-256', DEMO_COMMON_NAME);
      this.stage = 'certificate';
      await this.#keyring.requestLabCertificate(credential, (csr) => this.#relay.signCsr(csr));
      this.stage = 'probe';
      this.#probe.url = target.url;
      this.#probe.method = 'GET';
      this.#probe.headersText = '';
      this.#probe.body = '';
      this.#probe.credentialId = credential.id;
      await this.#probe.run();
      this.stage = 'done';
    } catch (err) {
      this.error = describeError(err);
      this.stage = 'failed';
    }
  }
}
