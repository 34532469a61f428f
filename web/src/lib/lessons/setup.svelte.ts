// A lesson prepares its own setup: the key it needs (lab-signed or self-signed, made in this
// browser), then the probe or token-flow form filled from the lesson's scenario, then the
// screen. The learner only has to press Run, so a lesson starts the same way in every class.
import type { Scenario } from '../../../../shared/flows/scenario.ts';
import { HTTP_METHODS } from '../../../../shared/flows/flow-request.ts';
import type { Harness } from '../app/harness.svelte.ts';
import { escapeDnValue } from '../keys/keyring.svelte.ts';
import { loadPki } from '../keys/pki.ts';
import { ProbeSession } from '../probe/probe.svelte.ts';
import type { Method } from '../probe/request.ts';
import { isObj, resolveScenario } from '../scenarios/resolve.ts';
import type { LessonCredential, LessonSetup } from './format.ts';

async function makeCredential(harness: Harness, spec: LessonCredential): Promise<string> {
  const credential = await harness.keyring.generate('P-256', spec.commonName);
  if (spec.kind === 'lab-signed') {
    await harness.keyring.requestLabCertificate(credential, (csr, profile) => harness.relay.signCsr(csr, profile), spec.profile);
  } else {
    const pki = await loadPki();
    const now = Date.now();
    const cert = await pki.selfSign(credential.keyPair!, {
      subject: `CN=${escapeDnValue(spec.commonName)}`,
      profile: 'client',
      notBefore: new Date(now - 5 * 60_000),
      notAfter: new Date(now + 30 * 86_400_000),
    });
    await harness.keyring.attachCertificate(credential, cert.toString('pem'));
  }
  return credential.id;
}

function openProbe(harness: Harness, scenario: Scenario, credentialId: string): void {
  const probe = harness.screen(ProbeSession);
  const { request: r } = resolveScenario(scenario, harness.relay.info?.lab?.targets ?? []);
  probe.url = typeof r.url === 'string' ? r.url : '';
  probe.urlEdited = true;
  probe.method = (HTTP_METHODS as readonly string[]).includes(String(r.method)) ? (r.method as Method) : 'GET';
  probe.headersText = isObj(r.headers) ? Object.entries(r.headers).map(([k, v]) => `${k}: ${String(v)}`).join('\n') : '';
  probe.body = typeof r.body === 'string' ? r.body : '';
  probe.caPem = typeof r.caPem === 'string' ? r.caPem : '';
  probe.verifyServer = r.verifyServer !== false;
  probe.trustLab = r.trustLab !== false;
  probe.opened = null;
  probe.clientNeed = null;
  probe.credentialId = credentialId;
  probe.error = null;
}

async function openFlow(harness: Harness, setup: LessonSetup, scenario: Scenario, credentialId: string): Promise<string[]> {
  const { FlowsController } = await import('../flows/controller.svelte.ts');
  const controller = harness.screen(FlowsController);
  const lab = harness.relay.info?.lab;
  // The lab defaults first, so the screen's own first look at the lab fills nothing over the lesson.
  if (lab) controller.labSeen(lab);
  await controller.offerLabDefaults();
  const notes = await controller.open(scenario);
  const form = controller.forms[controller.kind];
  if (credentialId) form.credentialId = credentialId;
  if (setup.jwtClockOffsetSec !== undefined) {
    // A wrong clock: iat and exp as a signer whose clock is that far off would write them.
    const iat = Math.floor(Date.now() / 1000) + setup.jwtClockOffsetSec;
    form.jwtExtraClaims = JSON.stringify({ iat, exp: iat + (form.jwtLifetimeSec || 60) }, null, 2);
  }
  return notes;
}

/** Prepares `setup` and shows its screen; returns notes about what the form could not take. */
export async function applySetup(harness: Harness, setup: LessonSetup, title: string): Promise<string[]> {
  const scenario: Scenario = { ...setup.scenario, name: setup.scenario.name === 'Lesson setup' ? title : setup.scenario.name };
  const credentialId = setup.credential ? await makeCredential(harness, setup.credential) : '';
  let notes: string[] = [];
  if (setup.screen === 'probe') openProbe(harness, scenario, credentialId);
  else notes = await openFlow(harness, setup, scenario, credentialId);
  harness.show(setup.screen);
  return notes;
}
