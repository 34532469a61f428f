// Runs a token flow as a stream of steps, like the probe. Each kind of flow lives in its own
// file in this folder; this one only dispatches, and turns an early stop or a cancel into the
// verdict.
import type { FlowRequest } from '../../shared/flows/flow-request.ts';
import { secretValues } from '../../shared/redact.ts';
import { CancelledError } from '../net/dial.ts';
import type { FlowContext, FlowResult } from './context.ts';
import { FlowRun, FlowStopped } from './flow-steps.ts';
import { runDiscovery } from './discovery.ts';
import { runJwtExchange } from './jwt-exchange.ts';
import { runJwtBearer } from './jwt-bearer.ts';
import { runClientCredentials } from './client-credentials.ts';
import { runRefreshToken } from './refresh-token.ts';
import { runAuthorizationCode } from './authorization-code.ts';
import { runApiKey } from './api-key.ts';
import { runIntrospect } from './introspect.ts';
import { runRevoke } from './revoke.ts';

export { flowTarget } from '../../shared/flows/flow-request.ts';
export type { FlowContext, FlowResult } from './context.ts';

/** Secret values the flow request carries, scrubbed from all of its events once passed through secretValues (which adds their encodings). */
export function flowSecrets(flow: FlowRequest): string[] {
  const extra: (string | undefined)[] = [];
  const headers: Record<string, string> = {};
  let body: string | undefined;
  const privateKeyPems: string[] = [];
  const urls: string[] = [];
  const basic: { user: string; password: string }[] = [];
  if ('tls' in flow && flow.tls?.client) privateKeyPems.push(flow.tls.client.privateKeyPem);
  if ('clientAuth' in flow && flow.clientAuth) {
    const a = flow.clientAuth;
    if (a.method === 'client_secret_basic' || a.method === 'client_secret_post' || a.method === 'client_secret_jwt') extra.push(a.clientSecret);
    if (a.method === 'client_secret_basic') basic.push({ user: a.clientId, password: a.clientSecret });
    if (a.method === 'private_key_jwt') extra.push(...a.clientAssertions);
  }
  if ('call' in flow && flow.call) {
    Object.assign(headers, flow.call.headers);
    body = flow.call.body;
    urls.push(flow.call.url);
  }
  switch (flow.kind) {
    case 'jwt-exchange':
      extra.push(flow.clientSecret, flow.jwt);
      break;
    case 'jwt-bearer':
      extra.push(flow.assertion);
      break;
    case 'refresh-token':
      if (flow.refreshToken) extra.push(flow.refreshToken);
      break;
    case 'introspect':
    case 'revoke':
      extra.push(flow.token);
      break;
    case 'api-key':
      extra.push(flow.apiKey);
      Object.assign(headers, flow.headers);
      urls.push(flow.url);
      body = flow.body;
      break;
    default:
      break;
  }
  if ('tokenUrl' in flow && flow.tokenUrl) urls.push(flow.tokenUrl);
  const names = flow.secretNames ?? [];
  // Query secrets of each URL (a token in a call URL); body and headers under their names.
  // Raw values only: the caller (session, CLI) passes them through secretValues, which adds the encodings.
  const fromUrls = urls.flatMap((url) => secretValues({ url, names, encodings: false }));
  return [...new Set([...fromUrls, ...secretValues({ headers, ...(body !== undefined ? { body } : {}), privateKeyPems, names, basic, encodings: false, extra: extra.filter((v): v is string => typeof v === 'string') })])];
}

export async function runFlow(flow: FlowRequest, ctx: FlowContext): Promise<FlowResult> {
  const run = new FlowRun(ctx);
  run.secretNames = flow.secretNames ?? [];
  try {
    const summary = await dispatch(flow, run);
    return run.verdict('pass', summary);
  } catch (err) {
    if (err instanceof FlowStopped) return run.verdict('fail', err.message, err.code);
    if (err instanceof CancelledError || ctx.signal?.aborted) return run.cancelled();
    throw err;
  }
}

function dispatch(flow: FlowRequest, run: FlowRun): Promise<string> {
  switch (flow.kind) {
    case 'discovery':
      return runDiscovery(flow, run);
    case 'jwt-exchange':
      return runJwtExchange(flow, run);
    case 'jwt-bearer':
      return runJwtBearer(flow, run);
    case 'client-credentials':
      return runClientCredentials(flow, run);
    case 'refresh-token':
      return runRefreshToken(flow, run);
    case 'authorization-code':
      return runAuthorizationCode(flow, run);
    case 'api-key':
      return runApiKey(flow, run);
    case 'introspect':
      return runIntrospect(flow, run);
    case 'revoke':
      return runRevoke(flow, run);
  }
}
