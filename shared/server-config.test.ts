// The generator alone: what each snippet says, how values are escaped for Apache's ap_expr and
// nginx's strings and regexes, and which inputs are refused. Whether the servers accept the
// snippets and enforce them is server/probe/server-config.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apacheSnippet, nginxSnippet, serverConfigSnippets, APACHE_SAN_DNS_CHECKED, type ServerConfigInput } from './server-config.ts';

const BASE: ServerConfigInput = {
  caBundleFile: '/etc/ssl/partner-ca.pem',
  verifyDepth: 2,
  serverName: 'orders.example.com',
  certFile: '/etc/ssl/orders.pem',
  keyFile: '/etc/ssl/orders.key',
  port: 8443,
};

/** Directive lines of a snippet, comments and indentation dropped. */
function directives(snippet: string): string[] {
  return snippet.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

/** What nginx's config parser makes of a quoted string: "\\" → "\", "\"" → '"'. */
function nginxUnquote(quoted: string): string {
  return quoted.slice(1, -1).replace(/\\(["'\\])/g, '$1');
}

function nginxCnPattern(snippet: string): RegExp {
  const m = /if \(\$ssl_client_s_dn !~ ("(?:[^"\\]|\\.)*")\)/.exec(snippet);
  assert.ok(m, snippet);
  return new RegExp(nginxUnquote(m[1]!));
}

test('Apache: client verification, depth as given, CA file, StdEnvVars; no CRL or rule unless asked', () => {
  const lines = directives(apacheSnippet(BASE));
  assert.deepEqual(lines.slice(0, 2), ['<VirtualHost *:8443>', 'ServerName orders.example.com']);
  for (const want of ['SSLEngine on', 'SSLVerifyClient require', 'SSLVerifyDepth 2', 'SSLCACertificateFile "/etc/ssl/partner-ca.pem"', 'SSLCertificateFile "/etc/ssl/orders.pem"', 'SSLCertificateKeyFile "/etc/ssl/orders.key"', 'SSLOptions +StdEnvVars']) {
    assert.ok(lines.includes(want), want);
  }
  assert.equal(lines.at(-1), '</VirtualHost>');
  assert.ok(!lines.some((l) => /Revocation|Require|Location/.test(l)));
});

test('nginx: verify on, the CA file, and one less for ssl_verify_depth', () => {
  const lines = directives(nginxSnippet(BASE));
  for (const want of ['server {', 'listen 8443 ssl;', 'server_name orders.example.com;', 'ssl_verify_client on;', 'ssl_client_certificate "/etc/ssl/partner-ca.pem";', 'ssl_verify_depth 1;', 'ssl_certificate "/etc/ssl/orders.pem";', 'ssl_certificate_key "/etc/ssl/orders.key";']) {
    assert.ok(lines.includes(want), want);
  }
  assert.ok(!lines.some((l) => /ssl_crl|if \(/.test(l)));
  assert.match(nginxSnippet({ ...BASE, verifyDepth: 1 }), /^ {2}ssl_verify_depth 0;$/m);
  assert.match(nginxSnippet({ ...BASE, verifyDepth: 4 }), /^ {2}ssl_verify_depth 3;$/m);
});

test('every directive has a comment above it or is structural', () => {
  for (const snippet of [apacheSnippet({ ...BASE, crlFile: '/c.pem', rule: { cnEquals: 'x' } }), nginxSnippet({ ...BASE, crlFile: '/c.pem', rule: { cnEquals: 'x' } })]) {
    const lines = snippet.split('\n').map((l) => l.trim());
    for (const [i, line] of lines.entries()) {
      if (/^(SSLVerifyClient|SSLVerifyDepth|SSLCACertificateFile|SSLCARevocationFile|SSLOptions|Require|ssl_verify_client|ssl_verify_depth|ssl_client_certificate|ssl_crl|if )/.test(line)) {
        assert.ok(lines.slice(Math.max(0, i - 4), i).some((l) => l.startsWith('#')), `no comment before ${line}`);
      }
    }
  }
});

test('CRL: Apache checks the whole chain, nginx gets ssl_crl', () => {
  const input = { ...BASE, crlFile: '/etc/ssl/partner.crl.pem' };
  const apache = directives(apacheSnippet(input));
  assert.ok(apache.includes('SSLCARevocationFile "/etc/ssl/partner.crl.pem"'));
  assert.ok(apache.includes('SSLCARevocationCheck chain'));
  assert.ok(directives(nginxSnippet(input)).includes('ssl_crl "/etc/ssl/partner.crl.pem";'));
});

test('CN rule: Apache Require expr on SSL_CLIENT_S_DN_CN, nginx a 403 when the subject has another CN', () => {
  const input = { ...BASE, rule: { cnEquals: 'cxml-supplier.coupahost.com' } };
  const apache = apacheSnippet(input);
  assert.match(apache, /^ {2}<Location "\/">\n(?: {4}#.*\n)+ {4}Require expr %\{SSL_CLIENT_S_DN_CN\} == "cxml-supplier\.coupahost\.com"\n {2}<\/Location>$/m);
  const nginx = nginxSnippet(input);
  assert.match(nginx, /^ {4}return 403;$/m);
  const cn = nginxCnPattern(nginx);
  const table: [string, boolean][] = [
    ['CN=cxml-supplier.coupahost.com', true],
    ['O=Coupa,CN=cxml-supplier.coupahost.com', true],
    ['CN=cxml-supplier.coupahost.com,O=Coupa', true],
    ['CN=cxml-supplierXcoupahost.com', false], // the dots are literal
    ['CN=cxml-supplier.coupahost.com.evil', false],
    ['CN=evil,O=x\\,CN=cxml-supplier.coupahost.com', false], // an escaped comma is not a separator
    ['OU=CN=cxml-supplier.coupahost.com', false],
  ];
  for (const [dn, want] of table) assert.equal(cn.test(dn), want, dn);
});

test('CN with RFC 2253 specials, non-ASCII and ap_expr syntax is escaped for both servers', () => {
  const input = { ...BASE, rule: { cnEquals: 'Zoë, Ltd+1 %{HTTP_HOST} \\ <x>;' } };
  assert.match(apacheSnippet(input), /Require expr %\{SSL_CLIENT_S_DN_CN\} == "Zoë, Ltd\+1 \\%\{HTTP_HOST\} \\\\ <x>;"$/m);
  const cn = nginxCnPattern(nginxSnippet(input));
  // How OpenSSL prints it in $ssl_client_s_dn: specials backslashed, UTF-8 bytes as \XX.
  assert.ok(cn.test('O=Harness Tests,CN=Zo\\C3\\AB\\, Ltd\\+1 %{HTTP_HOST} \\\\ \\<x\\>\\;'));
  assert.ok(!cn.test('CN=Zoë, Ltd+1 %{HTTP_HOST} \\ <x>;'));
  // A leading "#" or space and a trailing space are escaped too.
  assert.ok(nginxCnPattern(nginxSnippet({ ...BASE, rule: { cnEquals: '#1' } })).test('CN=\\#1'));
});

test('SAN rule: Apache compares the first DNS names; nginx says it cannot, in the snippet and the notes', () => {
  const both = serverConfigSnippets({ ...BASE, rule: { cnEquals: 'a', sanDnsEquals: 'Partner.Example.com' } });
  const require = directives(both.apache).find((l) => l.startsWith('Require expr'))!;
  assert.equal(require.match(/SSL_CLIENT_SAN_DNS_\d+\} == "partner\.example\.com"/g)?.length, APACHE_SAN_DNS_CHECKED);
  assert.match(require, /^Require expr %\{SSL_CLIENT_S_DN_CN\} == "a" && \(%\{SSL_CLIENT_SAN_DNS_0\} == .* \|\| %\{SSL_CLIENT_SAN_DNS_4\} == "partner\.example\.com"\)$/);
  assert.match(both.nginx, /# NOT ENFORCED here: subjectAltName DNS name partner\.example\.com/);
  assert.equal(both.notes.length, 1);
  assert.match(both.notes[0]!, /nginx has no variable/);
  assert.deepEqual(serverConfigSnippets(BASE).notes, []);
  const sanOnly = directives(apacheSnippet({ ...BASE, rule: { sanDnsEquals: 'p.example' } })).find((l) => l.startsWith('Require'))!;
  assert.match(sanOnly, /^Require expr %\{SSL_CLIENT_SAN_DNS_0\} == "p\.example" \|\| /);
});

test('listen address: IPv4 as is, IPv6 in brackets', () => {
  assert.match(apacheSnippet({ ...BASE, listenAddress: '127.0.0.1' }), /^<VirtualHost 127\.0\.0\.1:8443>$/m);
  assert.match(nginxSnippet({ ...BASE, listenAddress: '127.0.0.1' }), /^ {2}listen 127\.0\.0\.1:8443 ssl;$/m);
  assert.match(apacheSnippet({ ...BASE, listenAddress: '::1' }), /^<VirtualHost \[::1\]:8443>$/m);
  assert.match(nginxSnippet({ ...BASE, listenAddress: '[2001:db8::1]' }), /^ {2}listen \[2001:db8::1\]:8443 ssl;$/m);
});

test('paths with spaces and backslashes are quoted; nginx doubles backslashes', () => {
  const input = { ...BASE, caBundleFile: 'C:\\certs\\partner ca.pem' };
  assert.ok(directives(apacheSnippet(input)).includes('SSLCACertificateFile "C:\\certs\\partner ca.pem"'));
  const line = directives(nginxSnippet(input)).find((l) => l.startsWith('ssl_client_certificate'))!;
  assert.equal(nginxUnquote(line.slice('ssl_client_certificate '.length, -1)), 'C:\\certs\\partner ca.pem');
});

const refused: { name: string; input: () => unknown; want: RegExp }[] = [
  { name: 'quote in the CN', input: () => ({ ...BASE, rule: { cnEquals: 'a" || true || "' } }), want: /^rule\.cnEquals must not contain a double quote$/ },
  { name: 'newline in the CN', input: () => ({ ...BASE, rule: { cnEquals: 'a\nRequire all granted' } }), want: /^rule\.cnEquals must not contain a line break/ },
  { name: 'tab in the CN', input: () => ({ ...BASE, rule: { cnEquals: 'a\tb' } }), want: /^rule\.cnEquals must not contain a line break or other control character$/ },
  { name: 'empty CN', input: () => ({ ...BASE, rule: { cnEquals: '' } }), want: /^rule\.cnEquals must be a non-empty string$/ },
  { name: 'CN longer than 64', input: () => ({ ...BASE, rule: { cnEquals: 'x'.repeat(65) } }), want: /^rule\.cnEquals must be at most 64 characters/ },
  { name: 'CN with a leading space', input: () => ({ ...BASE, rule: { cnEquals: ' a' } }), want: /^rule\.cnEquals must not start or end with a space$/ },
  { name: 'CN not a string', input: () => ({ ...BASE, rule: { cnEquals: 7 } }), want: /^rule\.cnEquals must be a non-empty string$/ },
  { name: 'SAN not a DNS name', input: () => ({ ...BASE, rule: { sanDnsEquals: 'a b.example' } }), want: /^rule\.sanDnsEquals must be a DNS name/ },
  { name: 'SAN with a quote', input: () => ({ ...BASE, rule: { sanDnsEquals: 'a".example' } }), want: /^rule\.sanDnsEquals must not contain a double quote$/ },
  { name: 'rule not an object', input: () => ({ ...BASE, rule: 'cn=x' }), want: /^rule must be an object$/ },
  { name: 'newline in the CA file', input: () => ({ ...BASE, caBundleFile: '/a.pem\nSSLVerifyClient none' }), want: /^caBundleFile must not contain a line break/ },
  { name: 'quote in the CRL file', input: () => ({ ...BASE, crlFile: '/a".pem' }), want: /^crlFile must not contain a double quote$/ },
  { name: '$ in the certificate file (nginx variable)', input: () => ({ ...BASE, certFile: '/etc/$host.pem' }), want: /^certFile must not contain "\$"/ },
  { name: '$ in the key file', input: () => ({ ...BASE, keyFile: '/etc/$x.key' }), want: /^keyFile must not contain "\$"/ },
  { name: 'empty key file', input: () => ({ ...BASE, keyFile: '' }), want: /^keyFile must be a non-empty string$/ },
  { name: 'server name with a space', input: () => ({ ...BASE, serverName: 'a b' }), want: /^serverName must be a DNS name or an IPv4 address$/ },
  { name: 'server name with a newline', input: () => ({ ...BASE, serverName: 'a\n' }), want: /^serverName must not contain a line break/ },
  { name: 'port 0', input: () => ({ ...BASE, port: 0 }), want: /^port must be an integer from 1 to 65535$/ },
  { name: 'port 65536', input: () => ({ ...BASE, port: 65536 }), want: /^port must be an integer from 1 to 65535$/ },
  { name: 'port as a string', input: () => ({ ...BASE, port: '443' }), want: /^port must be an integer/ },
  { name: 'depth 0', input: () => ({ ...BASE, verifyDepth: 0 }), want: /^verifyDepth must be an integer from 1 to 32$/ },
  { name: 'depth 1.5', input: () => ({ ...BASE, verifyDepth: 1.5 }), want: /^verifyDepth must be an integer from 1 to 32$/ },
  { name: 'depth NaN', input: () => ({ ...BASE, verifyDepth: Number.NaN }), want: /^verifyDepth must be an integer/ },
  { name: 'listen address a host name', input: () => ({ ...BASE, listenAddress: 'localhost' }), want: /^listenAddress must be an IPv4 or IPv6 address$/ },
  { name: 'not an object', input: () => null, want: /^server config input must be an object$/ },
];

for (const c of refused) {
  test(`refused: ${c.name}`, () => {
    for (const generate of [apacheSnippet, nginxSnippet, serverConfigSnippets]) {
      assert.throws(() => generate(c.input() as ServerConfigInput), (err: unknown) => err instanceof TypeError && c.want.test(err.message));
    }
  });
}
