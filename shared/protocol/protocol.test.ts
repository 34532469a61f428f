import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseClientMessage, ProtocolError, FIELD_LIMITS } from './index.ts';

const cases: { name: string; frame: string; want: object | { code: string; message?: RegExp } }[] = [
  { name: 'ping', frame: '{"type":"ping","id":"1"}', want: { type: 'ping', id: '1' } },
  { name: 'probe with defaults', frame: '{"type":"probe.start","id":"a","probe":{"url":"https://x/"}}', want: { type: 'probe.start', id: 'a', probe: { url: 'https://x/' } } },
  { name: 'extra fields ignored', frame: '{"type":"ping","id":"1","extra":true}', want: { type: 'ping', id: '1' } },
  { name: 'probe with everything', frame: JSON.stringify({ type: 'probe.start', id: 'b', probe: { url: 'https://x/', method: 'POST', headers: { 'Content-Type': 'text/xml' }, body: '<cXML/>', client: { certificatePem: 'C', privateKeyPem: 'K' }, caPem: 'CA', verifyServer: false, trustLab: false } }),
    want: { type: 'probe.start', id: 'b', probe: { url: 'https://x/', method: 'POST', headers: { 'Content-Type': 'text/xml' }, body: '<cXML/>', client: { certificatePem: 'C', privateKeyPem: 'K' }, caPem: 'CA', verifyServer: false, trustLab: false } } },
  { name: 'bad JSON', frame: '{', want: { code: 'bad_json' } },
  { name: 'null', frame: 'null', want: { code: 'bad_message' } },
  { name: 'string', frame: '"ping"', want: { code: 'bad_message' } },
  { name: 'id too long', frame: JSON.stringify({ type: 'ping', id: 'x'.repeat(FIELD_LIMITS.id + 1) }), want: { code: 'bad_message', message: /"id"/ } },
  { name: 'numeric id', frame: '{"type":"ping","id":5}', want: { code: 'bad_message' } },
  { name: 'unknown type', frame: '{"type":"nope","id":"1"}', want: { code: 'unknown_type', message: /nope/ } },
  { name: 'bad method', frame: '{"type":"probe.start","id":"1","probe":{"url":"https://x/","method":"TRACE"}}', want: { code: 'bad_message', message: /probe\.method/ } },
  { name: 'url not a string', frame: '{"type":"probe.start","id":"1","probe":{"url":5}}', want: { code: 'bad_message', message: /probe\.url must be a string/ } },
  { name: 'url too long', frame: JSON.stringify({ type: 'probe.start', id: '1', probe: { url: 'h'.repeat(FIELD_LIMITS.url + 1) } }), want: { code: 'bad_message', message: /longer than/ } },
  { name: 'header value not a string', frame: '{"type":"probe.start","id":"1","probe":{"url":"https://x/","headers":{"a":1}}}', want: { code: 'bad_message', message: /probe\.headers\.a/ } },
  { name: 'header name with space', frame: '{"type":"probe.start","id":"1","probe":{"url":"https://x/","headers":{"a b":"1"}}}', want: { code: 'bad_message', message: /not a valid header name/ } },
  { name: 'client without key', frame: '{"type":"probe.start","id":"1","probe":{"url":"https://x/","client":{"certificatePem":"C"}}}', want: { code: 'bad_message', message: /privateKeyPem/ } },
  { name: 'secretNames', frame: '{"type":"probe.start","id":"1","probe":{"url":"https://x/","secretNames":["X-Partner-Key","pin"]}}', want: { type: 'probe.start', id: '1', probe: { url: 'https://x/', secretNames: ['X-Partner-Key', 'pin'] } } },
  { name: 'secretNames not an array', frame: '{"type":"probe.start","id":"1","probe":{"url":"https://x/","secretNames":"pin"}}', want: { code: 'bad_message', message: /probe\.secretNames must be an array/ } },
  { name: 'secretNames too many', frame: JSON.stringify({ type: 'probe.start', id: '1', probe: { url: 'https://x/', secretNames: Array.from({ length: FIELD_LIMITS.secretNames + 1 }, (_, i) => `n${i}`) } }), want: { code: 'bad_message', message: /more than 32 names/ } },
  { name: 'secretNames name too long', frame: JSON.stringify({ type: 'probe.start', id: '1', probe: { url: 'https://x/', secretNames: ['n'.repeat(FIELD_LIMITS.secretName + 1)] } }), want: { code: 'bad_message', message: /secretNames\[0\] must be a name of 1 to 64/ } },
  { name: 'secretNames empty name', frame: '{"type":"probe.start","id":"1","probe":{"url":"https://x/","secretNames":[""]}}', want: { code: 'bad_message', message: /secretNames\[0\]/ } },
  { name: 'secretNames not a token', frame: '{"type":"probe.start","id":"1","probe":{"url":"https://x/","secretNames":["ok","a b"]}}', want: { code: 'bad_message', message: /secretNames\[1\] "a b" is not a valid name/ } },
  { name: 'flow secretNames', frame: '{"type":"flow.start","id":"1","flow":{"kind":"discovery","issuer":"https://as/","secretNames":["pin"]}}', want: { type: 'flow.start', id: '1', flow: { kind: 'discovery', issuer: 'https://as/', secretNames: ['pin'] } } },
  { name: 'flow secretNames not a token', frame: '{"type":"flow.start","id":"1","flow":{"kind":"discovery","issuer":"https://as/","secretNames":[7]}}', want: { code: 'bad_message', message: /flow\.secretNames\[0\]/ } },
  { name: 'lab.sign without profile', frame: '{"type":"lab.sign","id":"1","csrPem":"CSR"}', want: { type: 'lab.sign', id: '1', csrPem: 'CSR' } },
  { name: 'lab.sign with a profile', frame: '{"type":"lab.sign","id":"1","csrPem":"CSR","profile":"intermediate-no-chain"}', want: { type: 'lab.sign', id: '1', csrPem: 'CSR', profile: 'intermediate-no-chain' } },
  { name: 'lab.sign with an unknown profile', frame: '{"type":"lab.sign","id":"1","csrPem":"CSR","profile":"root-ca"}', want: { code: 'bad_message', message: /profile must be one of client, intermediate, intermediate-no-chain, expired, regional, revoked/ } },
  { name: 'lab.sign with a profile not a string', frame: '{"type":"lab.sign","id":"1","csrPem":"CSR","profile":["expired"]}', want: { code: 'bad_message', message: /profile must be one of/ } },
  { name: 'verifyServer as string', frame: '{"type":"probe.start","id":"1","probe":{"url":"https://x/","verifyServer":"no"}}', want: { code: 'bad_message', message: /true or false/ } },
];

for (const c of cases) {
  test(`parseClientMessage: ${c.name}`, () => {
    if ('code' in c.want) {
      const want = c.want as { code: string; message?: RegExp };
      assert.throws(() => parseClientMessage(c.frame), (err: unknown) => {
        assert.ok(err instanceof ProtocolError);
        assert.equal(err.code, want.code);
        if (want.message) assert.match(err.message, want.message);
        return true;
      });
    } else {
      assert.deepEqual(JSON.parse(JSON.stringify(parseClientMessage(c.frame))), c.want);
    }
  });
}

test('an error keeps the request id when it could be read, so the client can match it', () => {
  try {
    parseClientMessage('{"type":"probe.start","id":"req-7","probe":{}}');
    assert.fail('should throw');
  } catch (err) {
    assert.equal((err as ProtocolError).id, 'req-7');
  }
});

// One set of rules: a header a probe may not send, a flow may not send either, refused in the same words.
const BAD_HEADERS: [name: string, headers: string][] = [
  ['a name with a space', '{"a b":"1"}'],
  ['a prototype key', '{"__proto__":"1"}'],
  ['a value over two lines', '{"x":"a\\nb"}'],
  ['a value not a string', '{"x":5}'],
  ['a value too long', JSON.stringify({ x: 'v'.repeat(FIELD_LIMITS.headerValue + 1) })],
  ['not an object', '["x"]'],
];
for (const [name, headers] of BAD_HEADERS) {
  test(`headers: ${name} is refused alike by probe.start and flow.start`, () => {
    const refusal = (frame: string, prefix: string) => {
      try {
        parseClientMessage(frame);
      } catch (err) {
        assert.ok(err instanceof ProtocolError);
        assert.equal(err.code, 'bad_message');
        assert.ok(err.message.startsWith(prefix), err.message);
        return err.message.slice(prefix.length);
      }
      return assert.fail(`${prefix} accepted`);
    };
    const probe = refusal(`{"type":"probe.start","id":"1","probe":{"url":"https://x/","headers":${headers}}}`, 'probe.headers');
    const flow = refusal(`{"type":"flow.start","id":"1","flow":{"kind":"api-key","url":"https://x/","apiKey":"k","username":"u","headers":${headers}}}`, 'flow.headers');
    assert.equal(probe, flow);
  });
}
