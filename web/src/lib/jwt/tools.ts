// The JWT tools' state outlives a visit to the screen (like the probe's), and the token-flows
// screen signs with the same browser keys. Until the Harness owns them, they hang off it here.
import type { Harness } from '../app/harness.svelte.ts';
import { JwtBuilder } from './builder.svelte.ts';
import { RelayClock } from './relay-clock.svelte.ts';
import { BrowserSigner } from './signer.svelte.ts';
import { JwtVerifier } from './verifier.svelte.ts';

export interface JwtTools {
  signer: BrowserSigner;
  clock: RelayClock;
  builder: JwtBuilder;
  verifier: JwtVerifier;
}

const byHarness = new WeakMap<Harness, JwtTools>();

export function jwtTools(harness: Harness): JwtTools {
  let tools = byHarness.get(harness);
  if (!tools) {
    const signer = new BrowserSigner();
    const clock = new RelayClock();
    tools = { signer, clock, builder: new JwtBuilder({ signer, keyring: harness.keyring, clock }), verifier: new JwtVerifier(signer) };
    byHarness.set(harness, tools);
  }
  return tools;
}
