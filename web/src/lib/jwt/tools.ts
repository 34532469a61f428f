// The JWT tools' state outlives a visit to the screen (like the probe's), and the token-flows
// and server-check screens sign with the same browser keys: each asks harness.screen(JwtTools).
import type { Harness } from '../app/harness.svelte.ts';
import { JwtBuilder } from './builder.svelte.ts';
import { RelayClock } from './relay-clock.svelte.ts';
import { BrowserSigner } from './signer.svelte.ts';
import { JwtVerifier } from './verifier.svelte.ts';

export class JwtTools {
  readonly signer = new BrowserSigner();
  readonly clock = new RelayClock();
  readonly builder: JwtBuilder;
  readonly verifier: JwtVerifier;

  constructor(harness: Harness) {
    this.builder = new JwtBuilder({ signer: this.signer, keyring: harness.keyring, clock: this.clock });
    this.verifier = new JwtVerifier(this.signer);
  }
}
