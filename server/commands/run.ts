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
import '../pki/provider.ts';
import { parseArgs } from 'node:util';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { realpath } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { RunOutcome, ServerMessage, Step } from '../../shared/protocol.ts';
import { flowTarget } from '../../shared/flows/flow-request.ts';
import { redactDeep, redactUrl, scrubDeep, secretValues } from '../../shared/redact.ts';
import { validateLimits } from '../defaults.ts';
import { formatFinished, formatStep } from '../format-steps.ts';
import { startLab, type RunningLab } from '../lab/lab.ts';
import { runProbe } from '../probe/run-probe.ts';
import { runFlow, flowSecrets } from '../flows/run-flow.ts';
import { startCallbackListener } from '../flows/callback-listener.ts';
import { followRedirects } from '../flows/user-agent.ts';
import { checkExpect, loadScenario, needsLab, resolveScenario, ScenarioError, type Scenario } from '../scenarios/scenario.ts';
import { consentRefusal, missingConsent, planSecrets, printable, type PlannedSecret, type SecretConsent } from '../scenarios/consent.ts';
import { defaultLabDir } from '../lab/lab-dir.ts';
import { runInboundScenario } from '../scenarios/inbound-run.ts';
import { TranscriptRecorder } from '../transcripts/recorder.ts';
import { transcriptFileName, type Transcript } from '../../shared/transcript/transcript.ts';
import { renderHtmlReport } from '../../shared/transcript/report-html.ts';
import { renderJunit } from '../../shared/transcript/junit.ts';

export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
  /** A yes/no question to the person at the terminal; absent when stdin is not a terminal. */
  ask?(question: string): Promise<boolean>;
}

const USAGE = 'usage: harness run FILE|DIR... [--json] [--check] [--transcript OUT] [--report OUT.html] [--junit OUT.xml] [--allow-env NAME]... [--allow-all-env] [--allow-file PATH]... [--allow-outside]\n';

export interface ScenarioRunOptions {
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
}

export interface ScenarioRunResult {
  outcome: RunOutcome;
  diagnoses: string[];
  durationMs: number;
}

function labTrust(lab: RunningLab) {
  return { serverCaPem: lab.serverCaPem, endpoints: lab.info.targets.map((t) => new URL(t.url).host) };
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
    const limits = validateLimits();
    const runId = 'cli';
    if (resolved.kind === 'probe') {
      const { probe } = resolved;
      const secrets = [...resolved.secrets, ...secretValues({ headers: probe.headers, body: probe.body, url: probe.url, ...(probe.secretNames ? { names: probe.secretNames } : {}), privateKeyPems: probe.client ? [probe.client.privateKeyPem] : [] })];
      const clean = <T>(v: T): T => scrubDeep(redactDeep(v), secrets);
      opts.onEvent(clean({ type: 'run.started', id: 'cli', runId, kind: 'probe', target: redactUrl(probe.url) }));
      const result = await runProbe(probe, { limits, ...(lab ? { lab: labTrust(lab) } : {}), onStep: (step) => opts.onEvent(clean({ type: 'step', runId, step })) });
      opts.onEvent({ type: 'run.finished', runId, outcome: result.outcome, diagnoses: result.diagnoses, durationMs: result.durationMs });
      return result;
    }
    if (resolved.kind === 'inbound') {
      const secrets = [...resolved.secrets, ...secretValues({ privateKeyPems: resolved.client ? [resolved.client.privateKeyPem] : [] })];
      const clean = <T>(v: T): T => scrubDeep(redactDeep(v), secrets);
      return await runInboundScenario(resolved.inbound, resolved.client, { lab, onEvent: (event) => opts.onEvent(clean(event)) });
    }
    const { flow } = resolved;
    const secrets = [...resolved.secrets, ...secretValues({ extra: flowSecrets(flow) })];
    const clean = <T>(v: T): T => scrubDeep(redactDeep(v), secrets);
    const listener = await startCallbackListener();
    try {
      opts.onEvent(clean({ type: 'run.started', id: 'cli', runId, kind: 'flow', target: redactUrl(flowTarget(flow)) }));
      const result = await runFlow(flow, {
        limits,
        relayOrigin: listener.origin,
        callbacks: listener.callbacks,
        lab,
        onStep: (step: Step) => opts.onEvent(clean({ type: 'step', runId, step })),
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
      });
      opts.onEvent({ type: 'run.finished', runId, outcome: result.outcome, diagnoses: result.diagnoses, durationMs: result.durationMs });
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
  transcript: Transcript;
  expectation: { met: boolean; message: string } | null;
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
  let values: { json: boolean; check: boolean; transcript?: string; report?: string; junit?: string; 'allow-env'?: string[]; 'allow-all-env': boolean; 'allow-file'?: string[]; 'allow-outside': boolean };
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
    try {
      result = await runScenario(scenario, {
        baseDir,
        consent,
        onEvent: (msg) => {
          recorder.record(msg);
          if (values.json) io.stdout(`${JSON.stringify(msg)}\n`);
          else if (msg.type === 'run.started') io.stdout(`${msg.kind === 'probe' ? 'Probe' : msg.kind === 'flow' ? 'Flow' : 'Inbound client of'} ${msg.target}\n`);
          else if (msg.type === 'step' && msg.step.status !== 'running') io.stdout(formatStep(msg.step));
          else if (msg.type === 'run.finished') io.stdout(formatFinished(msg.outcome, msg.diagnoses, msg.durationMs));
        },
        onAuthorizationUrl: (url) => io.stderr(`Open this URL in a browser to sign in (waiting for the redirect):\n  ${url}\n`),
      });
    } catch (err) {
      if (err instanceof ScenarioError) {
        io.stderr(`harness run: ${file}: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
    const expectation = values.check ? checkExpect(scenario, result) : null;
    if (expectation) io.stderr(`${expectation.ok ? 'expectation met' : 'EXPECTATION NOT MET'}: ${expectation.message}\n`);
    done.push({ loaded: item, result, transcript: recorder.transcript(scenario.name, { scenario: item.raw }), expectation: expectation ? { met: expectation.ok, message: expectation.message } : null });
  }

  if (done.length > 1 && !values.json) io.stdout(summaryTable(done, values.check));
  let written = true;
  if (values.transcript) {
    if (done.length === 1) written &&= await writeOutput(io, 'Transcript', values.transcript, `${JSON.stringify(done[0]!.transcript, null, 2)}\n`);
    else {
      for (const d of done) written &&= await writeOutput(io, '', join(values.transcript, transcriptFileName(d.transcript)), `${JSON.stringify(d.transcript, null, 2)}\n`);
      if (written) io.stderr(`${done.length} transcripts written to ${values.transcript}\n`);
    }
  }
  const entries = done.map((d) => ({ transcript: d.transcript, ...(d.expectation ? { expectation: d.expectation } : {}) }));
  if (values.report) written &&= await writeOutput(io, 'Report', values.report, renderHtmlReport(entries));
  if (values.junit) written &&= await writeOutput(io, 'JUnit XML', values.junit, renderJunit(entries));
  if (!written) return 2;
  const ok = done.every((d) => (values.check ? d.expectation?.met : d.result.outcome === 'pass'));
  return ok ? 0 : 1;
}
