// `harness check URL …`: the mTLS server check from the command line (docs/server-check.md).
// With --new-ca DIR it makes a test CA and writes what to install on the server; with the CA's
// files it runs every case against the server, prints each verdict and the grade, and exits 0
// only when the grade is at least --require (default A). 2: bad input, nothing was sent.
// `harness check --jwt KIND TOKEN_URL …` is the JWT / token-endpoint check, same output and codes.
import { parseArgs } from 'node:util';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GRADES, type Grade } from '../../shared/check/cases.ts';
import type { CheckCaseInfo, CheckCaseResult, CheckReport } from '../../shared/check/messages.ts';
import { CheckInputError, type MtlsCheckRequest, type TestCaPems } from '../../shared/check/request.ts';
import { checkReportHtml } from '../../shared/check/report.ts';
import { validateLimits } from '../defaults.ts';
import { installKit, prepareCheck } from '../check/prepare.ts';
import { runCheck } from '../check/run-check.ts';
import { runJwtCheck } from '../check/jwt-check.ts';
import { runResourceCheck } from '../check/resource-check.ts';
import type { JwtCheckKind } from '../../shared/check/jwt-cases.ts';
import type { JwtCheckRequest } from '../../shared/check/jwt-request.ts';
import { makeTestCa } from '../check/test-ca.ts';
import { runEnvironment } from '../transcripts/environment.ts';
import type { Io } from './run.ts';
import { caseLine, finishedText, meetsGrade, withoutSteps, type CheckMode } from './check-output.ts';
import { HarnessError } from '../../shared/errors.ts';

const USAGE = `usage: harness check URL (--cn NAME | --san DNSNAME) [--depth N]
         (--new-ca DIR | --root F --root-key F --intermediate F --intermediate-key F)
         [--ca FILE] [--require GRADE] [--install DIR] [--report OUT.html] [--json]
       harness check --jwt exchange|jwt-bearer|private-key-jwt TOKEN_URL --client-id ID --key KEY.pem
         [--client-secret-file F] [--kid=K] [--aud A] [--iss I] [--sub S]
         [--ca FILE] [--require GRADE] [--report OUT.html] [--json]
       harness check --resource API_URL --token-file F [--cert F --cert-key F]
         [--ca FILE] [--require GRADE] [--report OUT.html] [--json]
`;

const JWT_KINDS: Record<string, JwtCheckKind> = { exchange: 'exchange', 'jwt-bearer': 'jwt-bearer', 'private-key-jwt': 'private_key_jwt' };
const MTLS_ONLY = ['cn', 'san', 'new-ca', 'root', 'root-key', 'intermediate', 'intermediate-key', 'install'] as const;
const JWT_ONLY = ['client-id', 'client-secret-file', 'key', 'kid', 'aud', 'iss', 'sub'] as const;
const RESOURCE_ONLY = ['token-file', 'cert', 'cert-key'] as const;

class Usage extends HarnessError<'usage'> {
  constructor(message: string) {
    super('usage', message);
  }
}

/** Each case as it is judged: a line, or with --json the check.started and check.case events. */
function progress(json: boolean, url: string, io: Io, mode: CheckMode) {
  return {
    onStarted: (cases: CheckCaseInfo[]) => {
      if (json) io.stdout(`${JSON.stringify({ type: 'check.started', target: url, cases })}\n`);
    },
    onCase: (c: CheckCaseResult) => {
      if (json) io.stdout(`${JSON.stringify({ type: 'check.case', caseId: c.caseId, result: withoutSteps(c) })}\n`);
      else io.stdout(caseLine(mode, c));
    },
  };
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    if (!text.trim()) throw new Usage(`${what} ${path} is empty`);
    return text;
  } catch (err) {
    if (err instanceof Usage) throw err;
    throw new Usage(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

async function writeKit(dir: string, req: MtlsCheckRequest, withKeys: boolean): Promise<string[]> {
  const kit = await installKit(await prepareCheck(req));
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  const put = async (name: string, text: string, mode = 0o644) => {
    await writeFile(join(dir, name), text, { mode });
    written.push(join(dir, name));
  };
  for (const f of kit.files) await put(f.name, f.pem);
  await put('apache.conf', kit.apache);
  await put('nginx.conf', kit.nginx);
  if (withKeys) {
    // The test CA's keys stay with the person running the check; they never go on the server.
    await put('root.pem', req.ca.rootCertificatePem);
    await put('root.key', req.ca.rootPrivateKeyPem, 0o600);
    await put('intermediate.pem', req.ca.intermediateCertificatePem);
    await put('intermediate.key', req.ca.intermediatePrivateKeyPem, 0o600);
  }
  await put('INSTALL.txt', [
    'What to install on the staging server for the mTLS server check (docs/server-check.md):',
    ...kit.files.map((f) => `- ${f.name}: ${f.what}`),
    '- apache.conf or nginx.conf: the lines that make the server enforce client certificates',
    ...kit.notes.map((n) => `Note: ${n}`),
    withKeys ? 'root.key and intermediate.key are the test CA\'s private keys: keep them with you, never on the server.' : '',
    '',
  ].join('\n'));
  return written;
}

export async function check(argv: string[], io: Io): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        cn: { type: 'string' },
        san: { type: 'string' },
        depth: { type: 'string', default: '3' },
        'new-ca': { type: 'string' },
        root: { type: 'string' },
        'root-key': { type: 'string' },
        intermediate: { type: 'string' },
        'intermediate-key': { type: 'string' },
        ca: { type: 'string' },
        require: { type: 'string', default: 'A' },
        install: { type: 'string' },
        report: { type: 'string' },
        json: { type: 'boolean', default: false },
        jwt: { type: 'string' },
        'client-id': { type: 'string' },
        'client-secret-file': { type: 'string' },
        key: { type: 'string' },
        kid: { type: 'string' },
        aud: { type: 'string' },
        iss: { type: 'string' },
        sub: { type: 'string' },
        resource: { type: 'boolean', default: false },
        'token-file': { type: 'string' },
        cert: { type: 'string' },
        'cert-key': { type: 'string' },
      },
    }));
  } catch (err) {
    io.stderr(`harness check: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  try {
    if (values.jwt !== undefined && values.resource) throw new Usage('--jwt checks a token endpoint, --resource an API: one at a time');
    if (values.jwt !== undefined) return await jwtCheck(values, positionals, io);
    if (values.resource) return await resourceCheck(values, positionals, io);
    const jwtOnly = [...JWT_ONLY, ...RESOURCE_ONLY].filter((o) => values[o] !== undefined);
    if (jwtOnly.length) throw new Usage(`--${jwtOnly.join(', --')} belong to the JWT check: add --jwt exchange|jwt-bearer|private-key-jwt (or --resource)`);
    const url = positionals[0];
    if (!url || positionals.length > 1) throw new Usage('give exactly one https:// URL to check');
    if (!!values.cn === !!values.san) throw new Usage('give the subject rule the server enforces: --cn NAME or --san DNSNAME (one of them)');
    const require = String(values.require).toUpperCase() as Grade;
    if (!GRADES.includes(require)) throw new Usage(`--require must be one of ${GRADES.join(', ')}`);
    const depth = Number(values.depth);
    const files = ['root', 'root-key', 'intermediate', 'intermediate-key'] as const;
    const given = files.filter((f) => values[f]);
    if (values['new-ca'] && given.length) throw new Usage('--new-ca makes a test CA: leave out --root, --root-key, --intermediate and --intermediate-key');
    if (!values['new-ca'] && given.length !== files.length) throw new Usage(`the test CA needs all of --${files.join(', --')} (or --new-ca DIR to make one); missing: --${files.filter((f) => !values[f]).join(', --')}`);

    const ca: TestCaPems = values['new-ca']
      ? await makeTestCa()
      : {
          rootCertificatePem: await readPem(String(values.root), 'root certificate'),
          rootPrivateKeyPem: await readPem(String(values['root-key']), 'root key'),
          intermediateCertificatePem: await readPem(String(values.intermediate), 'intermediate certificate'),
          intermediatePrivateKeyPem: await readPem(String(values['intermediate-key']), 'intermediate key'),
        };
    const req: MtlsCheckRequest = {
      url,
      ca,
      rule: values.cn ? { cnEquals: String(values.cn) } : { sanDnsEquals: String(values.san) },
      verifyDepth: depth,
      ...(values.ca ? { caPem: await readPem(String(values.ca), 'CA bundle') } : {}),
    };
    await prepareCheck(req); // every field checked before anything is written or sent

    if (values['new-ca']) {
      const dir = String(values['new-ca']);
      const written = await writeKit(dir, req, true);
      io.stdout(`A test CA and what to install are in ${dir}:\n${written.map((w) => `  ${w}`).join('\n')}\n`);
      io.stdout(`Install ${join(dir, 'check-ca.pem')} and ${join(dir, 'check-crl.pem')} on the staging server as INSTALL.txt says, then run:\n`);
      io.stdout(`  harness check ${url} ${values.cn ? `--cn ${String(values.cn)}` : `--san ${String(values.san)}`} --depth ${depth} --root ${join(dir, 'root.pem')} --root-key ${join(dir, 'root.key')} --intermediate ${join(dir, 'intermediate.pem')} --intermediate-key ${join(dir, 'intermediate.key')}\n`);
      return 0;
    }
    if (values.install) await writeKit(String(values.install), req, false);

    if (!values.json) io.stdout(`Server check ${url} — rule: ${values.cn ? `CN equals ${String(values.cn)}` : `SAN DNS equals ${String(values.san)}`}, depth ${depth}\n`);
    const report = await runCheck(req, { limits: validateLimits(), ...progress(values.json === true, url, io, 'mtls') });
    return await finish(report, values, io, 'mtls');
  } catch (err) {
    if (err instanceof Usage || err instanceof CheckInputError) {
      io.stderr(`harness check: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

/** What the two modes print the same way: each case as it is judged, the fixes, the summary, the report, the exit code. */
async function finish(report: CheckReport, values: Record<string, string | boolean | undefined>, io: Io, mode: CheckMode): Promise<number> {
  const require = String(values.require).toUpperCase() as Grade;
  if (values.json) io.stdout(`${JSON.stringify({ type: 'check.finished', report: { ...report, cases: report.cases.map(withoutSteps) } })}\n`);
  else io.stdout(finishedText(mode, report));
  if (values.report) {
    await writeFile(String(values.report), checkReportHtml(report, runEnvironment(), 'cli', mode === 'jwt' ? 'flow' : 'probe'));
    io.stderr(`Report written to ${String(values.report)}\n`);
  }
  const ok = meetsGrade(report.grade, require);
  if (!ok) io.stderr(`harness check: grade ${report.grade ?? 'none'} is below the required ${require}\n`);
  return ok ? 0 : 1;
}

/** `harness check --jwt KIND TOKEN_URL …`: every assertion case against the token endpoint. */
async function jwtCheck(values: Record<string, string | boolean | undefined>, positionals: string[], io: Io): Promise<number> {
  const kind = JWT_KINDS[String(values.jwt)];
  if (!kind) throw new Usage(`--jwt must be one of ${Object.keys(JWT_KINDS).join(', ')}`);
  const mtlsOnly = [...MTLS_ONLY, ...RESOURCE_ONLY].filter((o) => values[o] !== undefined);
  if (mtlsOnly.length) throw new Usage(`--${mtlsOnly.join(', --')} belong to another check, not --jwt`);
  const url = positionals[0];
  if (!url || positionals.length > 1) throw new Usage('give exactly one https:// token endpoint URL to check');
  const require = String(values.require).toUpperCase() as Grade;
  if (!GRADES.includes(require)) throw new Usage(`--require must be one of ${GRADES.join(', ')}`);
  if (!values['client-id']) throw new Usage('give the client id registered at the server: --client-id ID');
  if (!values.key) throw new Usage('give the private key whose public key the server has registered: --key KEY.pem');
  if (kind === 'exchange' && !values['client-secret-file']) throw new Usage('the exchange sends client_secret: give it in a file with --client-secret-file F (never on the command line)');
  // A secret file's trailing newline is not part of the secret.
  const secret = values['client-secret-file'] ? (await readPem(String(values['client-secret-file']), 'client secret file')).replace(/\r?\n$/, '') : undefined;
  const req: JwtCheckRequest = {
    kind,
    tokenUrl: url,
    clientId: String(values['client-id']),
    privateKeyPem: await readPem(String(values.key), 'private key'),
    ...(secret !== undefined ? { clientSecret: secret } : {}),
    ...(values.kid !== undefined ? { kid: String(values.kid) } : {}),
    ...(values.aud !== undefined ? { audience: String(values.aud) } : {}),
    ...(values.iss !== undefined ? { issuer: String(values.iss) } : {}),
    ...(values.sub !== undefined ? { subject: String(values.sub) } : {}),
    ...(values.ca ? { caPem: await readPem(String(values.ca), 'CA bundle') } : {}),
  };
  if (!values.json) io.stdout(`JWT check ${url} — ${kind}, client ${req.clientId}\n`);
  const report = await runJwtCheck(req, { limits: validateLimits(), ...progress(values.json === true, url, io, 'jwt') });
  return finish(report, values, io, 'jwt');
}

/** `harness check --resource API_URL --token-file F …`: the API's half — tampered, unsigned, mis-bound tokens. */
async function resourceCheck(values: Record<string, string | boolean | undefined>, positionals: string[], io: Io): Promise<number> {
  const other = [...MTLS_ONLY, ...JWT_ONLY].filter((o) => values[o] !== undefined);
  if (other.length) throw new Usage(`--${other.join(', --')} belong to another check, not --resource`);
  const url = positionals[0];
  if (!url || positionals.length > 1) throw new Usage('give exactly one https:// URL of the protected resource to check');
  const require = String(values.require).toUpperCase() as Grade;
  if (!GRADES.includes(require)) throw new Usage(`--require must be one of ${GRADES.join(', ')}`);
  if (!values['token-file']) throw new Usage('give the access token in a file: --token-file F (never on the command line)');
  if (!values.cert !== !values['cert-key']) throw new Usage('--cert and --cert-key go together (the certificate a bound token was issued to)');
  const report = await runResourceCheck({
    url,
    accessToken: (await readPem(String(values['token-file']), 'access token file')).trim(),
    ...(values.cert ? { client: { certificatePem: await readPem(String(values.cert), 'certificate'), privateKeyPem: await readPem(String(values['cert-key']), 'certificate key') } } : {}),
    ...(values.ca ? { caPem: await readPem(String(values.ca), 'CA bundle') } : {}),
  }, {
    limits: validateLimits(),
    onStarted: (cases) => {
      if (values.json) io.stdout(`${JSON.stringify({ type: 'check.started', target: url, cases })}\n`);
      else io.stdout(`Resource check ${url}\n`);
    },
    onCase: (c) => {
      if (values.json) io.stdout(`${JSON.stringify({ type: 'check.case', caseId: c.caseId, result: withoutSteps(c) })}\n`);
      else io.stdout(caseLine('resource', c));
    },
  });
  return finish(report, values, io, 'resource');
}
