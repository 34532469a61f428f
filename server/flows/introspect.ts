// Token introspection (RFC 7662): the client, authenticated as it is registered, asks the
// authorization server whether a token is active; the answer's claims are shown. The revoke
// flow reuses the request to prove a revoked token is gone.
import type { ClientAuth, IntrospectFlow, RevokeFlow, TokenTypeHint } from '../../shared/flows/flow-request.ts';
import { FlowRun } from './flow-steps.ts';
import { discover, type Endpoint, type ServerMetadata } from './discovery.ts';
import { assertionPool, clientAssertionInputs, clientAuthProblems, labClient } from './server-ref.ts';
import { authenticateClient, refuse, type AssertionPool, type ServerKnowledge } from './token-request.ts';
import type { FlowRequestSpec } from './flow-steps.ts';
import type { SentJwtEvidence, TokenDetails } from '../../shared/protocol/index.ts';

/** The introspection answer as the flow reads it. */
interface IntrospectionAnswer {
  active: boolean;
  claims: Record<string, unknown>;
}

/** The inputs step and discovery of introspect and revoke; returns the metadata (null without an issuer). */
export async function beginEndpointFlow(run: FlowRun, flow: IntrospectFlow | RevokeFlow, urls: [string, string | undefined][], needs: Endpoint[]): Promise<{ metadata: ServerMetadata | null; pool: AssertionPool | undefined }> {
  const auth = flow.clientAuth;
  await run.inputs({
    urls: [['issuer', flow.issuer], ['tokenUrl', flow.tokenUrl], ...urls],
    ...(flow.tls ? { tls: flow.tls } : {}),
    jwts: clientAssertionInputs(auth),
    problems: clientAuthProblems(auth, flow.tls),
    summary: `client ${auth.clientId} · ${auth.method}`,
    details: { clientId: auth.clientId, authMethod: auth.method, tokenTypeHint: flow.tokenTypeHint ?? null },
  });
  // The token is secret whatever its name in the form (`token`).
  run.secret(flow.token);
  const metadata = flow.issuer ? await discover(run, flow.issuer, needs) : null;
  return { metadata, pool: assertionPool(auth) };
}

/** What the harness knows about the server, with `endpoint` in the place of the token endpoint. */
export function endpointKnowledge(run: FlowRun, flow: IntrospectFlow | RevokeFlow, endpoint: string, metadata: ServerMetadata | null): ServerKnowledge {
  const lab = labClient(run, endpoint, flow.clientAuth.clientId);
  const issuer = flow.issuer ?? metadata?.issuer;
  const registeredJwks = flow.registeredJwks ?? lab?.jwks;
  const tokenUrl = flow.tokenUrl ?? metadata?.token_endpoint;
  return {
    tokenUrl: endpoint,
    metadata: { ...(metadata ?? { issuer: issuer ?? '' }), ...(tokenUrl ? { token_endpoint: tokenUrl } : {}) },
    ...(issuer ? { issuer } : {}),
    ...(registeredJwks ? { registeredJwks } : {}),
    ...(lab ? { registeredMethod: lab.method } : {}),
  };
}

function describeAnswer(a: IntrospectionAnswer): string {
  if (!a.active) return 'not active';
  const c = a.claims;
  const parts = ['active'];
  for (const k of ['token_type', 'client_id', 'sub', 'scope'] as const) if (typeof c[k] === 'string' && c[k]) parts.push(`${k} ${String(c[k])}`);
  if (typeof c.exp === 'number') parts.push(`expires in ${Math.round(c.exp - Date.now() / 1000)} s`);
  return parts.join(' · ');
}

/**
 * One introspection request as step `id`. Stops the flow on a refusal, an answer that is not
 * RFC 7662 JSON, or an `active` other than `expectActive`.
 */
export async function introspectRequest(
  run: FlowRun,
  server: ServerKnowledge,
  o: { id: string; title: string; token: string; hint?: TokenTypeHint; auth: ClientAuth; pool: AssertionPool | undefined; expectActive: boolean; revoked?: boolean },
): Promise<IntrospectionAnswer> {
  const step = run.start(o.id, 'token', o.title, server.tokenUrl);
  const form: [string, string][] = [['token', o.token], ...(o.hint ? [['token_type_hint', o.hint] as [string, string]] : [])];
  const req: FlowRequestSpec = { method: 'POST', url: new URL(server.tokenUrl), form, headers: { accept: 'application/json' } };
  const shown: SentJwtEvidence = {};
  const clientAssertion = await authenticateClient(run, step, server, { auth: o.auth, assertions: o.pool, req, form, shown, now: Date.now() });
  const call = await run.http(step, req);
  const { res, json } = call;
  const details: TokenDetails = Object.assign(call.details, shown);
  const title = `${o.title}: HTTP ${res.status}`;
  if (res.status === 404 || res.status === 405) {
    run.stop(step, 'endpoint_not_found', [`POST ${server.tokenUrl} → HTTP ${res.status}`], { details, title: `${o.title}: HTTP ${res.status}`, summary: `The introspection endpoint answered HTTP ${res.status}: check the URL (discovery's introspection_endpoint).` });
  }
  if (res.status < 200 || res.status >= 300) {
    refuse(run, step, server, res, details, {
      grant: 'introspection',
      title: o.title,
      method: o.auth.method,
      ...(clientAssertion ? { clientAssertion } : {}),
    });
  }
  const o2 = json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : null;
  if (!o2 || typeof o2.active !== 'boolean') {
    run.stop(step, 'introspection_response_invalid', [`HTTP ${res.status}`, o2 ? '"active" is missing or not true/false' : 'the body is not a JSON object'], { details, title });
  }
  const answer: IntrospectionAnswer = { active: o2.active as boolean, claims: o2 };
  details.answer = o2;
  const summary = describeAnswer(answer);
  if (answer.active !== o.expectActive) {
    if (answer.active) run.stop(step, 'token_still_active', [`introspection says active${o.revoked ? ' after the revocation request was accepted' : ''}`, summary], { details, title });
    run.stop(step, 'token_inactive', ['introspection says active: false (RFC 7662 gives no reason: expired, revoked, never issued here, or issued to another client)'], { details, title });
  }
  step.finish('ok', { title, summary: o.revoked ? `${summary}: the revoked token is gone` : summary, details });
  return answer;
}

export async function runIntrospect(flow: IntrospectFlow, run: FlowRun): Promise<string> {
  run.plan([...(flow.issuer ? [['discovery', 'discovery', 'Discovery'] as const] : []), ['introspect', 'token', 'Introspection']]);
  const { metadata, pool } = await beginEndpointFlow(run, flow, [['introspectionUrl', flow.introspectionUrl]], flow.introspectionUrl ? [] : ['introspection_endpoint']);
  const url = flow.introspectionUrl ?? metadata!.introspection_endpoint!;
  const server = endpointKnowledge(run, flow, url, metadata);
  const expectActive = flow.expectActive ?? true;
  const answer = await introspectRequest(run, server, { id: 'introspect', title: 'Introspection', token: flow.token, ...(flow.tokenTypeHint ? { hint: flow.tokenTypeHint } : {}), auth: flow.clientAuth, pool, expectActive });
  return `${flow.clientAuth.method} accepted; the token is ${answer.active ? 'active' : 'not active'}${answer.active === expectActive ? ', as expected' : ''}`;
}
