// Token revocation (RFC 7009): the client revokes an access or refresh token, then — when
// asked — the flow proves it is gone: introspection must say inactive, the API must refuse it.
// A server answers 200 whether or not it knew the token (§2.2), so only the proof shows it worked.
import type { RevokeFlow } from '../../shared/flows/flow-request.ts';
import { FlowRun, type FlowRequestSpec } from './flow-steps.ts';
import type { Endpoint } from './discovery.ts';
import { authenticateClient, refuse } from './token-request.ts';
import { beginEndpointFlow, endpointKnowledge, introspectRequest } from './introspect.ts';
import { callApi } from './api-call.ts';
import type { SentJwtEvidence, TokenDetails } from '../../shared/protocol/index.ts';

export async function runRevoke(flow: RevokeFlow, run: FlowRun): Promise<string> {
  run.plan([
    ...(flow.issuer ? [['discovery', 'discovery', 'Discovery'] as const] : []),
    ['revoke', 'token', 'Revocation'],
    ...(flow.introspectAfter ? [['introspect', 'token', 'Introspection after revocation'] as const] : []),
    ...(flow.call ? [['call', 'call', 'API call with the revoked token'] as const] : []),
  ]);
  const needs: Endpoint[] = [...(flow.revocationUrl ? [] : ['revocation_endpoint' as const]), ...(flow.introspectAfter && !flow.introspectionUrl ? ['introspection_endpoint' as const] : [])];
  const { metadata, pool } = await beginEndpointFlow(run, flow, [['revocationUrl', flow.revocationUrl], ['introspectionUrl', flow.introspectionUrl], ['call.url', flow.call?.url]], needs);
  const url = flow.revocationUrl ?? metadata!.revocation_endpoint!;
  const server = endpointKnowledge(run, flow, url, metadata);
  const auth = flow.clientAuth;

  const step = run.start('revoke', 'token', 'Revocation', url);
  const form: [string, string][] = [['token', flow.token], ...(flow.tokenTypeHint ? [['token_type_hint', flow.tokenTypeHint] as [string, string]] : [])];
  const req: FlowRequestSpec = { method: 'POST', url: new URL(url), form };
  const shown: SentJwtEvidence = {};
  const clientAssertion = await authenticateClient(run, step, server, { auth, assertions: pool, req, form, shown, now: Date.now() });
  const call = await run.http(step, req);
  const { res } = call;
  const details: TokenDetails = Object.assign(call.details, shown);
  if (res.status === 404 || res.status === 405) {
    run.stop(step, 'endpoint_not_found', [`POST ${url} → HTTP ${res.status}`], { details, title: `Revocation: HTTP ${res.status}`, summary: `The revocation endpoint answered HTTP ${res.status}: check the URL (discovery's revocation_endpoint).` });
  }
  if (res.status < 200 || res.status >= 300) {
    refuse(run, step, server, res, details, {
      grant: 'revocation',
      title: 'Revocation',
      method: auth.method,
      ...(clientAssertion ? { clientAssertion } : {}),
    });
  }
  const proofs = [flow.introspectAfter && 'introspection', flow.call && 'the API'].filter(Boolean);
  step.finish('ok', {
    title: `Revocation: HTTP ${res.status}`,
    summary: `accepted${proofs.length ? '' : ' (RFC 7009: a server answers 200 for an unknown token too; introspect or call the API to prove it is gone)'}`,
    details,
  });

  if (flow.introspectAfter) {
    const introspectionUrl = flow.introspectionUrl ?? metadata!.introspection_endpoint!;
    await introspectRequest(run, endpointKnowledge(run, flow, introspectionUrl, metadata), {
      id: 'introspect', title: 'Introspection after revocation', token: flow.token, ...(flow.tokenTypeHint ? { hint: flow.tokenTypeHint } : {}), auth, pool, expectActive: false, revoked: true,
    });
  }
  if (flow.call) {
    const outcome = await callApi(run, 'call', 'API call with the revoked token', flow.call, { bearer: { token: flow.token } }, { final: false, expectRefusal: true });
    if (outcome.ok) return 'revoked, but the API still accepts the token';
  }
  return `${auth.method} accepted; token revoked${proofs.length ? ` and shown gone by ${proofs.join(' and ')}` : ''}`;
}
