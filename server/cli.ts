// `harness` command line: serve the app with its lab, run a probe headless, inspect
// certificates. Exit codes: 0 passed, 1 ran and failed, 2 bad usage or unreadable input.
import { parseArgs } from 'node:util';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { ProbeRequest } from '../shared/protocol/index.ts';
import { startRelay, VERSION } from './relay.ts';
import { DEFAULT_HOSTED_PORTS } from './net/outbound-guard.ts';
import { LAB_DEFAULT_PORT, startLab, type RunningLab } from './lab/lab.ts';
import { labPorts } from './lab/listen.ts';
import { runProbe } from './probe/run-probe.ts';
import { runInEnvelope } from './run/envelope.ts';
import { validateLimits } from './defaults.ts';
import { formatFinished, StepPrinter } from './format-steps.ts';
import { BadInputFile, loadClientFiles, readInputFile } from './commands/client-files.ts';
import { PASSWORD_OPTIONS, passwordFrom } from './commands/password-option.ts';
import { redactDeep, redactUrl, scrubDeep, secretValues } from '../shared/redact.ts';
import { generateKeyPair, createCsr, exportPkcs8Pem } from '../shared/pki/issue.ts';
import { defaultLabDir } from './lab/lab-dir.ts';
import { TranscriptRecorder } from './transcripts/recorder.ts';
import { readSecret, SecretError } from './access-secret.ts';
import { LOG_FORMATS, type LogFormat } from './log.ts';
import { HarnessError } from '../shared/errors.ts';

export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
  /** A yes/no question to the person at the terminal; only when stdin is one (bin/harness.js). */
  ask?(question: string): Promise<boolean>;
}

/** Asks on stderr and reads one line from stdin: yes only for "y" or "yes". */
export function terminalAsk(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((ok) => {
    rl.once('close', () => ok(false));
    rl.question(question, (answer) => {
      ok(/^y(es)?$/i.test(answer.trim()));
      rl.close();
    });
  });
}

const USAGE = `harness ${VERSION} — mTLS & JWT integration harness

Usage:
  harness serve [--port N] [--host H] [--no-lab] [--lab-port N] [--allow-origin URL]
                [--hosted] [--allow-target HOST] [--allow-port N] [--limit NAME=VALUE]
                [--public-url URL] [--secret-file F] [--metrics-token-file F] [--log-format text|json]
                [--relay-id ID] [--lab-dir DIR] [--trust-proxy ADDR,...]
      Serve the web app and relay (with the built-in lab) and print the URL to open. The lab listens
      on 7443, 7444 and 7445 (--lab-port N: N and the next two; 0: free ports).
      A non-loopback --host (or --hosted) turns on the outbound guard: only public
      addresses on allowed ports (443, 8443, 9443, plus each --allow-port) are probed. --limit overrides a
      limit from server/defaults.ts, e.g. --limit runTimeoutMs=30000. /metrics (Prometheus) is
      served locally; in hosted mode only with a token (--metrics-token-file or
      $HARNESS_METRICS_TOKEN) that each scrape sends as a bearer token (docs/deployment.md).
      Log lines go to stderr as JSON in hosted mode and as text locally (--log-format).
      --public-url: where learners reach the relay (implies --hosted). --secret-file (or
      $HARNESS_ACCESS_SECRET): the access secret, kept across restarts and replicas; default:
      a new random one each start.
      Several relays behind one balancer (docs/deployment.md): give each its --relay-id (or
      $HARNESS_RELAY_ID; the balancer routes sign-in redirects by it) and one --lab-dir (or
      $HARNESS_LAB_DIR), so all present the same lab CA and keys. --trust-proxy (or
      $HARNESS_TRUST_PROXY): the balancer's addresses; a session from one counts against the
      client its X-Forwarded-For names, so per-address limits see each learner.
  harness probe URL [--cert FILE --key FILE | --cert FILE.p12] [--password-file F | --password-env NAME | --password P]
                    [--ca FILE] [--method M] [--header 'Name: value']
                    [--data TEXT | --data-file FILE] [--insecure] [--json] [--transcript OUT]
      Run an mTLS probe. The certificate may be PEM, DER or PKCS#12 (key included); the password
      opens a PKCS#12 file or an encrypted key. URL "lab" probes the built-in lab's target
      (started in-process); add --lab-cert to have the lab issue a fresh client certificate for the run.
  harness run FILE|DIR... [--json] [--check] [--transcript OUT] [--report OUT.html] [--junit OUT.xml]
                 [--allow-env NAME]... [--allow-all-env] [--allow-file PATH]... [--allow-outside]
                 [--redirect-uri http://127.0.0.1:PORT/callback/KEY] [--save-refresh-token]
      Run scenario files (probes and token flows, docs/scenarios.md) headless; scenarios
      that name the lab start it in-process. --check: exit 0 when every run matched "expect".
      Keep each run as a transcript, all of them as an HTML report and JUnit XML.
      A scenario reads environment variables and files outside its folder only when allowed
      (--allow-*, or a yes on a terminal); the secrets and their hosts are listed first.
      --redirect-uri: an authorization code flow listens there and sends exactly that URI
      (providers match redirect URIs exactly; register it once).
      --save-refresh-token: write a rotated refresh token back to the file it came from.
  harness show TRANSCRIPT [--json]
      Print a recorded run (a transcript, docs/transcripts.md) as it ran.
  harness diff A B [--json]
      Compare two transcripts step by step (the passing run first): what differs and why.
  harness check URL (--cn NAME | --san DNS) [--depth N] (--new-ca DIR | --root F --root-key F
                --intermediate F --intermediate-key F) [--require GRADE] [--install DIR] [--report OUT.html] [--json]
      Prove a server refuses the client certificates it must (docs/server-check.md): every
      case minted from the test CA, judged, graded; exit 0 only for the grade required (default A).
  harness check --jwt exchange|jwt-bearer|private-key-jwt TOKEN_URL --client-id ID --key KEY.pem
                [--client-secret-file F] [--kid=K] [--aud A] [--iss I] [--sub S] [--require GRADE] [--report OUT.html] [--json]
      Prove a token endpoint refuses the assertions it must (expired, alg none, wrong aud, replayed
      jti, …) signed with the key it has registered; graded the same way.
  harness check --resource API_URL --token-file F [--cert F --cert-key F] [--require GRADE] [--report OUT.html] [--json]
      Prove an API refuses a tampered or unsigned copy of its access token, and a certificate-bound
      token without or with another certificate (RFC 8705).
  harness cert inspect FILE... [--password-file F | --password-env NAME | --password P] [--json]
      Inspect certificates, chains and keys (PEM, DER, PKCS#12, JSON with PEMs). Exit 1 when
      an error-level problem is found (expired, wrong usage, key of another certificate).

Exit codes: 0 passed, 1 ran and failed, 2 bad usage or unreadable input.
`;

class UsageError extends HarnessError<'usage'> {
  constructor(message: string) {
    super('usage', message);
  }
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve(rest, io);
      case 'probe':
        return await probe(rest, io);
      case 'cert':
        return await cert(rest, io);
      case 'run': {
        const { run } = await import('./commands/run.ts');
        return await run(rest, io);
      }
      case 'show': {
        const { show } = await import('./commands/show.ts');
        return await show(rest, io);
      }
      case 'diff': {
        const { diff } = await import('./commands/diff.ts');
        return await diff(rest, io);
      }
      case 'check': {
        const { check } = await import('./commands/check.ts');
        return await check(rest, io);
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return command === undefined ? 2 : 0;
      case '--version':
        io.stdout(`${VERSION}\n`);
        return 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`harness: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}

function port(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${name} must be a port number (0-65535), got "${value}"`);
  return n;
}

/** `--lab-port N`: the lab's first of three ports (default LAB_DEFAULT_PORT); 0 for free ones. */
function labPortFlag(value: string | undefined): number {
  const n = port(value, '--lab-port') ?? LAB_DEFAULT_PORT;
  if (n > 65533) throw new UsageError(`--lab-port takes the first of three ports (0-65533), got "${value}"`);
  return n;
}

/** `--limit runTimeoutMs=30000` → { runTimeoutMs: 30000 }; names and values are checked by validateLimits. */
function parseLimitFlags(flags: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const flag of flags) {
    const m = flag.match(/^(\w+)=(\d+(?:\.\d+)?)$/);
    if (!m) throw new UsageError(`--limit ${flag} is not NAME=NUMBER (see server/defaults.ts for the names)`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

async function serve(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: process.env.PORT ?? '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      'no-lab': { type: 'boolean', default: false },
      'lab-port': { type: 'string' },
      'allow-origin': { type: 'string', multiple: true },
      hosted: { type: 'boolean', default: false },
      'allow-target': { type: 'string', multiple: true },
      'allow-port': { type: 'string', multiple: true },
      limit: { type: 'string', multiple: true },
      quiet: { type: 'boolean', default: false },
      'metrics-token-file': { type: 'string' },
      'log-format': { type: 'string' },
      'public-url': { type: 'string' },
      'secret-file': { type: 'string' },
      'relay-id': { type: 'string', default: process.env.HARNESS_RELAY_ID || undefined },
      'lab-dir': { type: 'string' },
      'trust-proxy': { type: 'string', multiple: true, default: process.env.HARNESS_TRUST_PROXY ? [process.env.HARNESS_TRUST_PROXY] : [] },
    },
    strict: true,
  });
  const logFormat = values['log-format'];
  if (logFormat !== undefined && !(LOG_FORMATS as readonly string[]).includes(logFormat)) throw new UsageError(`--log-format must be ${LOG_FORMATS.join(' or ')}, got "${logFormat}"`);
  let metricsToken: string | undefined;
  let accessSecret: string | undefined;
  try {
    metricsToken = await readSecret(values['metrics-token-file'], 'HARNESS_METRICS_TOKEN');
    accessSecret = await readSecret(values['secret-file'], 'HARNESS_ACCESS_SECRET');
  } catch (err) {
    if (err instanceof SecretError) {
      io.stderr(`harness: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  let relay;
  try {
    relay = await startRelay({
      port: port(values.port, '--port'),
      host: values.host,
      lab: !values['no-lab'],
      labPort: labPortFlag(values['lab-port']),
      allowOrigins: values['allow-origin'],
      hosted: values.hosted,
      allowTargets: values['allow-target'],
      // Added to the defaults: an operator opening one more port should not close 443.
      allowPorts: values['allow-port'] ? [...new Set([...DEFAULT_HOSTED_PORTS, ...values['allow-port'].map((p) => port(p, '--allow-port')!)])] : undefined,
      limits: parseLimitFlags(values.limit ?? []),
      quiet: values.quiet,
      ...(metricsToken ? { metricsToken } : {}),
      ...(accessSecret ? { token: accessSecret } : {}),
      ...(values['public-url'] ? { publicUrl: values['public-url'] } : {}),
      ...(logFormat ? { logFormat: logFormat as LogFormat } : {}),
      ...(values['relay-id'] ? { relayId: values['relay-id'] } : {}),
      ...(values['trust-proxy'].length ? { trustProxy: values['trust-proxy'] } : {}),
      ...(values['lab-dir'] ? { dataDir: values['lab-dir'] } : {}),
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      io.stderr(`harness: port ${values.port} is in use; choose another with --port N (or PORT=N npm start)\n`);
      return 2;
    }
    if (err instanceof TypeError) {
      io.stderr(`harness: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  io.stdout(`mTLS & JWT Harness ${VERSION}\n`);
  io.stdout(`  Open: ${relay.url}\n`);
  // Behind a proxy the link names the public origin: say where the proxy must send requests.
  if (values['public-url']) io.stdout(`  Listening: ${values.host.includes(':') ? `[${values.host}]` : values.host}:${relay.port}${values['relay-id'] ? ` as relay ${values['relay-id']}` : ''}\n`);
  if (relay.hosted) io.stdout('  Hosted mode: targets on loopback, private and other non-public addresses are refused.\n');
  io.stdout(`  Health: ${relay.origin}/healthz, ${relay.origin}/readyz${relay.metricsServed ? `; metrics: ${relay.origin}/metrics${metricsToken ? ' (bearer token)' : ''}` : ''}\n`);
  if (relay.lab) {
    const [mtls, ...rest] = relay.lab.info.targets;
    if (mtls) io.stdout(`  Lab:  ${mtls.title} at ${mtls.url}${rest.length ? ` (+${rest.length} more lab targets, listed in the app)` : ''}\n`);
    const wanted = labPortFlag(values['lab-port']);
    const moved = wanted !== 0 && relay.lab.info.targets.some((t) => !labPorts(wanted).includes(Number(new URL(t.url).port)));
    if (moved) io.stdout(`  Note: a lab port of ${labPorts(wanted).join(', ')} was in use, so the lab took free ones; texts naming ${wanted} are off (free the ports, or choose --lab-port N)\n`);
  }
  io.stdout(accessSecret
    ? '  The link carries the access secret you gave; it stays the same across restarts. Ctrl+C stops.\n'
    : '  The link carries this session\'s access token; keep it to yourself. Ctrl+C stops.\n');
  await stopOnSignal(relay, io);
  return 0;
}

/**
 * SIGTERM or SIGINT (Ctrl+C) starts a graceful shutdown (RunningRelay.shutdown); a second one
 * cancels the runs still in flight at once. Started by `npm start` (scripts/start.js) with an
 * IPC channel, the relay also stops when that parent goes away, however it ended.
 */
async function stopOnSignal(relay: Awaited<ReturnType<typeof startRelay>>, io: Io): Promise<void> {
  let signals = 0;
  await new Promise<void>((resolve) => {
    const stop = (why: string) => {
      signals++;
      if (signals === 1) {
        io.stderr(`harness: ${why}: shutting down (runs in flight get up to ${relay.graceMs / 1000} s; again to cancel them now)\n`);
        void relay.shutdown().then(resolve);
      } else {
        void relay.shutdown({ graceMs: 0 });
      }
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    if (process.channel) {
      process.channel.unref();
      process.once('disconnect', () => stop('parent process gone'));
    }
  });
}

async function readText(path: string, what: string, opts: { allowEmpty?: boolean } = {}): Promise<string> {
  return new TextDecoder().decode(await readInputFile(path, what, opts));
}

async function issueLabClient(lab: RunningLab): Promise<{ certificatePem: string; privateKeyPem: string }> {
    const keys = await generateKeyPair('P-256', true);
  const signed = await lab.signCsr(await createCsr(keys, 'CN=lab-client, O=mTLS Harness Lab'));
  return { certificatePem: signed.certificatePem, privateKeyPem: await exportPkcs8Pem(keys.privateKey) };
}

async function probe(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      cert: { type: 'string' },
      key: { type: 'string' },
      ...PASSWORD_OPTIONS,
      ca: { type: 'string' },
      method: { type: 'string', default: 'GET' },
      header: { type: 'string', short: 'H', multiple: true },
      data: { type: 'string' },
      'data-file': { type: 'string' },
      insecure: { type: 'boolean', short: 'k', default: false },
      json: { type: 'boolean', default: false },
      'lab-cert': { type: 'boolean', default: false },
      transcript: { type: 'string' },
    },
    strict: true,
  });
  const target = positionals[0];
  if (!target || positionals.length > 1) throw new UsageError('probe takes exactly one URL');
  if (values.key && !values.cert) throw new UsageError('--key needs --cert');
  if (values['lab-cert'] && values.cert) throw new UsageError('--lab-cert and --cert exclude each other');
  const method = values.method.toUpperCase();
  if (!['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH'].includes(method)) throw new UsageError(`--method ${values.method} is not supported`);
  const headers: Record<string, string> = {};
  for (const h of values.header ?? []) {
    const m = h.match(/^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.*)$/);
    if (!m) throw new UsageError(`--header "${h}" is not "Name: value"`);
    headers[m[1]!] = m[2]!;
  }

  let lab: RunningLab | null = null;
  try {
    const req: ProbeRequest = { url: target, method: method as ProbeRequest['method'], verifyServer: !values.insecure };
    if (Object.keys(headers).length) req.headers = headers;
    let password: string | undefined;
    try {
      password = await passwordFrom(values);
      if (values.cert) req.client = await loadClientFiles(values.cert, values.key, password);
      if (values.ca) req.caPem = await readText(values.ca, 'CA bundle');
      if (values['data-file']) req.body = await readText(values['data-file'], 'request body', { allowEmpty: true });
      else if (values.data !== undefined) req.body = values.data;
    } catch (err) {
      if (err instanceof BadInputFile) {
        io.stderr(`harness: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
    if (target === 'lab') {
      lab = await startLab({ dataDir: defaultLabDir() });
      req.url = lab.info.targets[0]!.url;
      if (values['lab-cert']) req.client = await issueLabClient(lab);
    } else if (values['lab-cert']) {
      throw new UsageError('--lab-cert only goes with the URL "lab"');
    }

    const secrets = secretValues({ headers: req.headers, body: req.body, url: req.url, privateKeyPems: req.client ? [req.client.privateKeyPem] : [], extra: password ? [password] : [] });
    const recorder = new TranscriptRecorder();
    const printer = new StepPrinter((s) => io.stdout(s), 'probe');
    if (!values.json) io.stdout(scrubDeep(redactDeep(`Probe ${method} ${redactUrl(req.url)}\n`), secrets));
    const result = await runInEnvelope({
      requestId: 'cli', runId: 'cli', kind: 'probe', target: redactUrl(req.url), secrets,
      send: (event) => {
        recorder.record(event);
        if (values.json) io.stdout(`${JSON.stringify(event)}\n`);
        else if (event.type === 'step') printer.step(event.step);
      },
    }, (ctx) => runProbe(req, { limits: validateLimits(), ...(lab ? { lab: lab.trust } : {}), ...ctx }));
    if (!values.json) printer.end();
    if (!values.json) io.stdout(formatFinished(result.outcome, result.diagnoses, result.durationMs));
    if (values.transcript) {
      const transcript = recorder.transcript(`Probe ${method} ${redactUrl(target === 'lab' ? 'lab' : req.url)}`, { secrets });
      try {
        await writeFile(values.transcript, `${JSON.stringify(transcript, null, 2)}\n`);
      } catch (err) {
        io.stderr(`harness: cannot write ${values.transcript}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
        return 2;
      }
      io.stderr(`Transcript written to ${values.transcript}\n`);
    }
    return result.outcome === 'pass' ? 0 : 1;
  } finally {
    await lab?.close();
  }
}

async function cert(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'inspect') throw new UsageError(`unknown cert command "${sub ?? ''}" (try: harness cert inspect FILE...)`);
  const { certInspect } = await import('./commands/cert-inspect.ts');
  return certInspect(rest, io);
}
