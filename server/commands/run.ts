// `harness run FILE|DIR... [--json] [--check] [--transcript OUT] [--report OUT.html] [--junit OUT.xml]`:
// runs scenario files headless — probes, token flows and inbound checks — with the same events and exit codes
// as `harness probe` (0 all passed, 1 one ran and failed, 2 bad usage or unreadable input).
// A scenario that names the lab gets one started in-process; an authorization code flow gets a
// loopback redirect endpoint, and against the lab the redirects are followed without a browser.
// --check judges each run by the file's `expect` block instead (for examples and CI). Each run
// can be kept as a transcript, and all of them as one HTML report and JUnit XML (docs/transcripts.md).
// A scenario reads environment variables and files outside its folder only with consent
// (--allow-*, or a yes on a terminal), asked for every file before anything runs, and each run
// lists which secret goes to which host before sending anything (server/scenarios/consent.ts).
// --save-refresh-token writes a rotated refresh token back to the file it was read from.
import { parseArgs } from 'node:util';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { realpath } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { RunOutcome, ServerMessage } from '../../shared/protocol/index.ts';
import { flowTarget, type AuthorizationCodeFlow, type FlowRequest } from '../../shared/flows/flow-request.ts';
import { parseLoopbackRedirect } from '../../shared/flows/redirect-uri.ts';
import { cleanDeep, redactUrl, secretValues } from '../../shared/redact.ts';
import { validateLimits } from '../defaults.ts';
import { formatFinished, StepPrinter } from '../format-steps.ts';
import { startLab, type RunningLab } from '../lab/lab.ts';
import { runProbe } from '../probe/run-probe.ts';
import { runInEnvelope } from '../run/envelope.ts';
import { runFlow, flowSecrets } from '../flows/run.ts';
import { startCallbackListener, type CallbackListener } from '../flows/callback-listener.ts';
import { followRedirects } from '../flows/user-agent.ts';
import { checkExpect, loadScenario, needsLab, resolveScenario, ScenarioError, type Scenario } from '../scenarios/scenario.ts';
import { consentRefusal, missingConsent, planSecrets, printable, type PlannedSecret, type SecretConsent } from '../scenarios/consent.ts';
import { defaultLabDir } from '../lab/lab-dir.ts';
import { runInboundScenario } from '../scenarios/inbound-run.ts';
import { TranscriptRecorder } from '../transcripts/recorder.ts';
import { transcriptFileName } from '../../shared/transcript/transcript.ts';
import { runEnvironment } from '../transcripts/environment.ts';
import { renderHtmlReport } from '../../shared/transcript/report-html.ts';
import { renderJunit } from '../../shared/transcript/junit.ts';
import type { ReportEntry } from '../../shared/transcript/report-html.ts';
import { checkReportEntries } from '../../shared/check/report.ts';
import { runServerCheck, type ServerCheckOutcome } from '../scenarios/run-server-check.ts';
import { caseLine, finishedText, withoutSteps } from './check-output.ts';

export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
  /** A yes/no question to the person at the terminal; absent when stdin is not a terminal. */
  ask?(question: string): Promise<boolean>;
}

const USAGE = 'usage: harness run FILE|DIR... [--json] [--check] [--transcript OUT] [--report OUT.html] [--junit OUT.xml] [--allow-env NAME]... [--allow-all-env] [--allow-file PATH]... [--allow-outside] [--redirect-uri http://127.0.0.1:PORT/callback/KEY] [--save-refresh-token]\n';

interface ScenarioRunOptions {
  baseDir: string;
  /** A lab already running (tests share one); otherwise one is started when the scenario needs it. */
  lab?: RunningLab | null;
  env?: Record<string, string | undefined>;
  /** What the person allowed beyond the scenario's folder; default nothing. */
  consent?: SecretConsent;
  /** Every event, already redacted and scrubbed, as `harness probe --json` prints it. */
  onEvent(msg: ServerMessage): void;
  /** An authorization URL the run cannot follow by itself (not the lab's): show it to a person. */
  onAuthorizationUrl?(url: string): void;
  /** `--redirect-uri`: the fixed redirect URI of an authorization code flow, over its `flow.redirectUri`. */
  redirectUri?: string;
  /** A remark for the person running it: a default kid no one may have registered, a refresh token saved. */
  onNote?(note: string): void;
  /** Write a rotated refresh token back to the file the scenario's `refreshToken` came from. */
  saveRefreshToken?: boolean;
}

/** The callback listener of a flow: on the fixed redirect URI's port when there is one, else on any free port. */
async function callbackListenerFor(flow: FlowRequest, override: string | undefined): Promise<{ listener: CallbackListener; origin: string }> {
  const uri = flow.kind === 'authorization-code' ? (override ?? flow.redirectUri) : undefined;
  if (uri === undefined) {
    const listener = await startCallbackListener();
    return { listener, origin: listener.origin };
  }
  const fixed = parseLoopbackRedirect(uri);
  if (typeof fixed === 'string') throw new ScenarioError(`redirect URI: ${fixed}`);
  const code = flow as AuthorizationCodeFlow;
  code.redirectUri = uri;
  delete code.redirectKey;
  try {
    return { listener: await startCallbackListener(fixed.port), origin: fixed.origin };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new ScenarioError(`port ${fixed.port} of the redirect URI ${uri} is in use: stop what listens there, or register another port with the provider`);
    throw err;
  }
}

/** Replaces a secret file's content in one step (temporary file, then rename), keeping its mode. */
async function saveSecretFile(path: string, value: string): Promise<void> {
  const mode = (await stat(path)).mode & 0o777;
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${value}\n`, { mode, flag: 'wx' });
  try {
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
}

interface ScenarioRunResult {
  outcome: RunOutcome;
  /** A server check's: the cases not enforced. */
  diagnoses: string[];
  durationMs: number;
  /** A server check's mode, grade required and report. */
  check?: ServerCheckOutcome['check'];
}

/** Runs a parsed scenario. Throws ScenarioError when its secrets or request cannot be resolved. */
export async function runScenario(scenario: Scenario, opts: ScenarioRunOptions): Promise<ScenarioRunResult> {
  let ownLab: RunningLab | null = null;
  let lab = opts.lab ?? null;
  if (!lab && needsLab(scenario)) {
    ownLab = await startLab({ dataDir: defaultLabDir() });
    lab = ownLab;
  }
  try {
    const resolved = await resolveScenario(scenario, { baseDir: opts.baseDir, lab, ...(opts.env ? { env: opts.env } : {}), ...(opts.consent ? { consent: opts.consent } : {}) });
    for (const note of resolved.notes) opts.onNote?.(note);
    const limits = validateLimits();
    /** The run's events, as `harness probe` sends them. */
    const envelope = (kind: 'probe' | 'flow', target: string, secrets: string[]) => ({ requestId: 'cli', runId: 'cli', kind, target: redactUrl(target), secrets, send: opts.onEvent });
    if (resolved.kind === 'server-check') return await runServerCheck(resolved, { limits, lab, onEvent: opts.onEvent });
    if (resolved.kind === 'probe') {
      const { probe } = resolved;
      const secrets = [...resolved.secrets, ...secretValues({ headers: probe.headers, body: probe.body, url: probe.url, ...(probe.secretNames ? { names: probe.secretNames } : {}), privateKeyPems: probe.client ? [probe.client.privateKeyPem] : [] })];
      return await runInEnvelope(envelope('probe', probe.url, secrets), (ctx) => runProbe(probe, { limits, ...(lab ? { lab: lab.trust } : {}), ...ctx }));
    }
    if (resolved.kind === 'inbound') {
      const secrets = [...resolved.secrets, ...secretValues({ privateKeyPems: resolved.client ? [resolved.client.privateKeyPem] : [] })];
      const clean = <T>(v: T): T => cleanDeep(v, secrets);
      return await runInboundScenario(resolved.inbound, resolved.client, { lab, onEvent: (event) => opts.onEvent(clean(event)) });
    }
    const { flow } = resolved;
    const secrets = [...resolved.secrets, ...secretValues({ extra: flowSecrets(flow) })];
    const { listener, origin } = await callbackListenerFor(flow, opts.redirectUri);
    let rotated: string | undefined;
    try {
      const result = await runInEnvelope(envelope('flow', flowTarget(flow), secrets), (ctx) => runFlow(flow, {
        ...ctx,
        limits,
        relayOrigin: origin,
        callbacks: listener.callbacks,
        lab,
        ...(opts.saveRefreshToken ? { onRotatedRefreshToken: (token: string) => { rotated = token; } } : {}),
        openAuthorizationUrl: (url) => {
          // The lab approves by itself: follow its redirects here. Anyone else needs a person.
          if (lab?.tokens && new URL(url).origin === lab.tokens.authorizeOrigin) {
            // Once the lab's redirects are all followed, a wait that saw only ignored redirects
            // (another state, none) has nothing more coming: end it now, not at the timeout.
            followRedirects(url, { ca: [lab.serverCaPem] }).then(() => listener.callbacks.settle(url), () => {});
          } else {
            opts.onAuthorizationUrl?.(url);
          }
        },
      }));
      if (opts.saveRefreshToken) {
        const file = resolved.refreshTokenFile;
        if (!file) opts.onNote?.('--save-refresh-token: nothing saved: the scenario is not a refresh-token flow whose refreshToken comes from a {"file"} secret');
        else if (!rotated) opts.onNote?.(`--save-refresh-token: ${printable(file)} unchanged (${result.outcome === 'pass' ? 'the server did not rotate the refresh token' : 'no new refresh token was issued'})`);
        else {
          try {
            await saveSecretFile(file, rotated);
            opts.onNote?.(`--save-refresh-token: the rotated refresh token was written to ${printable(file)}`);
          } catch (err) {
            opts.onNote?.(`--save-refresh-token: cannot write ${printable(file)} (${(err as NodeJS.ErrnoException).code ?? String(err)}): the new refresh token is lost`);
          }
        }
      }
      return result;
    } finally {
      await listener.close();
    }
  } finally {
    await ownLab?.close();
  }
}

/** The scenario files named: files as given, and the `*.json` files of each folder, in name order. */
async function scenarioFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    let isDir = false;
    try {
      isDir = (await stat(path)).isDirectory();
    } catch (err) {
      throw new ScenarioError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    if (!isDir) {
      files.push(path);
      continue;
    }
    const inDir = (await readdir(path, { withFileTypes: true })).filter((e) => e.isFile() && e.name.endsWith('.json')).map((e) => join(path, e.name)).sort();
    if (inDir.length === 0) throw new ScenarioError(`${path} holds no .json scenario files`);
    files.push(...inDir);
  }
  return files;
}

interface Loaded {
  file: string;
  scenario: Scenario;
  baseDir: string;
  /** Its secrets: where each comes from and goes (shown before the run). */
  plan: PlannedSecret[];
  /** The file as written (secret sources, not values), for the transcript. */
  raw: unknown;
}

interface Finished {
  loaded: Loaded;
  result: ScenarioRunResult;
  /** What the report, JUnit and transcripts hold: the run, or a server check's cases and grade. */
  entries: ReportEntry[];
  expectation: { met: boolean; message: string } | null;
}

function checkMode(s: Scenario): 'mtls' | 'jwt' | 'resource' {
  const r = s.request as Record<string, unknown>;
  return r.jwt !== undefined ? 'jwt' : r.resource !== undefined ? 'resource' : 'mtls';
}

function checkHeading(s: Scenario, target: string): string {
  const r = s.request as Record<string, Record<string, unknown> | string | undefined>;
  const require = typeof r.require === 'string' ? r.require : 'A';
  const mode = checkMode(s);
  const body = r[mode] as Record<string, unknown>;
  const rule = body.rule as Record<string, unknown> | undefined;
  const what = mode === 'mtls'
    ? `mTLS — rule: ${rule && typeof rule.cnEquals === 'string' ? `CN equals ${rule.cnEquals}` : rule && typeof rule.sanDnsEquals === 'string' ? `SAN DNS equals ${rule.sanDnsEquals}` : '?'}, depth ${String(body.verifyDepth)}`
    : mode === 'jwt' ? `JWT — ${String(body.kind)}` : 'protected resource';
  return `Server check ${target} — ${printable(what)}; grade required: ${require}\n`;
}

/** `--json` prints every event; a check's case and report without the timelines its steps already gave. */
function jsonLine(msg: ServerMessage): ServerMessage {
  if (msg.type === 'check.case') return { ...msg, result: withoutSteps(msg.result) as unknown as typeof msg.result };
  if (msg.type === 'check.finished') return { ...msg, report: { ...msg.report, cases: msg.report.cases.map(withoutSteps) as unknown as typeof msg.report.cases } };
  return msg;
}

async function writeOutput(io: Io, what: string, path: string, text: string): Promise<boolean> {
  try {
    await mkdir(dirname(resolve(path)), { recursive: true });
    await writeFile(path, text);
    if (what) io.stderr(`${what} written to ${path}\n`);
    return true;
  } catch (err) {
    io.stderr(`harness run: cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
    return false;
  }
}

type Consent = { env: Set<string> | 'all'; files: Set<string>; outside: boolean };

/** Asks about each secret the flags did not allow; what is still missing after that stops the run. */
async function gather(plan: PlannedSecret[], consent: Consent, io: Io): Promise<PlannedSecret[]> {
  const missing = missingConsent(plan, consent);
  if (!missing.length || !io.ask) return missing;
  for (const p of missing) {
    // Asked once per variable or file, even when several scenarios use it.
    if (!missingConsent([p], consent).length) continue;
    const yes = await io.ask(`Secret "${p.name}" comes from ${p.needs!.what} and would be sent to ${p.to.join(', ')}. Allow? [y/N] `);
    if (!yes) continue;
    if (p.needs!.env !== undefined && consent.env !== 'all') consent.env.add(p.needs!.env);
    if (p.needs!.file !== undefined) consent.files.add(p.needs!.file);
  }
  return missingConsent(plan, consent);
}

/** A summary line a run: what several scenarios print after their runs. */
function summaryTable(done: Finished[], check: boolean): string {
  const width = Math.min(48, Math.max(...done.map((d) => d.loaded.scenario.name.length)));
  const rows = done.map(({ loaded, result, expectation }) => {
    const mark = check ? (expectation?.met ? '✓ met    ' : '✗ NOT MET') : result.outcome === 'pass' ? '✓ passed ' : result.outcome === 'fail' ? '✗ failed ' : '✗ error  ';
    const name = loaded.scenario.name.length > width ? `${loaded.scenario.name.slice(0, width - 1)}…` : loaded.scenario.name.padEnd(width);
    return `${mark}  ${name}  ${result.diagnoses.join(', ') || '—'}`;
  });
  const ok = done.filter((d) => (check ? d.expectation?.met : d.result.outcome === 'pass')).length;
  return `\nSummary: ${ok} of ${done.length} ${check ? 'as expected' : 'passed'}\n${rows.join('\n')}\n`;
}

export async function run(argv: string[], io: Io): Promise<number> {
  let values: { 'redirect-uri'?: string; json: boolean; check: boolean; transcript?: string; report?: string; junit?: string; 'allow-env'?: string[]; 'allow-all-env': boolean; 'allow-file'?: string[]; 'allow-outside': boolean; 'save-refresh-token': boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        check: { type: 'boolean', default: false },
        transcript: { type: 'string' },
        report: { type: 'string' },
        junit: { type: 'string' },
        'allow-env': { type: 'string', multiple: true },
        'allow-all-env': { type: 'boolean', default: false },
        'allow-file': { type: 'string', multiple: true },
        'allow-outside': { type: 'boolean', default: false },
        'redirect-uri': { type: 'string' },
        'save-refresh-token': { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    io.stderr(`harness run: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (positionals.length === 0) {
    io.stderr(`harness run: give one or more scenario files or folders\n${USAGE}`);
    return 2;
  }

  const consent: Consent = {
    env: values['allow-all-env'] ? 'all' : new Set((values['allow-env'] ?? []).flatMap((n) => n.split(',')).map((n) => n.trim()).filter(Boolean)),
    // Compared by real path, so any spelling of the file the person allowed matches.
    files: new Set(await Promise.all((values['allow-file'] ?? []).map((f) => realpath(resolve(f)).catch(() => resolve(f))))),
    outside: values['allow-outside'],
  };
  // Every file is read and checked, and its secrets allowed, before anything runs: bad input
  // or a secret without consent stops the whole command before anything is sent.
  const loaded: Loaded[] = [];
  try {
    for (const file of await scenarioFiles(positionals)) {
      try {
        const { scenario, baseDir } = await loadScenario(file);
        if (values.check && !scenario.expect) throw new ScenarioError('--check needs an "expect" block');
        const plan = await planSecrets(scenario, baseDir);
        const missing = await gather(plan, consent, io);
        if (missing.length) throw consentRefusal(missing);
        loaded.push({ file, scenario, baseDir, plan, raw: JSON.parse(await readFile(file, 'utf8')) });
      } catch (err) {
        if (err instanceof ScenarioError) throw new ScenarioError(`${file}: ${err.message}`);
        throw err;
      }
    }
  } catch (err) {
    if (err instanceof ScenarioError) {
      io.stderr(`harness run: ${err.message}\n`);
      return 2;
    }
    throw err;
  }

  const redirectUri = values['redirect-uri'];
  if (redirectUri !== undefined) {
    const fixed = parseLoopbackRedirect(redirectUri);
    const why = typeof fixed === 'string' ? fixed : loaded.some((l) => isAuthorizationCode(l.scenario)) ? null : '--redirect-uri applies to authorization-code scenarios only';
    if (why) {
      io.stderr(`harness run: --redirect-uri: ${why}\n`);
      return 2;
    }
  }

  const done: Finished[] = [];
  for (const item of loaded) {
    const { scenario, baseDir, file } = item;
    const recorder = new TranscriptRecorder();
    // Which secret goes where, before anything is sent. Names and sources only, never values.
    const disclosed = item.plan.map(({ name, source, to }) => ({ name, source, to }));
    if (values.json) {
      if (disclosed.length) io.stdout(`${JSON.stringify({ type: 'scenario.secrets', secrets: disclosed })}\n`);
    } else {
      io.stdout(`${done.length ? '\n' : ''}Scenario: ${printable(scenario.name)}${scenario.description ? `\n  ${printable(scenario.description)}` : ''}\n`);
      if (disclosed.length) io.stdout(`Secrets this run sends:\n${disclosed.map((d) => `  ${d.name} (${d.source}) → ${d.to.join(', ')}\n`).join('')}`);
    }
    let result: ScenarioRunResult;
    let printer = new StepPrinter((s) => io.stdout(s), 'flow');
    try {
      result = await runScenario(scenario, {
        baseDir,
        consent,
        onEvent: (msg) => {
          recorder.record(msg);
          if (values.json) io.stdout(`${JSON.stringify(jsonLine(msg))}\n`);
          else if (msg.type === 'check.started') io.stdout(checkHeading(scenario, msg.target));
          else if (msg.type === 'check.case') io.stdout(caseLine(checkMode(scenario), msg.result));
          else if (msg.type === 'check.finished') io.stdout(finishedText(checkMode(scenario), msg.report));
          else if (msg.type === 'run.started') {
            printer = new StepPrinter((s) => io.stdout(s), msg.kind);
            io.stdout(`${msg.kind === 'probe' ? 'Probe' : msg.kind === 'flow' ? 'Flow' : 'Inbound client of'} ${msg.target}\n`);
          } else if (msg.type === 'step') printer.step(msg.step);
          else if (msg.type === 'run.finished') {
            printer.end();
            io.stdout(formatFinished(msg.outcome, msg.diagnoses, msg.durationMs));
          }
        },
        ...(redirectUri !== undefined ? { redirectUri } : {}),
        onAuthorizationUrl: (url) => io.stderr(`Open this URL in a browser to sign in (waiting for the redirect):\n  ${url}\n`),
        onNote: (note) => io.stderr(`note: ${printable(note)}\n`),
        saveRefreshToken: values['save-refresh-token'],
      });
    } catch (err) {
      if (err instanceof ScenarioError) {
        io.stderr(`harness run: ${file}: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
    const expectation = values.check ? checkExpect(scenario, result) : null;
    if (result.check && result.outcome !== 'pass' && !values.json) io.stderr(`harness run: ${file}: grade ${result.check.report.grade ?? 'none'} is below the required ${result.check.require}\n`);
    if (expectation) io.stderr(`${expectation.ok ? 'expectation met' : 'EXPECTATION NOT MET'}: ${expectation.message}\n`);
    const met = expectation ? { met: expectation.ok, message: expectation.message } : null;
    const entries: ReportEntry[] = result.check
      ? checkReportEntries(result.check.report, {
          name: scenario.name, require: result.check.require, environment: runEnvironment(), recordedBy: 'cli', kind: result.check.mode === 'jwt' ? 'flow' : 'probe', scenario: item.raw,
          ...(met && scenario.expect?.diagnoses ? { expectedNotEnforced: scenario.expect.diagnoses } : {}),
        })
      : [{ transcript: recorder.transcript(scenario.name, { scenario: item.raw }), ...(met ? { expectation: met } : {}) }];
    // With --check, the scenario's own expectation judges its grade.
    if (result.check && met) entries[entries.length - 1] = { ...entries.at(-1)!, expectation: met };
    done.push({ loaded: item, result, entries, expectation: met });
  }

  if (done.length > 1 && !values.json) io.stdout(summaryTable(done, values.check));
  let written = true;
  const entries = done.flatMap((d) => d.entries);
  // A server check's transcripts are its cases' (the grade is no run): one file only when there is one run.
  const transcripts = done.flatMap((d) => (d.result.check ? d.entries.slice(0, -1) : d.entries)).map((e) => e.transcript);
  if (values.transcript) {
    if (transcripts.length === 1) written &&= await writeOutput(io, 'Transcript', values.transcript, `${JSON.stringify(transcripts[0]!, null, 2)}\n`);
    else {
      for (const t of transcripts) written &&= await writeOutput(io, '', join(values.transcript, transcriptFileName(t)), `${JSON.stringify(t, null, 2)}\n`);
      if (written) io.stderr(`${transcripts.length} transcripts written to ${values.transcript}\n`);
    }
  }
  if (values.report) written &&= await writeOutput(io, 'Report', values.report, renderHtmlReport(entries));
  if (values.junit) written &&= await writeOutput(io, 'JUnit XML', values.junit, renderJunit(entries));
  if (!written) return 2;
  const ok = done.every((d) => (values.check ? d.expectation?.met : d.result.outcome === 'pass'));
  return ok ? 0 : 1;
}

function isAuthorizationCode(scenario: Scenario): boolean {
  return scenario.kind === 'flow' && (scenario.request as { kind?: unknown } | null)?.kind === 'authorization-code';
}
