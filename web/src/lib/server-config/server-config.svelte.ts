import { serverConfigSnippets, type ServerConfigInput, type ServerConfigSnippets } from '../../../../shared/server-config.ts';
import type { BundleReport } from './ca-bundle.ts';

/** Form fields, keyed as the generator names its options in its TypeErrors. */
export const FIELD_LABELS = {
  caBundleFile: 'The CA bundle path',
  verifyDepth: 'The verify depth',
  crlFile: 'The CRL path',
  'rule.cnEquals': 'The CN',
  'rule.sanDnsEquals': 'The SAN DNS name',
  serverName: 'The server name',
  certFile: 'The certificate path',
  keyFile: 'The key path',
  port: 'The port',
  listenAddress: 'The listen address',
} as const;

export type FieldName = keyof typeof FIELD_LABELS;

export type Generated = { ok: true; snippets: ServerConfigSnippets; input: ServerConfigInput } | { ok: false; field: FieldName | null; message: string };

/** "rule.cnEquals must not contain …" → the field and "The CN must not contain …". */
export function explainInputError(message: string): { field: FieldName | null; message: string } {
  const names = Object.keys(FIELD_LABELS) as FieldName[];
  const field = names.filter((name) => message.startsWith(`${name} `)).sort((a, b) => b.length - a.length)[0] ?? null;
  return { field, message: field ? `${FIELD_LABELS[field]}${message.slice(field.length)}.` : message };
}

/**
 * The server-config screen's form. Harness keeps it (harness.screen) so a half-filled form
 * survives moving to another screen and back (screens are unmounted when hidden).
 */
export class ServerConfigForm {
  caPem = $state('');
  report = $state<BundleReport | null>(null);
  caBundleFile = $state('/etc/ssl/client-ca.pem');
  verifyDepth = $state(2);
  /** The user set the depth; the bundle's suggestion no longer replaces it. */
  depthChosen = $state(false);
  useCrl = $state(false);
  crlFile = $state('/etc/ssl/client-ca-crl.pem');
  cnEquals = $state('');
  sanDnsEquals = $state('');
  serverName = $state('orders.example.com');
  /** Blank: derived from the server name. */
  certFile = $state('');
  keyFile = $state('');
  port = $state(443);
  listenAddress = $state('');

  readonly defaultCertFile = $derived(`/etc/ssl/certs/${this.serverName.trim() || 'server'}.pem`);
  readonly defaultKeyFile = $derived(`/etc/ssl/private/${this.serverName.trim() || 'server'}.key`);

  readonly input: ServerConfigInput = $derived.by(() => {
    const input: ServerConfigInput = {
      caBundleFile: this.caBundleFile.trim(),
      verifyDepth: this.verifyDepth,
      serverName: this.serverName.trim(),
      certFile: this.certFile.trim() || this.defaultCertFile,
      keyFile: this.keyFile.trim() || this.defaultKeyFile,
      port: this.port,
    };
    if (this.useCrl) input.crlFile = this.crlFile.trim();
    const cn = this.cnEquals.trim();
    const san = this.sanDnsEquals.trim();
    if (cn || san) input.rule = { ...(cn ? { cnEquals: cn } : {}), ...(san ? { sanDnsEquals: san } : {}) };
    if (this.listenAddress.trim()) input.listenAddress = this.listenAddress.trim();
    return input;
  });

  readonly generated: Generated = $derived.by(() => {
    try {
      return { ok: true, snippets: serverConfigSnippets(this.input), input: this.input };
    } catch (err) {
      if (err instanceof TypeError) return { ok: false, ...explainInputError(err.message) };
      throw err;
    }
  });

  /** Follows the bundle's suggested depth until the user picks one. */
  adoptSuggestedDepth(): void {
    const suggested = this.report?.suggestedDepth;
    if (!this.depthChosen && suggested) this.verifyDepth = suggested;
  }
}

