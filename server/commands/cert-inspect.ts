// `harness cert inspect FILE... [--password-file F | --password-env NAME | --password P] [--json]`: certificates, chains and keys from
// PEM, DER, PKCS#12, PKCS#7 and JSON files, read together as one set. Human-readable listing by
// default, one JSON document with --json. Exit 2 when an input could not be read (missing file,
// unparseable content, wrong PKCS#12 password) or on bad usage; else 1 when an error-level
// problem was found (expired, key of another certificate, …), so a script can gate on it; else 0.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { inspectSet, type InspectInput, type InspectionReport } from '../../shared/pki/inspect-set.ts';
import type { CertificateInfo } from '../../shared/pki/inspect.ts';
import { PROBLEMS, type Problem } from '../../shared/pki/problems.ts';
import { KEY_FORMAT_NAMES } from '../../shared/pki/read.ts';
import { clientUsageProblems } from '../../shared/pki/client-usage.ts';
import { BadInputFile } from './client-files.ts';
import { PASSWORD_OPTIONS, PASSWORD_USAGE, passwordFrom } from './password-option.ts';

interface Out {
  stdout(s: string): void;
  stderr(s: string): void;
}

const USAGE = `usage: harness cert inspect FILE... ${PASSWORD_USAGE} [--json]\n`;
const LABEL_WIDTH = 18; // characters: the longest field label plus a gap

function when(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function field(label: string, value: string | undefined): string {
  return value === undefined || value === '' ? '' : `  ${label.padEnd(LABEL_WIDTH)}${value}\n`;
}

function validityNote(c: CertificateInfo): string {
  const v = c.validity;
  if (v.status === 'expired') return `  (EXPIRED ${-v.daysLeft} days ago)`;
  if (v.status === 'not_yet_valid') return '  (NOT YET VALID)';
  return `  (${v.daysLeft} days left${v.expiresSoon ? ', expires soon' : ''})`;
}

function formatCertificate(c: CertificateInfo, n: number): string {
  const bc = c.basicConstraints;
  return [
    `Certificate ${n} — ${c.where}\n`,
    field('Subject', c.subject),
    field('Issuer', c.issuer),
    field('Serial', c.serial),
    field('Valid from', when(c.notBefore)),
    field('Valid until', when(c.notAfter) + validityNote(c)),
    field('Key', c.key.text),
    field('Signature', c.signatureAlgorithm),
    field('SANs', c.subjectAltNames.join(', ')),
    field('Key usage', c.keyUsage && `${c.keyUsage.usages.join(', ')}${c.keyUsage.critical ? ' (critical)' : ''}`),
    field('Extended usage', c.extendedKeyUsage && `${c.extendedKeyUsage.usages.join(', ')}${c.extendedKeyUsage.critical ? ' (critical)' : ''}`),
    field('Basic constraints', bc && `CA:${bc.ca ? 'TRUE' : 'FALSE'}${bc.pathLength !== undefined ? `, pathlen:${bc.pathLength}` : ''}${bc.critical ? ' (critical)' : ''}`),
    field('Subject key id', c.subjectKeyId),
    field('Authority key id', c.authorityKeyId),
    field('CRL', c.crlDistributionPoints.join(', ')),
    field('OCSP', c.ocsp.join(', ')),
    field('CA issuers', c.caIssuers.join(', ')),
    field('Policies', c.policies.join(', ')),
    field('SHA-256', c.fingerprints.sha256),
    field('SHA-1', c.fingerprints.sha1),
    field('x5t#S256', c.fingerprints.x5tS256),
    field('SPKI pin', `sha256/${c.fingerprints.spkiSha256}`),
    field('Self-signed', c.selfSigned ? 'yes (trust anchor)' : 'no'),
  ].join('');
}

const SYMBOL: Record<Problem['severity'], string> = { error: '✗', warning: '!', info: 'i' };

export function formatReport(report: InspectionReport): string {
  const out: string[] = [];
  for (const i of report.inputs) {
    const counts = [`${i.certificates} certificate${i.certificates === 1 ? '' : 's'}`, `${i.keys} key${i.keys === 1 ? '' : 's'}`];
    out.push(`${i.name}: ${i.format.toUpperCase()}, ${counts.join(', ')}${i.readable ? '' : ' (NOT FULLY READABLE)'}\n`);
  }
  out.push('\n');
  report.certificates.forEach((c, i) => out.push(formatCertificate(c, i + 1), '\n'));
  report.keys.forEach((k, i) => {
    const matches = k.matches.map((w) => `certificate ${report.certificates.findIndex((c) => c.where === w) + 1} (${w})`);
    out.push(
      `Key ${i + 1} — ${k.where}\n`,
      field('Type', `${k.key.text}, ${KEY_FORMAT_NAMES[k.format]}`),
      field('SPKI pin', k.spkiSha256 && `sha256/${k.spkiSha256}`),
      field('Belongs to', matches.length ? matches.join(', ') : 'none of the certificates given'),
      '\n',
    );
  });
  for (const o of report.others) out.push(`Also found: ${o.description} at ${o.where} (not inspected)\n\n`);

  const chained = report.chain.paths.filter((p) => p.members.length > 1 || p.members[0]?.role === 'leaf');
  if (chained.length > 0) {
    out.push(chained.length === 1 ? 'Chain\n' : 'Chains\n');
    const width = Math.max(...chained.flatMap((p) => p.members.map((m) => m.subject.length)));
    for (const path of chained) {
      path.members.forEach((m, i) => {
        out.push(`  ${i + 1}. ${m.subject.padEnd(width)}  ${m.role.padEnd(12)}  ${m.where}\n`);
        if (m.signature && m.signature !== 'self') out.push(`     ↑ signed by the next: ${m.signature}\n`);
      });
      if (path.complete) out.push(`  ends at the trust anchor ${path.anchor}\n`);
      else out.push(`  next issuer (not in the set): ${path.missingIssuer}${path.missingIssuerUrls ? ` — ${path.missingIssuerUrls.join(', ')}` : ''}\n`);
      out.push('\n');
    }
  }
  if (report.chain.anchors.length > 0) out.push(`Trust anchors (self-signed): ${report.chain.anchors.join(' · ')}\n\n`);

  if (report.problems.length === 0) out.push('No problems found.\n');
  else {
    out.push('Problems\n');
    const codeWidth = Math.max(...report.problems.map((p) => p.code.length));
    for (const p of report.problems) {
      out.push(`  ${SYMBOL[p.severity]} ${p.severity.padEnd(8)}${p.code.padEnd(codeWidth)}  ${p.message}\n`);
      if (p.where) out.push(`  ${' '.repeat(10 + codeWidth)}  at ${p.where}\n`);
    }
    out.push('\n');
    for (const code of new Set(report.problems.map((p) => p.code))) out.push(`${code}: ${PROBLEMS[code].explanation}\n`);
  }
  return out.join('');
}

export async function certInspect(argv: string[], out: Out): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { ...PASSWORD_OPTIONS, json: { type: 'boolean', default: false } } });
  } catch (e) {
    out.stderr(`harness cert inspect: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { positionals: files, values } = parsed;
  if (files.length === 0) {
    out.stderr(`harness cert inspect: no file given\n${USAGE}`);
    return 2;
  }
  let password: string | undefined;
  try {
    password = await passwordFrom(values);
  } catch (e) {
    if (!(e instanceof BadInputFile)) throw e;
    out.stderr(`harness cert inspect: ${e.message}\n`);
    return 2;
  }

  const inputs: InspectInput[] = [];
  const unreadableFiles: { name: string; error: string }[] = [];
  for (const name of files) {
    try {
      inputs.push({ name, data: new Uint8Array(await readFile(name)) });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      unreadableFiles.push({ name, error: code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message });
    }
  }
  const report = await inspectSet(inputs, password !== undefined ? { password } : {});
  report.problems.push(...clientUsageProblems(report));

  if (values.json) out.stdout(`${JSON.stringify({ ...report, unreadableFiles }, null, 2)}\n`);
  else {
    for (const f of unreadableFiles) out.stderr(`harness cert inspect: cannot read ${f.name}: ${f.error}\n`);
    if (inputs.length > 0) out.stdout(formatReport(report));
  }
  if (unreadableFiles.length > 0 || report.inputs.some((i) => !i.readable)) return 2;
  return report.problems.some((p) => p.severity === 'error') ? 1 : 0;
}
