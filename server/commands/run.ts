// `harness run FILE|DIR... [--json] [--check] [--transcript OUT] [--report OUT.html] [--junit OUT.xml]`:
// runs scenario files headless — probes and token flows — with the same events and exit codes
// as `harness probe` (0 all passed, 1 one ran and failed, 2 bad usage or unreadable input).
// A scenario that names the lab gets one started in-process; an authorization code flow gets a
// loopback redirect endpoint, and against the lab the redirects are followed without a browser.
// --check judges each run by the file's `expect` block instead (for examples and CI). Each run
// can be kept as a transcript, and all of them as one HTML report and JUnit XML (docs/transcripts.md).
import '../pki/provider.ts';
import { parseArgs } from 'node:util';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
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
import { defaultLabDir } from '../lab/lab-dir.ts';
import { TranscriptRecorder } from '../transcripts/recorder.ts';
import { transcriptFileName, type Transcript } from '../../shared/transcript/transcript.ts';
import { renderHtmlReport } from '../../shared/transcript/report-html.ts';
import { renderJunit } from '../../shared/transcript/junit.ts';

export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
}

const USAGE = 'usage: harness run FILE|DIR... [--json] [--check] [--transcript OUT] [--report OUT.html] [--junit OUT.xml]\n';

export interface ScenarioRunOptions {
  baseDir: string;
  /** A lab already running (tests share one); otherwise one is started when the scenario needs it. */
  lab?: RunningLab | null;
  env?: Record<string, string | undefined>;
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
    const resolved = await resolveScenario(scenario, { baseDir: opts.baseDir, lab, ...(opts.env ? { env: opts.env } : {}) });
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
            followRedirects(url, { ca: [lab.serverCaPem] }).catch(() => {});
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
  let values: { json: boolean; check: boolean; transcript?: string; report?: string; junit?: string };
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

  // Every file is read and checked before anything runs: bad input stops the whole command.
  const loaded: Loaded[] = [];
  try {
    for (const file of await scenarioFiles(positionals)) {
      try {
        const { scenario, baseDir } = await loadScenario(file);
        if (values.check && !scenario.expect) throw new ScenarioError('--check needs an "expect" block');
        loaded.push({ file, scenario, baseDir, raw: JSON.parse(await readFile(file, 'utf8')) });
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
    if (!values.json) io.stdout(`${done.length ? '\n' : ''}Scenario: ${scenario.name}${scenario.description ? `\n  ${scenario.description}` : ''}\n`);
    let result: ScenarioRunResult;
    try {
      result = await runScenario(scenario, {
        baseDir,
        onEvent: (msg) => {
          recorder.record(msg);
          if (values.json) io.stdout(`${JSON.stringify(msg)}\n`);
          else if (msg.type === 'run.started') io.stdout(`${msg.kind === 'probe' ? 'Probe' : 'Flow'} ${msg.target}\n`);
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
