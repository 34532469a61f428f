// What the partner installs on the server for the check: the snippets come from the same
// generator as the workshop's (shared/server-config.ts), with the CA file, CRL file, depth and
// subject rule of the check; each case's fix quotes the lines of those snippets that enforce it.
import { serverConfigSnippets, type ServerConfigSnippets } from '../server-config.ts';
import { caseEntry, type CustomCase } from './cases.ts';
import type { SubjectRule } from './request.ts';

export const CA_FILE_NAME = 'check-ca.pem';
export const CRL_FILE_NAME = 'check-crl.pem';

export interface InstallPaths {
  /** Where the partner puts the files; default /etc/ssl/harness-check. */
  dir?: string;
  serverName?: string;
  certFile?: string;
  keyFile?: string;
  port?: number;
}

export function installSnippets(rule: SubjectRule, verifyDepth: number, paths: InstallPaths = {}): ServerConfigSnippets {
  const dir = (paths.dir ?? '/etc/ssl/harness-check').replace(/\/+$/, '');
  return serverConfigSnippets({
    caBundleFile: `${dir}/${CA_FILE_NAME}`,
    crlFile: `${dir}/${CRL_FILE_NAME}`,
    verifyDepth,
    rule,
    serverName: paths.serverName ?? 'staging.example.com',
    certFile: paths.certFile ?? '/etc/ssl/private/server.pem',
    keyFile: paths.keyFile ?? '/etc/ssl/private/server.key',
    port: paths.port ?? 443,
  });
}

/** Lines of a snippet whose directive is one of `directives` (comments left out). */
function linesFor(snippet: string, directives: readonly string[]): string[] {
  return snippet.split('\n').map((l) => l.trim()).filter((l) => !l.startsWith('#') && directives.some((d) => l === d || l.startsWith(`${d} `) || l.startsWith(`${d}(`)));
}

export interface CaseFix {
  text: string;
  apache: string[];
  nginx: string[];
}

/** The server-side fix of a case, with the exact lines of the check's snippets. */
export function caseFix(id: string, snippets: ServerConfigSnippets, custom: readonly CustomCase[] = []): CaseFix | undefined {
  const entry = caseEntry(id, custom);
  if (!entry) return undefined;
  const apache = linesFor(snippets.apache, entry.fix.apache);
  const nginx = linesFor(snippets.nginx, entry.fix.nginx);
  // Directives the generator leaves at their default (the security level) are quoted from the text.
  return { text: entry.fix.text, apache: apache.length ? apache : [...entry.fix.apache], nginx: nginx.length ? nginx : [...entry.fix.nginx] };
}
