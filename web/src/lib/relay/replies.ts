// Which reply answers which request: the relay answers each request with one of these (matched
// by id) or with an `error`. `RelayConnection.request()` returns the reply typed from this map
// and refuses any other, so no caller checks `reply.type` itself.
import type { ClientMessage, ServerMessage } from '../../../../shared/protocol/index.ts';

export const REPLIES = {
  'probe.start': ['run.started'],
  'flow.start': ['run.started'],
  'check.start': ['check.started'],
  'inbound.start': ['inbound.started'],
  'inbound.stop': ['inbound.stopped'],
  'flow.reveal': ['flow.token'],
  'lab.sign': ['lab.signed'],
  'lab.register': ['lab.registered'],
  'jwks.fetch': ['jwks.fetched'],
  'check.kit': ['check.kit.ready'],
  ping: ['pong'],
} as const satisfies Partial<Record<ClientMessage['type'], readonly ServerMessage['type'][]>>;

/** A request the relay answers (run.cancel and run.settle are answered by run events instead). */
export type RequestType = keyof typeof REPLIES;
export type RelayRequest<T extends RequestType = RequestType> = Extract<ClientMessage, { type: T }>;
export type ReplyTo<T extends RequestType> = Extract<ServerMessage, { type: (typeof REPLIES)[T][number] }>;

/** Whether `reply` is one `request` expects (an `error` never is). */
export function isReplyTo<T extends RequestType>(request: T, reply: ServerMessage): reply is ReplyTo<T> {
  return (REPLIES[request] as readonly string[]).includes(reply.type);
}
