// The mTLS probe: inputs → DNS → TCP → TLS → request → response → verdict, each a step
// event sent the moment it starts and again when it ends. The TLS step reports what the wire
// tap saw (CertificateRequest, acceptable CA names, both chains as sent); verification of the
// server is judged here so the chain can be shown even when it fails.
import { HarnessError } from '../../shared/errors.ts';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import type { DetailsOf, Diagnosis, ProbeRequest, ProbeStep, ProbeTlsDetails, RunOutcome, Step, StepStatus } from '../../shared/protocol/index.ts';
import { diagnosis, type DiagnosisCode } from '../../shared/diagnoses.ts';
import { classifyFailure, classifyServerVerification, type FailureSignals } from '../../shared/diagnose.ts';
import { redactHeaders, redactUrl } from '../../shared/redact.ts';
import { curlCommand, opensslCommand } from '../../shared/reproduce.ts';
import type { Limits } from '../defaults.ts';
import type { ContextHold } from '../net/tls-contexts.ts';
import { CancelledError, connectTcp, handshakeTls, hostnameOf, oneLineDn, PhaseError, resolveHost, trustFor, wireSignals, type Handshake, type LabTrust } from '../net/dial.ts';
import { exchange, requestHeaders, type HttpResult, type OutgoingRequest } from '../net/http-exchange.ts';
import { formatBody } from '../../shared/format-body.ts';
import { checkUrlAllowed, LOCAL_POLICY, OutboundRefused, type OutboundPolicy } from '../net/outbound-guard.ts';
import type { TlsObservation } from '../tls/tap.ts';
import { StepRecorder, type OpenStep, type PlannedStep } from '../run/recorder.ts';
import { afterThisRead, yourTurn, type Owner } from '../net/fair-share.ts';
import { checkCaBundle, checkClient, checkUrl } from '../run/inputs.ts';
import { preflightAcceptance, untrustedAcceptance, wireDetails } from './tls-findings.ts';

interface ProbeContext {
  limits: Limits;
  /** The lab's server CA, trusted for lab targets unless the request says otherwise. */
  lab?: LabTrust;
  /** Which targets may be reached (hosted mode refuses private addresses). Default: local. */
  policy?: OutboundPolicy;
  signal?: AbortSignal;
  /** Keeps the TLS context after the run (a server check's cached case certificates). */
  tlsContextHold?: ContextHold;
  /** Whose run it is, for the fair share of the event loop (the session); default: nobody's in particular. */
  owner?: Owner;
  onStep(step: Step): void;
}

export interface ProbeResult {
  outcome: RunOutcome;
  diagnoses: string[];
  durationMs: number;
  steps: ProbeStep[];
}

/** Probe steps that end within this time are sent once, finished (see StepRecorder). */
const RUNNING_NOTICE_MS = 30;

/** The connection's steps after the inputs; skipped when a run ends before reaching them. */
const LATER_STEPS: readonly PlannedStep[] = [
  ['dns', 'dns', 'DNS'], ['tcp', 'tcp', 'TCP'], ['tls', 'tls', 'TLS'], ['request', 'request', 'Request'], ['response', 'response', 'Response'],
];

function portOf(url: URL): number {
  return Number(url.port || 443);
}

export async function runProbe(req: ProbeRequest, ctx: ProbeContext): Promise<ProbeResult> {
  return new ProbeRun(req, ctx).run();
}

/** Thrown to end the probe at a step once its verdict is sent; run() returns the result it carries. */
class ProbeStopped extends HarnessError<'probe_stopped'> {
  readonly result: ProbeResult;
  constructor(result: ProbeResult) {
    super('probe_stopped', 'probe stopped');
    this.result = result;
  }
}

/** What the Inputs step hands on: the target and the client credentials, checked. */
interface ProbeInputs {
  url: URL;
  policy: OutboundPolicy;
  client: Awaited<ReturnType<typeof checkClient>>;
  /** The CA bundle the user gave, as PEM blocks (empty: the system store or the lab's CA). */
  cas: string[];
}

/** A completed handshake and what the TLS step said about it. */
interface Connected {
  conn: Handshake;
  wire: TlsObservation;
  servername: string | undefined;
  /** The TLS step's summary and diagnosis: a passing run may amend them with a finding. */
  tlsSummary: string;
  tlsDiagnosis: Diagnosis | undefined;
}

/**
 * One probe: each phase is a method that reports its step and returns what the next needs, or
 * ends the run with its verdict. The request may leave before the TLS step is reported (see
 * #send); #requestSent bridges that.
 */
class ProbeRun {
  readonly #req: ProbeRequest;
  readonly #ctx: ProbeContext;
  /** Whose run it is, for the fair share (nobody's in particular unless the context says). */
  readonly #owner: Owner;
  readonly #t0 = performance.now();
  readonly #rec: StepRecorder;
  readonly #secretNames: readonly string[];
  /** Set once the URL is read: the copied commands trust the lab CA for it as the run did. */
  #url: URL | undefined;
  /** The client chain as checked (empty without a certificate): the openssl command sends as many. */
  #clientChain: X509Certificate[] = [];
  #socket: net.Socket | undefined;
  #conn: Handshake | undefined;
  /** What a failure's diagnosis knows besides its error: our certificate, then what the wire showed. */
  readonly #signals: Partial<FailureSignals> = {};
  /** When the request left, if before its step was reported; else what to do once it leaves. */
  #sentEarlyAt: number | undefined;
  #onSent: ((at?: number) => void) | undefined;
  #responseStep: OpenStep | undefined;
  /** The request as it goes, and the exchange under way (set once the server's certificate allows sending). */
  #outgoing: OutgoingRequest | undefined;
  #exchanged: Promise<HttpResult> | undefined;
  #requestStartedAt = 0;
  /** The reproducing commands, made while the server works on its answer (#reproduce). */
  #commands: { curl: string; openssl: string } | undefined;
  /** The DNS lookup started while the inputs were checked (#lookUpEarly). */
  #lookup: { resolved: ReturnType<typeof resolveHost>; startedAt: number } | undefined;

  constructor(req: ProbeRequest, ctx: ProbeContext) {
    this.#req = req;
    this.#ctx = ctx;
    this.#owner = ctx.owner ?? '';
    this.#rec = new StepRecorder(ctx.onStep, this.#t0, { runningNoticeMs: RUNNING_NOTICE_MS });
    this.#rec.plan(LATER_STEPS);
    this.#secretNames = req.secretNames ?? [];
  }

  async run(): Promise<ProbeResult> {
    let inputs: ProbeInputs;
    try {
      inputs = await this.#inputs();
    } catch (err) {
      if (err instanceof ProbeStopped) return err.result;
      throw err;
    }
    try {
      const connected = await this.#connect(inputs);
      return await this.#requestAndResponse(inputs, connected);
    } catch (err) {
      if (err instanceof ProbeStopped) return err.result;
      if (err instanceof CancelledError || this.#ctx.signal?.aborted) return this.#cancelled();
      throw err;
    }
  }

  /** The Inputs step: URL, client certificate and key, CA bundle, outbound guard. */
  async #inputs(): Promise<ProbeInputs> {
    const req = this.#req;
    const ctx = this.#ctx;
    const rec = this.#rec;
    const urlCheck = checkUrl(req.url);
    if ('url' in urlCheck) this.#url = urlCheck.url;
    const inputs = rec.start('inputs', 'inputs', 'Inputs');
    // The browser has its answer (the run started); under load the work waits its turn, so the
    // relay reads whatever else arrived first and a burst of runs all start at once.
    await afterThisRead(this.#owner);
    if (ctx.signal?.aborted) throw new ProbeStopped(this.#cancelled());
    // Looked up from here, once the run has its turn: starting a lookup takes a tenth of a
    // millisecond, which a burst of runs read together would otherwise pay before the last of
    // them is announced. It still overlaps the checks below.
    const refused = 'url' in urlCheck ? this.#lookUpEarly(urlCheck.url) : undefined;
    const client = await checkClient(req.client);
    this.#clientChain = client.chain;
    const ca = checkCaBundle(req.caPem);
    const problems = [...('problem' in urlCheck ? [urlCheck.problem] : []), ...client.problems, ...(ca.problem ? [ca.problem] : [])];
    const fatal = problems.filter((p) => p.fatal);
    const inputDetails = { ...client.details, problems: problems.map((p) => ({ code: p.code, message: p.message })) };
    if (fatal.length || !('url' in urlCheck)) {
      const d = diagnosis('input_invalid', fatal.map((p) => `${p.code}: ${p.message}`), fatal[0]?.message);
      inputs.finish('fail', { summary: fatal[0]?.message ?? 'invalid input', details: inputDetails, diagnosis: d });
      this.#stop('fail', d.summary, 'input_invalid');
    }
    const url = urlCheck.url;
    const policy = ctx.policy ?? LOCAL_POLICY;
    if (refused) {
      const d = diagnosis(refused.code, [refused.message]);
      inputs.finish('fail', { summary: refused.message, details: inputDetails, diagnosis: d });
      this.#stop('fail', d.summary, refused.code);
    }
    const leaf = client.chain[0];
    inputs.finish(problems.length ? 'warn' : 'ok', {
      summary: leaf
        ? `${oneLineDn(leaf.subject)} · ${client.details.keyType ?? ''} · ${problems.length ? problems.map((p) => p.message).join('; ') : 'key matches certificate · clientAuth · valid'}`
        : 'no client certificate',
      details: inputDetails,
    });
    Object.assign(this.#signals, {
      clientCertSent: !!leaf,
      clientChainLength: client.chain.length,
      clientNotBefore: leaf ? Date.parse(leaf.validFrom) : undefined,
      clientNotAfter: leaf ? Date.parse(leaf.validTo) : undefined,
      // nginx answers a wrong EKU with a generic 400; the certificate itself says which case it is.
      clientCertClientAuth: leaf ? !client.problems.some((p) => p.code === 'eku_missing_client_auth') : undefined,
    } satisfies Partial<FailureSignals>);
    return { url, policy, client, cas: ca.cas };
  }

  /**
   * Starts the DNS lookup of a URL the outbound guard allows while the rest of the inputs are
   * checked: a name's lookup waits on a thread-pool round trip that costs a probe nothing when it
   * overlaps them. The DNS step reports it from when it began; a run stopped at its inputs drops it.
   * Returns the outbound guard's refusal, which the inputs step reports (nothing is looked up).
   */
  #lookUpEarly(url: URL): OutboundRefused | undefined {
    const policy = this.#ctx.policy ?? LOCAL_POLICY;
    try {
      checkUrlAllowed(url, policy);
    } catch (err) {
      if (!(err instanceof OutboundRefused)) throw err;
      return err;
    }
    const { limits, signal } = this.#ctx;
    const startedAt = performance.now();
    const resolved = resolveHost(hostnameOf(url), limits, signal, policy, portOf(url));
    resolved.catch(() => {}); // awaited by the DNS step; a run stopped at its inputs never asks
    this.#lookup = { resolved, startedAt };
    return undefined;
  }

  /** The DNS, TCP and TLS steps; with the server's certificate verified, the request leaves at once. */
  async #connect(inputs: ProbeInputs): Promise<Connected> {
    const { url, policy, client, cas } = inputs;
    const { limits, signal } = this.#ctx;
    const rec = this.#rec;
    const hostname = hostnameOf(url);
    const port = portOf(url);

    const lookup = this.#lookup;
    const dnsStep = rec.start('dns', 'dns', 'DNS', undefined, lookup?.startedAt);
    const resolved = await this.#phase(dnsStep, () => lookup?.resolved ?? resolveHost(hostname, limits, signal, policy, port));
    dnsStep.finish('ok', { summary: resolved.literal ? `${hostname} is an IP address` : `${hostname} → ${resolved.all.join(', ')}`, details: { addresses: resolved.all } });

    const endpoint = `${resolved.family === 6 ? `[${resolved.address}]` : resolved.address}:${port}`;
    const tcpStep = rec.start('tcp', 'tcp', 'TCP', endpoint);
    const socket = await this.#phase(tcpStep, () => connectTcp(resolved.address, port, resolved.family, limits, signal), { endpoint });
    this.#socket = socket;
    tcpStep.finish('ok', { summary: `connected to ${endpoint}`, details: { localPort: socket.localPort } });

    // TLS is set up once TCP has connected: set up meanwhile, its CPU would delay the connect
    // event and show up as TCP time (6 ms of "TCP" on loopback, with the lab in-process). Its
    // setting up (a millisecond or so: the context, the ClientHello) waits its turn like the
    // inputs: a hundred runs connecting together would otherwise keep the relay from reading
    // anyone's frames for as long as all of theirs take.
    await yourTurn(this.#owner);
    if (signal?.aborted) throw new CancelledError();
    const tlsStep = rec.start('tls', 'tls', 'TLS handshake');
    const trust = trustFor(url, cas, this.#ctx.lab, this.#req.trustLab !== false);
    const servername = net.isIP(hostname) ? undefined : hostname;
    const leaf = client.chain[0];
    let conn: Handshake;
    try {
      conn = await handshakeTls(socket, {
        servername,
        ca: trust.ca,
        ...(leaf && client.key ? { certificatePem: this.#req.client!.certificatePem, privateKeyPem: client.key } : {}),
        ...(this.#ctx.tlsContextHold ? { hold: this.#ctx.tlsContextHold } : {}),
        owner: this.#owner,
        // The server's verdict on its certificate is known at secureConnect. When the request
        // may go, it goes then: reading the wire and building the TLS report happen while the
        // server works on its answer instead of before the request leaves.
        onSecure: (tlsSocket, lateError) => {
          if (tlsSocket.authorized || this.#req.verifyServer === false) this.#send(inputs, tlsSocket, lateError);
        },
      }, hostname, limits, signal, this.#signals);
    } catch (err) {
      if (!(err instanceof PhaseError)) throw err;
      const failedWire = err.wire;
      // TLS 1.2 servers reject before secureConnect, but the CertificateRequest was already read.
      const preflight = leaf && failedWire ? preflightAcceptance(client.chain, failedWire) : undefined;
      if (preflight) rec.keep(preflight);
      this.#fail(tlsStep, { ...err.signals, ...(preflight ? { clientChainReachesAcceptableCA: false } : {}) }, wireDetails(failedWire));
    }
    this.#conn = conn;
    const sending = this.#exchanged !== undefined;
    // Over the wire tap, TLS sends nothing more until the write of its last handshake flight is
    // completed, which Node's JS stream socket does in a setImmediate; the request is encrypted
    // and leaves then. Reading the wire first would hold it back by as long as the reading takes.
    if (sending) await new Promise<void>((ok) => setImmediate(ok));
    // Reading the wire and building the report (a millisecond or two) can wait its turn too.
    await yourTurn(this.#owner);
    return { conn, servername, ...this.#reportTls(tlsStep, inputs, conn, trust.label, servername, sending) };
  }

  /** Runs one connection phase; a PhaseError fails its step and ends the run. */
  async #phase<T, P extends 'dns' | 'tcp'>(step: OpenStep<P>, work: () => Promise<T>, details: DetailsOf<P> = {}): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof PhaseError) this.#fail(step, err.signals, details);
      throw err;
    }
  }

  /**
   * Starts the HTTP exchange at secureConnect (see onSecure); its outcome is awaited by
   * #requestAndResponse. http writes the request on the next tick, before the promise reactions
   * that go on to report the TLS step.
   */
  #send(inputs: ProbeInputs, socket: TLSSocket, lateError: () => Error | undefined): void {
    const { limits, signal } = this.#ctx;
    this.#requestStartedAt = performance.now();
    const req = this.#req;
    this.#outgoing = { method: req.method ?? 'GET', url: inputs.url, headers: req.headers ?? {}, ...(req.body !== undefined ? { body: req.body } : {}) };
    this.#exchanged = exchange(socket, this.#outgoing, limits, signal, this.#t0, lateError, this.#signals, {
      onSent: () => (this.#onSent ? this.#onSent() : (this.#sentEarlyAt = performance.now())),
    });
    this.#exchanged.catch(() => {}); // awaited later; this only stops an early failure counting as unhandled
  }

  /** Finishes the TLS step: what was negotiated, what the tap saw, the pre-flight and the server's verification. */
  #reportTls(tlsStep: OpenStep, inputs: ProbeInputs, conn: Handshake, trustLabel: string, servername: string | undefined, sending: boolean): Pick<Connected, 'wire' | 'tlsSummary' | 'tlsDiagnosis'> {
    const { client } = inputs;
    const leaf = client.chain[0];
    const base = this.#signals;
    const wire = conn.wire();
    Object.assign(base, wireSignals(wire));
    const serverChain = conn.serverChain();
    const tlsDetails: ProbeTlsDetails = {
      protocol: conn.protocol,
      cipher: conn.cipher,
      group: conn.group,
      alpn: conn.alpn,
      sessionReused: conn.sessionReused,
      servername: servername ?? null,
      ...wireDetails(wire),
      serverChain,
      serverVerified: !conn.verifyError,
      serverVerifyError: conn.verifyError,
      trust: trustLabel,
      clientCertificateSent: base.clientCertSent,
      sentChain: client.chain.map((c) => oneLineDn(c.subject)),
    };
    const tlsTitle = conn.protocol?.replace('v', ' ') ?? 'TLS';
    const sentWhat = leaf ? `sent ${client.chain.length} certificate${client.chain.length > 1 ? 's' : ''}` : 'no client certificate sent';
    const asked = wire.certificateRequested ? 'server asked for a client certificate' : 'server did not ask for a client certificate';
    let tlsSummary = `${conn.cipher}${conn.group ? ` · ${conn.group}` : ''} · ${asked} · ${sentWhat}`;
    let tlsStatus: Exclude<StepStatus, 'running'> = 'ok';
    let tlsDiagnosis;

    // Pre-flight: the server named the CAs it accepts; does our chain reach one of them?
    if (leaf && wire.certificateRequested && wire.acceptableCAs.length) {
      const preflight = preflightAcceptance(client.chain, wire);
      tlsDetails.chainReachesAcceptableCA = !preflight;
      base.clientChainReachesAcceptableCA = !preflight;
      if (preflight) {
        tlsStatus = 'warn';
        tlsDiagnosis = preflight;
        tlsSummary += ' · issuer not among the acceptable CAs';
      }
    }
    if (conn.verifyError) {
      const code = classifyServerVerification(conn.verifyError);
      const d = diagnosis(code, [`server verification: ${conn.verifyError}`, `server sent: ${serverChain.map((c) => c.subject).join(' ← ')}`]);
      if (!sending) {
        tlsStep.finish('fail', { title: tlsTitle, summary: d.summary, details: tlsDetails, diagnosis: d }, conn.endedAt);
        this.#rec.skipUnreached('not reached');
        this.#stop('fail', d.summary, code);
      }
      tlsStatus = 'warn';
      tlsDiagnosis ??= d;
      tlsSummary += ` · server not verified (${conn.verifyError})`;
    }
    tlsStep.finish(tlsStatus, { title: tlsTitle, summary: tlsSummary, details: tlsDetails, ...(tlsDiagnosis ? { diagnosis: tlsDiagnosis } : {}) }, conn.endedAt);
    return { wire, tlsSummary, tlsDiagnosis };
  }

  /** The Request and Response steps, then the verdict. */
  async #requestAndResponse(inputs: ProbeInputs, connected: Connected): Promise<ProbeResult> {
    const { url } = inputs;
    const method = this.#req.method ?? 'GET';
    const path = `${url.pathname}${url.search}`;
    const secretNames = this.#secretNames;
    const reqStep = this.#rec.start('request', 'request', 'Request', `${method} ${redactUrl(path, secretNames)}`, this.#requestStartedAt);
    this.#onSent = (at = performance.now()) => {
      reqStep.finish('ok', { details: { method, path: redactUrl(path, secretNames), headers: redactHeaders(requestHeaders(this.#outgoing!), secretNames), bodyBytes: this.#req.body ? Buffer.byteLength(this.#req.body) : 0 } }, at);
      this.#responseStep = this.#rec.start('response', 'response', 'Response', 'waiting for headers', at);
    };
    if (this.#sentEarlyAt !== undefined) this.#onSent(this.#sentEarlyAt);
    this.#reproduce(); // while the server works on its answer
    let result: HttpResult;
    try {
      result = await this.#exchanged!;
    } catch (err) {
      if (!(err instanceof PhaseError)) throw err;
      return this.#exchangeFailed(err, reqStep);
    }
    return this.#judgeResponse(inputs, connected, result);
  }

  /** No HTTP answer: a TLS 1.3 refusal of our certificate belongs to the TLS step, anything else to the step that was open. */
  #exchangeFailed(err: PhaseError, reqStep: OpenStep): ProbeResult {
    const rec = this.#rec;
    const respStep = this.#responseStep;
    const { code, evidence } = classifyFailure({ ...err.signals, ...this.#signals });
    const d = diagnosis(code, evidence);
    const errorDetails = { error: err.signals.errorMessage, errorCode: err.signals.errorCode };
    if (code.startsWith('client_') || code === 'tls_handshake_failed' || code === 'tls_version_mismatch') {
      // A TLS 1.3 server judges our certificate after our secureConnect: the handshake was
      // not really accepted, so the TLS step takes the failure.
      rec.amend('tls', 'fail', { summary: d.summary, diagnosis: d, details: errorDetails });
      if (rec.get('request')?.status === 'running') reqStep.finish('skipped', { summary: 'the server closed the connection' });
      if (respStep) respStep.finish('skipped', { summary: 'no response' });
      else rec.skip('response', 'response', 'Response', 'no response');
    } else {
      const open = respStep ?? (rec.get('request')?.status === 'running' ? reqStep : rec.start('response', 'response', 'Response'));
      open.finish('fail', { summary: d.summary, diagnosis: d, details: errorDetails });
      if (!rec.get('response')) rec.skip('response', 'response', 'Response', 'no response');
    }
    return this.#verdict('fail', d.summary, code);
  }

  /** The Response step and the verdict: a status below 400 passes, unless the server trusted what it should not have. */
  #judgeResponse(inputs: ProbeInputs, connected: Connected, result: HttpResult): ProbeResult {
    const { limits } = this.#ctx;
    const { client } = inputs;
    const { conn, wire, tlsSummary, tlsDiagnosis } = connected;
    const leaf = client.chain[0];
    const secretNames = this.#secretNames;
    const rec = this.#rec;
    const contentType = String(result.headers['content-type'] ?? '');
    const shown = formatBody(result.body, contentType, limits.maxResponseBodyBytes, secretNames);
    const details = {
      status: result.status,
      headers: redactHeaders(result.headers as Record<string, string | string[]>, secretNames),
      body: shown.text,
      ...(shown.note ? { bodyNote: shown.note } : {}),
      bodyBytes: result.bytes,
      truncated: result.truncated,
      timings: { requestSentMs: result.sentMs, headersMs: result.headersMs, firstByteMs: result.firstByteMs, endMs: result.endMs },
    };
    const open = this.#responseStep ?? rec.start('response', 'response', 'Response');
    if (result.status < 400) {
      open.finish('ok', { title: `HTTP ${result.status}`, summary: `${contentType || 'no content type'} · ${result.bytes} bytes`, details });
      const passed = `HTTP ${result.status} over ${conn.protocol} with ${leaf ? 'the client certificate accepted' : 'no client certificate'}`;
      const finding = wire.certificateRequested ? untrustedAcceptance(client.chain, client.problems, tlsDiagnosis?.code === 'client_ca_not_acceptable' ? tlsDiagnosis : undefined) : undefined;
      if (!finding) return this.#verdict('pass', passed);
      // details.untrustedAccepted: a screen showing the pre-flight warning shows the finding instead.
      rec.amend('tls', 'warn', { diagnosis: finding, summary: `${tlsSummary} · the server accepted a certificate it should not trust`, details: { untrustedAccepted: true } }, { replace: true });
      return this.#verdict('pass', `${passed} — but the server should not have trusted it: it does not enforce client-certificate verification`, 'server_accepts_untrusted_client_cert');
    }
    const { code, evidence } = classifyFailure({ phase: 'response', ...this.#signals, handshakeComplete: true, httpStatus: result.status, httpBody: result.body, httpHeaders: result.headers as FailureSignals['httpHeaders'] });
    const d = diagnosis(code, evidence);
    // nginx answers certificate problems in HTTP: show them on the TLS step too.
    if (code.startsWith('client_cert')) rec.amend('tls', 'fail', { diagnosis: d, summary: d.summary });
    open.finish('fail', { title: `HTTP ${result.status}`, summary: d.summary, details, diagnosis: d });
    return this.#verdict('fail', d.summary, code);
  }

  /** Fails `open` with the diagnosis of a connection failure, skips the rest and ends the run. */
  #fail<P extends 'dns' | 'tcp' | 'tls'>(open: OpenStep<P>, signals: FailureSignals, details: DetailsOf<P> = {}): never {
    const { code, evidence } = classifyFailure(signals);
    const d = diagnosis(code, evidence);
    open.finish('fail', { summary: d.summary, diagnosis: d, details: { ...details, error: signals.errorMessage, errorCode: signals.errorCode } });
    this.#rec.skipUnreached('not reached');
    this.#stop('fail', d.summary, code);
  }

  #stop(outcome: RunOutcome, summary: string, code?: DiagnosisCode): never {
    throw new ProbeStopped(this.#verdict(outcome, summary, code));
  }

  /** The Verdict step, with the curl and openssl commands that reproduce the run. */
  #verdict(outcome: RunOutcome, summary: string, code?: DiagnosisCode): ProbeResult {
    const v = this.#rec.start('verdict', 'verdict', outcome === 'pass' ? 'Verdict: pass' : 'Verdict: fail');
    const reproduce = this.#reproduce();
    v.finish(outcome === 'pass' ? 'ok' : 'fail', { summary, details: { ...(code ? { diagnosis: code } : {}), reproduce, totalMs: this.#rec.elapsed() } });
    return this.#finish(outcome);
  }

  #cancelled(): ProbeResult {
    this.#rec.skipRunning('cancelled');
    return this.#finish('error');
  }

  /** The curl and openssl commands that reproduce the run: what was asked, not what came back. */
  #reproduce(): { curl: string; openssl: string } {
    if (this.#commands) return this.#commands;
    const req = this.#req;
    // When the lab's CA was trusted implicitly, the copied command needs it as ca.pem.
    const labCaPem = this.#url ? trustFor(this.#url, [], this.#ctx.lab, req.trustLab !== false).labCaPem : undefined;
    const asRun = !req.caPem && labCaPem ? { ...req, caPem: labCaPem } : req;
    this.#commands = { curl: curlCommand(asRun), openssl: opensslCommand(asRun, { clientChainLength: this.#clientChain.length }) };
    return this.#commands;
  }

  #finish(outcome: RunOutcome): ProbeResult {
    // Closed once the result has gone (the run's end is sent first; the connection is done with).
    const sockets = [this.#conn?.socket, this.#socket];
    setImmediate(() => { for (const s of sockets) s?.destroy(); });
    const rec = this.#rec;
    return { outcome, diagnoses: rec.diagnoses().map((d) => d.code), durationMs: rec.elapsed(), steps: rec.steps() as ProbeStep[] };
  }
}
