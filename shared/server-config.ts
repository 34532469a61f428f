// Server configuration a partner pastes to require client certificates: an Apache httpd 2.4
// <VirtualHost> and an nginx server block that enforce the same policy — trusted CAs, chain
// depth, revocation and an access rule on the certificate's name. Each directive carries a
// comment saying what it does, so the snippet explains itself in the partner's config.
// Both are checked against the real servers in server/probe/server-config.test.ts.

export interface ServerConfigInput {
  /** PEM file of the CAs that issue client certificates (roots, and intermediates if clients omit them). */
  caBundleFile: string;
  /**
   * How many CA certificates may stand above the client certificate, the root included:
   * 1 = issued directly by a trusted root, 2 = one intermediate, and so on. This is Apache's
   * SSLVerifyDepth; nginx counts intermediates only, so it gets one less.
   */
  verifyDepth: number;
  /** PEM file with a CRL for every CA in the client chains; enables revocation checking. */
  crlFile?: string;
  /** Which verified clients are let in; both must hold when both are given. */
  rule?: { cnEquals?: string; sanDnsEquals?: string };
  serverName: string;
  certFile: string;
  keyFile: string;
  port: number;
  /** IP address to listen on; default all addresses. */
  listenAddress?: string;
}

export interface ServerConfigSnippets {
  apache: string;
  nginx: string;
  /** What one of the servers cannot enforce, in plain words; empty when both enforce everything. */
  notes: string[];
}

/** mod_ssl exposes the DNS names of the subjectAltName one by one; this many are compared. */
export const APACHE_SAN_DNS_CHECKED = 5;
const MAX_VERIFY_DEPTH = 32;
/** X.520 upper bound for commonName. */
const MAX_CN_LENGTH = 64;

const NGINX_SAN_NOTE = 'nginx has no variable for the client certificate\'s subjectAltName, so the nginx snippet cannot check rule.sanDnsEquals; check it in the application (the certificate is in $ssl_client_escaped_cert) or use rule.cnEquals.';

// ---- validation: caller mistakes are TypeErrors naming the option -----------------------

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function checkText(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
  if (CONTROL.test(value)) throw new TypeError(`${name} must not contain a line break or other control character`);
  if (value.includes('"')) throw new TypeError(`${name} must not contain a double quote`);
  return value;
}

function checkPath(name: string, value: unknown, opts: { variablesExpanded?: boolean } = {}): string {
  const path = checkText(name, value);
  // nginx expands $name in ssl_certificate and ssl_certificate_key and has no escape for "$".
  if (opts.variablesExpanded && path.includes('$')) throw new TypeError(`${name} must not contain "$" (nginx would read it as a variable)`);
  return path;
}

const DNS_NAME = /^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.?$/i;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6 = /^[0-9a-f:.]+$/i;

function checkDnsName(name: string, value: unknown): string {
  const text = checkText(name, value);
  if (text.length > 253 || !DNS_NAME.test(text)) throw new TypeError(`${name} must be a DNS name such as api.example.com`);
  return text;
}

function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

interface Checked {
  caBundleFile: string;
  verifyDepth: number;
  crlFile: string | undefined;
  cn: string | undefined;
  san: string | undefined;
  serverName: string;
  certFile: string;
  keyFile: string;
  port: number;
  address: string | undefined;
}

function checkServerConfigInput(input: ServerConfigInput): Checked {
  if (typeof input !== 'object' || input === null) throw new TypeError('server config input must be an object');
  const rule = input.rule;
  if (rule !== undefined && (typeof rule !== 'object' || rule === null)) throw new TypeError('rule must be an object');
  let cn: string | undefined;
  if (rule?.cnEquals !== undefined) {
    cn = checkText('rule.cnEquals', rule.cnEquals);
    if ([...cn].length > MAX_CN_LENGTH) throw new TypeError(`rule.cnEquals must be at most ${MAX_CN_LENGTH} characters (the limit for a certificate's CN)`);
    if (cn !== cn.trim()) throw new TypeError('rule.cnEquals must not start or end with a space');
  }
  const san = rule?.sanDnsEquals !== undefined ? checkDnsName('rule.sanDnsEquals', rule.sanDnsEquals).toLowerCase() : undefined;
  const serverName = checkText('serverName', input.serverName);
  if (!DNS_NAME.test(serverName) && !IPV4.test(serverName)) throw new TypeError('serverName must be a DNS name or an IPv4 address');
  let address: string | undefined;
  if (input.listenAddress !== undefined) {
    address = checkText('listenAddress', input.listenAddress).replace(/^\[(.*)\]$/, '$1');
    if (!IPV4.test(address) && !(address.includes(':') && IPV6.test(address))) throw new TypeError('listenAddress must be an IPv4 or IPv6 address');
  }
  return {
    caBundleFile: checkPath('caBundleFile', input.caBundleFile),
    verifyDepth: checkInteger('verifyDepth', input.verifyDepth, 1, MAX_VERIFY_DEPTH),
    crlFile: input.crlFile === undefined ? undefined : checkPath('crlFile', input.crlFile),
    cn,
    san,
    serverName,
    certFile: checkPath('certFile', input.certFile, { variablesExpanded: true }),
    keyFile: checkPath('keyFile', input.keyFile, { variablesExpanded: true }),
    port: checkInteger('port', input.port, 1, 65535),
    address,
  };
}

// ---- escaping ------------------------------------------------------------------------

/** An ap_expr string literal: backslash escapes, and "%{" would otherwise read a variable. */
function apExprString(value: string): string {
  return `"${value.replace(/[\\%]/g, (c) => `\\${c}`)}"`;
}

/** A path as a quoted Apache argument (only a quote would need escaping, and quotes are refused). */
function apacheQuoted(value: string): string {
  return `"${value}"`;
}

/** An nginx quoted string: its parser turns "\\" into one backslash. */
function nginxQuoted(value: string): string {
  return `"${value.replace(/\\/g, '\\\\')}"`;
}

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/-]/g;

/**
 * A CN as nginx prints it in $ssl_client_s_dn (OpenSSL's RFC 2253 form): `,+"\<>;` get a
 * backslash, so does a leading "#" or space and a trailing space, and each byte of a non-ASCII
 * character becomes \XX.
 */
function rfc2253Value(value: string): string {
  const bytes = new TextEncoder().encode(value);
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const c = String.fromCharCode(b);
    if (b >= 0x80) out += `\\${b.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (',+"\\<>;'.includes(c) || (i === 0 && (c === '#' || c === ' ')) || (i === bytes.length - 1 && c === ' ')) out += `\\${c}`;
    else out += c;
  }
  return out;
}

/**
 * PCRE that matches the CN attribute of $ssl_client_s_dn exactly. The attribute must start
 * the DN or follow an unescaped comma, and end at a comma or the end, so "CN=x" inside
 * another attribute's value (printed as "\,CN=x") cannot pass for it.
 */
function nginxCnRegex(cn: string): string {
  const literal = rfc2253Value(cn).replace(REGEX_SPECIAL, (c) => `\\${c}`);
  return `(^|(?<!\\\\),)CN=${literal}(,|$)`;
}

// ---- the snippets --------------------------------------------------------------------

/** "443", "192.0.2.1:443" or "[2001:db8::1]:443", as both Listen and listen take it. */
function listenAddress(address: string | undefined, port: number): string {
  if (address === undefined) return String(port);
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export function apacheSnippet(input: ServerConfigInput): string {
  const c = checkServerConfigInput(input);
  const conditions: string[] = [];
  if (c.cn !== undefined) conditions.push(`%{SSL_CLIENT_S_DN_CN} == ${apExprString(c.cn)}`);
  if (c.san !== undefined) {
    const any = Array.from({ length: APACHE_SAN_DNS_CHECKED }, (_, i) => `%{SSL_CLIENT_SAN_DNS_${i}} == ${apExprString(c.san!)}`);
    conditions.push(c.cn !== undefined ? `(${any.join(' || ')})` : any.join(' || '));
  }
  const lines = [
    `# Client certificates for ${c.serverName}. Needs mod_ssl and "Listen ${listenAddress(c.address, c.port)}" (Debian: a2enmod ssl; ports.conf).`,
    `<VirtualHost ${c.address === undefined ? `*:${c.port}` : listenAddress(c.address, c.port)}>`,
    `  ServerName ${c.serverName}`,
    '  SSLEngine on',
    '  SSLProtocol -all +TLSv1.2 +TLSv1.3',
    '  # This server\'s own certificate (followed by its intermediates) and key.',
    `  SSLCertificateFile ${apacheQuoted(c.certFile)}`,
    `  SSLCertificateKeyFile ${apacheQuoted(c.keyFile)}`,
    '  # Refuse the TLS handshake unless the client sends a certificate that verifies.',
    '  SSLVerifyClient require',
    `  # CA certificates allowed above the client certificate, the root included (${c.verifyDepth === 1 ? 'issued directly by a trusted CA' : `up to ${c.verifyDepth - 1} intermediate${c.verifyDepth === 2 ? '' : 's'}`}).`,
    `  SSLVerifyDepth ${c.verifyDepth}`,
    '  # CAs trusted to issue client certificates; their names are sent to clients as acceptable CAs.',
    `  SSLCACertificateFile ${apacheQuoted(c.caBundleFile)}`,
  ];
  if (c.crlFile !== undefined) {
    lines.push(
      '  # Revoked client certificates. With "chain" every CA in a client\'s chain needs a CRL in this',
      '  # file (an empty one will do): clients under a CA without one are refused. Renew before nextUpdate.',
      `  SSLCARevocationFile ${apacheQuoted(c.crlFile)}`,
      '  SSLCARevocationCheck chain',
    );
  }
  lines.push(
    '  # Hand the verified certificate\'s fields (SSL_CLIENT_S_DN, SSL_CLIENT_S_DN_CN, …) to the application.',
    '  SSLOptions +StdEnvVars',
  );
  if (conditions.length) {
    lines.push(
      '  <Location "/">',
      '    # Only this client is let in; any other verified certificate gets HTTP 403.',
      ...(c.san !== undefined ? [`    # mod_ssl names the subjectAltName DNS names one by one: the first ${APACHE_SAN_DNS_CHECKED} are compared.`] : []),
      `    Require expr ${conditions.join(' && ')}`,
      '  </Location>',
    );
  }
  lines.push('</VirtualHost>', '');
  return lines.join('\n');
}

export function nginxSnippet(input: ServerConfigInput): string {
  const c = checkServerConfigInput(input);
  const nginxDepth = c.verifyDepth - 1;
  const lines = [
    `# Client certificates for ${c.serverName}; goes inside the http { } block.`,
    'server {',
    `  listen ${listenAddress(c.address, c.port)} ssl;`,
    `  server_name ${c.serverName};`,
    '  ssl_protocols TLSv1.2 TLSv1.3;',
    '  # This server\'s own certificate (followed by its intermediates) and key.',
    `  ssl_certificate ${nginxQuoted(c.certFile)};`,
    `  ssl_certificate_key ${nginxQuoted(c.keyFile)};`,
    '  # Ask for a client certificate and refuse the request without a valid one: nginx completes',
    '  # the handshake and answers HTTP 400 ("No required SSL certificate was sent" / "The SSL certificate error").',
    '  ssl_verify_client on;',
    '  # CAs trusted to issue client certificates; their names are sent to clients as acceptable CAs.',
    `  ssl_client_certificate ${nginxQuoted(c.caBundleFile)};`,
    `  # Intermediates allowed between the client certificate and the root: nginx counts one fewer`,
    `  # than Apache, so ${nginxDepth} here allows the same chains as SSLVerifyDepth ${c.verifyDepth}.`,
    `  ssl_verify_depth ${nginxDepth};`,
  ];
  if (c.crlFile !== undefined) {
    lines.push(
      '  # Revoked client certificates. nginx checks the whole chain: every CA in a client\'s chain needs a',
      '  # CRL in this file (an empty one will do): clients under a CA without one are refused. Renew before nextUpdate.',
      `  ssl_crl ${nginxQuoted(c.crlFile)};`,
    );
  }
  if (c.cn !== undefined) {
    lines.push(
      '  # Only this client is let in; any other verified certificate gets HTTP 403. $ssl_client_s_dn',
      '  # is the subject in RFC 2253 form ("O=…,CN=…"); the pattern matches the CN attribute exactly.',
      `  if ($ssl_client_s_dn !~ ${nginxQuoted(nginxCnRegex(c.cn))}) {`,
      '    return 403;',
      '  }',
    );
  }
  if (c.san !== undefined) {
    lines.push(
      `  # NOT ENFORCED here: subjectAltName DNS name ${c.san}. nginx has no variable for the client`,
      '  # certificate\'s subjectAltName; check it in the application ($ssl_client_escaped_cert holds the',
      '  # certificate) or rely on the CN rule.',
    );
  }
  lines.push(
    '  # Pass the verified subject to the application if it needs it, e.g.',
    '  # proxy_set_header X-Client-Subject $ssl_client_s_dn;',
    '}',
    '',
  );
  return lines.join('\n');
}

export function serverConfigSnippets(input: ServerConfigInput): ServerConfigSnippets {
  return {
    apache: apacheSnippet(input),
    nginx: nginxSnippet(input),
    notes: input.rule?.sanDnsEquals !== undefined ? [NGINX_SAN_NOTE] : [],
  };
}
