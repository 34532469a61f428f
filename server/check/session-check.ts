// The server check over the WebSocket: `check.kit` answers what to install, `check.start` runs
// the check of its kind (mtls, jwt, resource) and streams check.started → check.step… /
// check.case… → check.finished. A request the check cannot use is an error naming its field
// before anything is minted or sent. The CA keys, a bound token's certificate key, the access
// token, the client secret and the signed assertions live for the check only; every event is
// redacted and scrubbed of them.
import type { ClientMessage, ServerMessage } from '../../shared/protocol/index.ts';
import type { CheckCaseInfo, CheckCaseResult, CheckReport } from '../../shared/check/messages.ts';
import type { Step } from '../../shared/protocol/index.ts';
import { CheckInputError } from '../../shared/check/request.ts';
import { cleanDeep, scrubDeep, secretValues } from '../../shared/redact.ts';
import type { Limits } from '../defaults.ts';
import type { RunningLab } from '../lab/lab.ts';
import type { LabTrust } from '../net/dial.ts';
import type { Owner } from '../net/fair-share.ts';
import type { OutboundPolicy } from '../net/outbound-guard.ts';
import { installKit, prepareCheck } from './prepare.ts';
import { runCheck } from './run-check.ts';
import { runSignedJwtCheck } from './jwt-check.ts';
import { runResourceCheck } from './resource-check.ts';

type KitRequest = Extract<ClientMessage, { type: 'check.kit' }>;
type StartRequest = Extract<ClientMessage, { type: 'check.start' }>;

export interface CheckDeps {
  limits: Limits;
  policy: OutboundPolicy;
  lab?: LabTrust;
  /** The built-in lab itself: the JWT check's token flows reach its endpoints through it. */
  runningLab?: RunningLab | null;
  /** Whose check it is, for the fair share of the event loop (the session). */
  owner?: Owner;
}

/** The values a check request carries that must never come back. */
function checkSecrets(msg: KitRequest | StartRequest): string[] {
  if ('jwt' in msg) {
    const { clientSecret, assertions } = msg.jwt;
    return secretValues({ extra: [...(clientSecret ? [clientSecret] : []), ...Object.values(assertions)] });
  }
  if ('resource' in msg) {
    const { accessToken, client } = msg.resource;
    return secretValues({ privateKeyPems: client ? [client.privateKeyPem] : [], extra: [accessToken] });
  }
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

interface Progress {
  onStarted(cases: CheckCaseInfo[]): void;
  onStep(caseId: string, step: Step): void;
  onCase(result: CheckCaseResult): void;
}

/** The engine of the request's kind; each checks every field before its onStarted. */
function runOfKind(msg: StartRequest, deps: CheckDeps & { signal: AbortSignal }, progress: Progress): Promise<CheckReport> {
  const common = { limits: deps.limits, policy: deps.policy, signal: deps.signal, ...(deps.owner ? { owner: deps.owner } : {}), ...progress };
  if ('jwt' in msg) return runSignedJwtCheck(msg.jwt, { ...common, lab: deps.runningLab ?? null });
  if ('resource' in msg) return runResourceCheck(msg.resource, { ...common, ...(deps.lab ? { lab: deps.lab } : {}) });
  return runCheck(msg.check, { ...common, ...(deps.lab ? { lab: deps.lab } : {}) });
}

function targetOf(msg: StartRequest): string {
  if ('jwt' in msg) return msg.jwt.tokenUrl;
  if ('resource' in msg) return msg.resource.url;
  return msg.check.url;
}

/**
 * Runs a check for a session; `send` gets every event already redacted. Resolves when the check
 * has finished (or was refused); `signal` cancels the cases still running.
 */
export async function streamCheck(msg: StartRequest, checkId: string, deps: CheckDeps & { signal: AbortSignal; send(m: ServerMessage): void }): Promise<void> {
  const secrets = checkSecrets(msg);
  const send = (m: ServerMessage) => deps.send(cleanDeep(m, secrets));
  let started = false;
  const target = targetOf(msg);
  const run = runOfKind(msg, deps, {
    onStarted: (cases) => {
      started = true;
      send({ type: 'check.started', id: msg.id, checkId, target, cases });
    },
    onStep: (caseId, step) => send({ type: 'check.step', checkId, caseId, step }),
    onCase: (result) => send({ type: 'check.case', checkId, caseId: result.caseId, result }),
  });
  let report: CheckReport;
  try {
    report = await run;
  } catch (err) {
    // Every field is checked before the check is announced: a refusal is the request's answer.
    const refused = started ? null : invalid(msg.id, err);
    if (refused) return deps.send(refused);
    throw err;
  }
  if (!started) send({ type: 'check.started', id: msg.id, checkId, target, cases: [] });
  send({ type: 'check.finished', checkId, report });
}
