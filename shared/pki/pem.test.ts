import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readPem } from './pem.ts';

// Arbitrary bytes stand in for DER: readPem only decodes base64, what the bytes mean is read.ts's business.
const B64_A = 'MIIBAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9A';
const B64_B = 'AQIDBAUGBwg=';
const block = (label: string, body: string, eol = '\n'): string => `-----BEGIN ${label}-----${eol}${body.match(/.{1,64}/g)!.join(eol)}${eol}-----END ${label}-----${eol}`;

type Want = { blocks: { label: string; line: number; bytes?: number; headers?: Record<string, string> }[] } | { code: string; where: string; message?: RegExp; blocks?: number };

const cases: { name: string; input: string; want: Want }[] = [
  { name: 'one block, LF', input: block('CERTIFICATE', B64_A), want: { blocks: [{ label: 'CERTIFICATE', line: 1, bytes: 66 }] } },
  { name: 'CRLF line ends', input: block('CERTIFICATE', B64_A, '\r\n'), want: { blocks: [{ label: 'CERTIFICATE', line: 1, bytes: 66 }] } },
  { name: 'old Mac CR line ends', input: `intro\r${block('CERTIFICATE', B64_A, '\r')}`, want: { blocks: [{ label: 'CERTIFICATE', line: 2 }] } },
  {
    name: 'blank lines and indentation inside and around',
    input: `\n\n   -----BEGIN CERTIFICATE-----\n\n   ${B64_A.slice(0, 40)}\n\t${B64_A.slice(40)}  \n\n   -----END CERTIFICATE-----   \n\n`,
    want: { blocks: [{ label: 'CERTIFICATE', line: 3, bytes: 66 }] },
  },
  {
    name: 'text around and between blocks; line numbers of each block',
    input: `subject=CN=leaf\nissuer=CN=ca\n${block('CERTIFICATE', B64_A)}Bag Attributes\n    friendlyName: x\n\n${block('PRIVATE KEY', B64_B)}trailing words`,
    want: { blocks: [{ label: 'CERTIFICATE', line: 3 }, { label: 'PRIVATE KEY', line: 10, bytes: 8 }] },
  },
  { name: 'whole block on one line (newlines lost)', input: `-----BEGIN CERTIFICATE----- ${B64_A} -----END CERTIFICATE-----`, want: { blocks: [{ label: 'CERTIFICATE', line: 1, bytes: 66 }] } },
  { name: 'JSON escapes left in the text', input: `-----BEGIN CERTIFICATE-----\\r\\n${B64_A.slice(0, 64)}\\r\\n${B64_A.slice(64)}\\n-----END CERTIFICATE-----\\n`, want: { blocks: [{ label: 'CERTIFICATE', line: 1, bytes: 66 }] } },
  {
    name: 'RFC 1421 headers of a legacy encrypted key',
    input: `-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n${B64_B}\n-----END RSA PRIVATE KEY-----\n`,
    want: { blocks: [{ label: 'RSA PRIVATE KEY', line: 1, headers: { 'Proc-Type': '4,ENCRYPTED', 'DEK-Info': 'AES-128-CBC,00112233445566778899AABBCCDDEEFF' } }] },
  },
  {
    name: 'mismatched BEGIN/END names both lines',
    input: `-----BEGIN CERTIFICATE-----\n${B64_A}\n-----END PRIVATE KEY-----\n`,
    want: { code: 'pem_mismatched_markers', where: 'block 1 (line 1)', message: /BEGIN CERTIFICATE on line 1 ends with END PRIVATE KEY on line 3/ },
  },
  {
    name: 'BEGIN without END, later blocks still read',
    input: `-----BEGIN CERTIFICATE-----\n${B64_A}\n\n${block('CERTIFICATE', B64_B)}`,
    want: { code: 'pem_mismatched_markers', where: 'block 1 (line 1)', message: /no END line before the next BEGIN CERTIFICATE on line 4/, blocks: 1 },
  },
  { name: 'BEGIN without END at the end', input: `${block('CERTIFICATE', B64_B)}-----BEGIN CERTIFICATE-----\n${B64_A}\n`, want: { code: 'pem_mismatched_markers', where: 'block 2 (line 4)', message: /has no END line$/, blocks: 1 } },
  { name: 'END without BEGIN', input: `${B64_A}\n-----END CERTIFICATE-----\n`, want: { code: 'pem_mismatched_markers', where: 'line 2', message: /no BEGIN line/ } },
  { name: 'foreign character in the base64', input: `-----BEGIN CERTIFICATE-----\n${B64_A.slice(0, 20)}*${B64_A.slice(21)}\n-----END CERTIFICATE-----\n`, want: { code: 'pem_malformed', where: 'block 1 (line 1)', message: /"\*", which is not base64/ } },
  { name: 'base64 cut mid-quantum', input: `-----BEGIN CERTIFICATE-----\n${B64_A.slice(0, 21)}\n-----END CERTIFICATE-----\n`, want: { code: 'pem_malformed', where: 'block 1 (line 1)', message: /incomplete/ } },
  { name: 'empty block', input: '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n', want: { code: 'pem_malformed', where: 'block 1 (line 1)', message: /empty/ } },
];

for (const c of cases) {
  test(`readPem: ${c.name}`, () => {
    const { blocks, problems } = readPem(c.input);
    if ('code' in c.want) {
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.equal(problems[0]!.code, c.want.code);
      assert.equal(problems[0]!.where, c.want.where);
      if (c.want.message) assert.match(problems[0]!.message, c.want.message);
      assert.equal(blocks.length, c.want.blocks ?? 0);
      return;
    }
    assert.deepEqual(problems, []);
    assert.deepEqual(
      blocks.map((b) => ({ label: b.label, line: b.line })),
      c.want.blocks.map((b) => ({ label: b.label, line: b.line })),
    );
    c.want.blocks.forEach((w, i) => {
      if (w.bytes !== undefined) assert.equal(blocks[i]!.der.length, w.bytes);
      if (w.headers) assert.deepEqual(blocks[i]!.headers, w.headers);
      assert.equal(blocks[i]!.where, `block ${i + 1} (line ${w.line})`);
    });
  });
}

test('readPem: decoded bytes are exact, whatever the line ends', () => {
  const lf = readPem(block('CERTIFICATE', B64_A)).blocks[0]!.der;
  const crlf = readPem(block('CERTIFICATE', B64_A, '\r\n')).blocks[0]!.der;
  assert.deepEqual(crlf, lf);
  assert.equal(lf[0], 0x30);
  assert.equal(lf.at(-1), 0x40);
});
