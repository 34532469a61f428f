// The server check over the WebSocket: `check.kit` answers what to install, `check.start` runs
// the check and streams check.started → check.step… / check.case… → check.finished. A request the
// check cannot use is an error naming its field before anything is minted or sent. The CA keys
// live for the check only; every event is redacted and scrubbed of them.
import type { ClientMessage, ServerMessage } from '../../shared/protocol.ts';
import { CheckInputError } from '../../shared/check/request.ts';
import { redactDeep, scrubDeep, secretValues } from '../../shared/redact.ts';
import type { Limits } from '../defaults.ts';
import type { LabTrust } from '../net/dial.ts';
import type { OutboundPolicy } from '../net/outbound-guard.ts';
import { installKit, prepareCheck } from './prepare.ts';
import { runCheck } from './run-check.ts';

type KitRequest = Extract<ClientMessage, { type: 'check.kit' }>;
type StartRequest = Extract<ClientMessage, { type: 'check.start' }>;

export interface CheckDeps {
  limits: Limits;
  policy: OutboundPolicy;
  lab?: LabTrust;
}

/** The values a check request carries that must never come back: the test CA's keys, custom cases' keys. */
function checkSecrets(msg: KitRequest | StartRequest): string[] {
  const { ca, custom } = msg.check;
  return secretValues({ privateKeyPems: [ca?.rootPrivateKeyPem, ca?.intermediatePrivateKeyPem, ...(custom ?? []).map((c) => c.privateKeyPem)].filter((p): p is string => typeof p === 'string') });
}

function invalid(id: string, err: unknown): ServerMessage | null {
  return err instanceof CheckInputError ? { type: 'error', id, code: 'check_invalid', message: err.message } : null;
}

export async function answerCheckKit(msg: KitRequest, deps: CheckDeps): Promise<ServerMessage> {
  try {
    const kit = await installKit(await prepareCheck(msg.check, { policy: deps.policy }));
    return scrubDeep({ type: 'check.kit.ready', id: msg.id, kit }, checkSecrets(msg));
  } catch (err) {
    const refused = invalid(msg.id, err);
    if (refused) return refused;
    throw err;
  }
}

/**
 * Runs a check for a session; `send` gets every event already redacted. Resolves when the check
 * has finished (or was refused); `signal` cancels the cases still running.
 */
export async function streamCheck(msg: StartRequest, checkId: string, deps: CheckDeps & { signal: AbortSignal; send(m: ServerMessage): void }): Promise<void> {
  const secrets = checkSecrets(msg);
  const send = (m: ServerMessage) => deps.send(scrubDeep(redactDeep(m), secrets));
  try {
    // Every field is checked before the check is announced: a refusal is the request's answer.
    await prepareCheck(msg.check, { policy: deps.policy });
  } catch (err) {
    const refused = invalid(msg.id, err);
    if (refused) return deps.send(refused);
    throw err;
  }
  let started = false;
  const report = await runCheck(msg.check, {
    limits: deps.limits,
    policy: deps.policy,
    signal: deps.signal,
    ...(deps.lab ? { lab: deps.lab } : {}),
    onStarted: (cases) => {
      started = true;
      send({ type: 'check.started', id: msg.id, checkId, target: msg.check.url, cases });
    },
    onStep: (caseId, step) => send({ type: 'check.step', checkId, caseId, step }),
    onCase: (result) => send({ type: 'check.case', checkId, caseId: result.caseId, result }),
  });
  if (!started) send({ type: 'check.started', id: msg.id, checkId, target: msg.check.url, cases: [] });
  send({ type: 'check.finished', checkId, report });
}
