// The API-key mode some partners offer instead of OAuth: every call carries an API key and a
// user name in headers (apiKey and username by default; names editable).
import type { ApiKeyFlow } from '../../shared/flows/flow-request.ts';
import { FlowRun } from './flow-steps.ts';
import { callApi } from './api-call.ts';

export const DEFAULT_HEADER_NAMES = { apiKey: 'apiKey', username: 'username' } as const;

export async function runApiKey(flow: ApiKeyFlow, run: FlowRun): Promise<string> {
  run.plan([['call', 'call', 'API call']]);
  const names = { ...DEFAULT_HEADER_NAMES, ...flow.headerNames };
  const clash = Object.keys(flow.headers ?? {}).filter((h) => [names.apiKey.toLowerCase(), names.username.toLowerCase(), 'authorization'].includes(h.toLowerCase()));
  await run.inputs({
    urls: [['url', flow.url]],
    ...(flow.tls ? { tls: flow.tls } : {}),
    problems: clash.map((h) => `headers.${h} would replace the ${h.toLowerCase() === 'authorization' ? 'Authorization' : 'API key or user name'} header; remove it`),
    summary: `headers ${names.apiKey} and ${names.username} · user ${flow.username}`,
    details: { headerNames: names, username: flow.username },
  });
  const call = { url: flow.url, ...(flow.method ? { method: flow.method } : {}), ...(flow.headers ? { headers: flow.headers } : {}), ...(flow.body !== undefined ? { body: flow.body } : {}) };
  const r = await callApi(run, 'call', 'API call', call, { apiKey: { headerName: names.apiKey, key: flow.apiKey, userHeaderName: names.username, username: flow.username } }, { final: true });
  return `API key accepted for ${flow.username} (HTTP ${r.status})`;
}
