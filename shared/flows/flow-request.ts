// Token-flow requests (JWT exchange, RFC 7523, client credentials, refresh, discovery, API key,
// authorization code): their shapes and their validation at the WebSocket edge.
import { ProtocolError } from '../protocol.ts';

export type FlowKind = 'discovery';

export interface DiscoveryFlow {
  kind: 'discovery';
  issuer: string;
}

export type FlowRequest = DiscoveryFlow;

export function parseFlowRequest(v: unknown, id: string): FlowRequest {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProtocolError('bad_message', 'flow must be an object', id);
  const o = v as Record<string, unknown>;
  if (o.kind === 'discovery' && typeof o.issuer === 'string' && o.issuer.length <= 2048) return { kind: 'discovery', issuer: o.issuer };
  throw new ProtocolError('bad_message', `flow.kind "${String(o.kind).slice(0, 40)}" is not a known flow`, id);
}
