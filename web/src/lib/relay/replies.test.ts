// Which reply answers which request: RelayConnection.request() resolves only with these and
// turns anything else into a RelayError, so a caller never meets a reply it did not ask for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerMessage } from '../../../../shared/protocol/index.ts';
import { isReplyTo, type RequestType } from './replies.ts';

const reply = (type: string) => ({ type, id: 'b1' }) as unknown as ServerMessage;

const cases: Array<{ request: RequestType; reply: string; want: boolean }> = [
  { request: 'lab.sign', reply: 'lab.signed', want: true },
  { request: 'lab.register', reply: 'lab.registered', want: true },
  { request: 'jwks.fetch', reply: 'jwks.fetched', want: true },
  { request: 'flow.reveal', reply: 'flow.token', want: true },
  { request: 'inbound.start', reply: 'inbound.started', want: true },
  { request: 'inbound.stop', reply: 'inbound.stopped', want: true },
  { request: 'check.kit', reply: 'check.kit.ready', want: true },
  { request: 'check.start', reply: 'check.started', want: true },
  { request: 'probe.start', reply: 'run.started', want: true },
  { request: 'flow.start', reply: 'run.started', want: true },
  { request: 'ping', reply: 'pong', want: true },
  // Another request's reply, and an error, are never a request's answer.
  { request: 'lab.register', reply: 'lab.signed', want: false },
  { request: 'flow.reveal', reply: 'run.started', want: false },
  { request: 'check.start', reply: 'check.finished', want: false },
  { request: 'ping', reply: 'error', want: false },
];

for (const c of cases) {
  test(`${c.request} ${c.want ? 'is' : 'is not'} answered by ${c.reply}`, () => {
    assert.equal(isReplyTo(c.request, reply(c.reply)), c.want);
  });
}
