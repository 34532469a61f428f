// Token-flow requests: their shapes and validation live with the protocol
// (shared/protocol/flows.ts, parse.ts); this module keeps the import path flows use and says
// which URL a run is aimed at. See docs/protocol.md.
import type { FlowRequest } from '../protocol/flows.ts';

export * from '../protocol/flows.ts';
export { FLOW_LIMITS } from '../protocol/limits.ts';
export { parseFlowRequest, parseLabRegistration } from '../protocol/parse.ts';

/** The URL a run is aimed at, for `run.started.target`. */
export function flowTarget(flow: FlowRequest): string {
  switch (flow.kind) {
    case 'discovery':
      return flow.issuer;
    case 'api-key':
      return flow.url;
    case 'introspect':
      return flow.introspectionUrl ?? flow.issuer ?? '';
    case 'revoke':
      return flow.revocationUrl ?? flow.issuer ?? '';
    case 'authorization-code':
      return flow.issuer ?? flow.authorizationUrl ?? flow.tokenUrl ?? '';
    default:
      return flow.tokenUrl ?? flow.issuer ?? '';
  }
}

