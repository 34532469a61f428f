// `harness run FILE [--json] [--check]`: runs a scenario file headless — a probe or a token
// flow — with the same events and exit codes as `harness probe` (0 passed, 1 ran and failed,
// 2 bad usage or unreadable input). A scenario that names the lab gets one started in-process;
// an authorization code flow gets a loopback redirect endpoint, and against the lab the
// redirects are followed without a browser. --check exits 0 when the run matched the file's
// `expect` block instead (for examples and CI).
import '../pki/provider.ts';
import { parseArgs } from 'node:util';
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

export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
}

const USAGE = 'usage: harness run FILE [--json] [--check]\n';

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
      const secrets = [...resolved.secrets, ...secretValues({ headers: probe.headers, body: probe.body, privateKeyPems: probe.client ? [probe.client.privateKeyPem] : [] })];
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

export async function run(argv: string[], io: Io): Promise<number> {
  let values: { json: boolean; check: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean', default: false }, check: { type: 'boolean', default: false } }, strict: true }));
  } catch (err) {
    io.stderr(`harness run: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (positionals.length !== 1) {
    io.stderr(`harness run: give exactly one scenario file\n${USAGE}`);
    return 2;
  }
  const file = positionals[0]!;
  try {
    const { scenario, baseDir } = await loadScenario(file);
    if (!values.json) io.stdout(`Scenario: ${scenario.name}${scenario.description ? `\n  ${scenario.description}` : ''}\n`);
    const result = await runScenario(scenario, {
      baseDir,
      onEvent: (msg) => {
        if (values.json) io.stdout(`${JSON.stringify(msg)}\n`);
        else if (msg.type === 'run.started') io.stdout(`${msg.kind === 'probe' ? 'Probe' : 'Flow'} ${msg.target}\n`);
        else if (msg.type === 'step' && msg.step.status !== 'running') io.stdout(formatStep(msg.step));
        else if (msg.type === 'run.finished') io.stdout(formatFinished(msg.outcome, msg.diagnoses, msg.durationMs));
      },
      onAuthorizationUrl: (url) => io.stderr(`Open this URL in a browser to sign in (waiting for the redirect):\n  ${url}\n`),
    });
    if (values.check) {
      const verdict = checkExpect(scenario, result);
      if (!verdict) {
        io.stderr(`harness run: --check needs an "expect" block in ${file}\n`);
        return 2;
      }
      io.stderr(`${verdict.ok ? 'expectation met' : 'EXPECTATION NOT MET'}: ${verdict.message}\n`);
      return verdict.ok ? 0 : 1;
    }
    return result.outcome === 'pass' ? 0 : 1;
  } catch (err) {
    if (err instanceof ScenarioError) {
      io.stderr(`harness run: ${file}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
