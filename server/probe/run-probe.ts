// The mTLS probe: inputs → DNS → TCP → TLS → request → response → verdict, each a step
// event sent the moment it starts and again when it ends. The TLS step reports what the wire
// tap saw (CertificateRequest, acceptable CA names, both chains as sent); verification of the
// server is judged here so the chain can be shown even when it fails.
import net from 'node:net';
import type { X509Certificate } from 'node:crypto';
import type { DetailsOf, Diagnosis, ProbeRequest, ProbeStep, ProbeTlsDetails, RunOutcome, Step, StepStatus, WireEvidence } from '../../shared/protocol/index.ts';
import { diagnosis, type DiagnosisCode } from '../../shared/diagnoses.ts';
import { classifyFailure, classifyServerVerification, type FailureSignals } from '../../shared/diagnose.ts';
import { redactHeaders, redactUrl } from '../../shared/redact.ts';
import { curlCommand, opensslCommand } from '../../shared/reproduce.ts';
import type { Limits } from '../defaults.ts';
import type { ContextHold } from '../net/tls-contexts.ts';
import { CancelledError, connectTcp, handshakeTls, oneLineDn, PhaseError, resolveHost, trustFor, wireSignals, type Handshake, type LabTrust } from '../net/dial.ts';
import { exchange, requestHeaders } from '../net/http-exchange.ts';
import { formatBody } from '../../shared/format-body.ts';
import { checkUrlAllowed, LOCAL_POLICY, OutboundRefused, type OutboundPolicy } from '../net/outbound-guard.ts';
import type { TlsObservation } from '../tls/tap.ts';
import { StepRecorder, type OpenStep } from '../run/recorder.ts';
import { yourTurn } from '../net/fair-share.ts';
import { checkCaBundle, checkClient, checkUrl, describeAcceptance } from '../run/inputs.ts';

export interface ProbeContext {
  limits: Limits;
  /** The lab's server CA, trusted for lab targets unless the request says otherwise. */
  lab?: LabTrust;
  /** Which targets may be reached (hosted mode refuses private addresses). Default: local. */
  policy?: OutboundPolicy;
  signal?: AbortSignal;
  /** Keeps the TLS context after the run (a server check's cached case certificates). */
  tlsContextHold?: ContextHold;
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

const LATER_STEPS: [string, Step['phase'], string][] = [
  ['dns', 'dns', 'DNS'], ['tcp', 'tcp', 'TCP'], ['tls', 'tls', 'TLS'], ['request', 'request', 'Request'], ['response', 'response', 'Response'],
];

function wireDetails(wire: TlsObservation | undefined): ProbeTlsDetails {
  if (!wire) return {};
  return {
    certificateRequested: wire.certificateRequested,
    acceptableCAs: wire.acceptableCAs,
    signatureAlgorithms: wire.signatureAlgorithms,
    ocspStapled: wire.ocspStapled,
    clientCertificateMessage: wire.clientChainDer === null ? 'none' : `${wire.clientChainDer.length} certificate${wire.clientChainDer.length === 1 ? '' : 's'}`,
    ...(wire.decryptionFailed ? { tapNote: wire.decryptionFailed } : {}),
    ...(wire.alerts.length ? { alertsSeen: wire.alerts.map((a) => `${a.from} ${a.description} ${a.name}`) } : {}),
    ...(wire.parseProblem ? { tapProblem: wire.parseProblem.message } : {}),
  } satisfies ProbeTlsDetails & WireEvidence;
}

/** `client_ca_not_acceptable` when the server listed CA names and the client chain reaches none. */
function preflightAcceptance(chain: X509Certificate[], wire: TlsObservation): Diagnosis | undefined {
  if (!wire.certificateRequested || wire.acceptableCAs.length === 0) return undefined;
  const acceptance = describeAcceptance(chain, wire.acceptableCAs);
  if (acceptance.reaches) return undefined;
  return diagnosis('client_ca_not_acceptable', [`acceptable CA names: ${wire.acceptableCAs.join(' · ')}`, `client chain: ${acceptance.chainNames.join(' ← ')}`]);
}

/** Input problems that say the server should have refused the certificate. */
const SHOULD_REFUSE = new Set(['cert_expired', 'cert_not_yet_valid']);

/**
 * The security finding of a probe that passed with a certificate the harness knows the server
 * should not have trusted: its chain reaches none of the CA names the server sent, it is
 * self-signed, or it is expired or not yet valid. Replaces the pre-flight warning, which
 * predicted a refusal that did not come.
 */
function untrustedAcceptance(chain: X509Certificate[], problems: { code: string; message: string }[], preflight: Diagnosis | undefined): Diagnosis | undefined {
  const leaf = chain[0];
  if (!leaf) return undefined;
  const evidence: string[] = [];
  if (preflight) evidence.push(...preflight.evidence.map((e) => `not among the acceptable CAs: ${e}`));
  if (leaf.subject === leaf.issuer && leaf.verify(leaf.publicKey)) evidence.push(`the client certificate is self-signed (${oneLineDn(leaf.subject)})`);
  for (const p of problems) if (SHOULD_REFUSE.has(p.code)) evidence.push(`${p.code}: ${p.message}`);
  if (!evidence.length) return undefined;
  return diagnosis('server_accepts_untrusted_client_cert', evidence);
}

export async function runProbe(req: ProbeRequest, ctx: ProbeContext): Promise<ProbeResult> {
  const t0 = performance.now();
  const rec = new StepRecorder(ctx.onStep, t0, { runningNoticeMs: RUNNING_NOTICE_MS });
  const { limits, signal } = ctx;
  const secretNames = req.secretNames ?? [];
  let conn: Handshake | undefined;
  let socket: net.Socket | undefined;

  const finish = (outcome: RunOutcome): ProbeResult => {
    conn?.socket.destroy();
    socket?.destroy();
    return { outcome, diagnoses: rec.diagnoses().map((d) => d.code), durationMs: rec.elapsed(), steps: rec.steps() as ProbeStep[] };
  };
  const skipAfter = (id: string) => {
    let after = false;
    for (const [sid, phase, title] of LATER_STEPS) {
      if (after && !rec.get(sid)) rec.skip(sid, phase, title, 'not reached');
      if (sid === id) after = true;
    }
  };
  const verdict = (outcome: RunOutcome, summary: string, code?: DiagnosisCode) => {
    const v = rec.start('verdict', 'verdict', outcome === 'pass' ? 'Verdict: pass' : 'Verdict: fail');
    // When the lab's CA was trusted implicitly, the copied command needs it as ca.pem.
    const labCaPem = 'url' in urlCheck ? trustFor(urlCheck.url, [], ctx.lab, req.trustLab !== false).labCaPem : undefined;
    const asRun = !req.caPem && labCaPem ? { ...req, caPem: labCaPem } : req;
    const reproduce = { curl: curlCommand(asRun), openssl: opensslCommand(asRun, { clientChainLength: client.chain.length }) };
    v.finish(outcome === 'pass' ? 'ok' : 'fail', { summary, details: { ...(code ? { diagnosis: code } : {}), reproduce, totalMs: rec.elapsed() } });
    return finish(outcome);
  };
  const fail = <P extends 'dns' | 'tcp' | 'tls'>(open: OpenStep<P>, signals: FailureSignals, details: DetailsOf<P> = {}) => {
    const { code, evidence } = classifyFailure(signals);
    const d = diagnosis(code, evidence);
    open.finish('fail', { summary: d.summary, diagnosis: d, details: { ...details, error: signals.errorMessage, errorCode: signals.errorCode } });
    skipAfter(open.id);
    return verdict('fail', d.summary, code);
  };
  const cancelled = () => {
    for (const s of rec.steps()) if (s.status === 'running') rec.amend(s.id, 'skipped', { summary: 'cancelled' });
    return finish('error');
  };

  // ---- inputs
  const inputs = rec.start('inputs', 'inputs', 'Inputs');
  // The browser has its answer (the run started); under load the work waits its turn, so the
  // relay reads whatever else arrived first and a burst of runs all start at once.
  await yourTurn();
  if (signal?.aborted) return cancelled();
  const urlCheck = checkUrl(req.url);
  const client = await checkClient(req.client);
  const ca = checkCaBundle(req.caPem);
  const problems = [...('problem' in urlCheck ? [urlCheck.problem] : []), ...client.problems, ...(ca.problem ? [ca.problem] : [])];
  const fatal = problems.filter((p) => p.fatal);
  const inputDetails = { ...client.details, problems: problems.map((p) => ({ code: p.code, message: p.message })) };
  if (fatal.length || !('url' in urlCheck)) {
    const d = diagnosis('input_invalid', fatal.map((p) => `${p.code}: ${p.message}`), fatal[0]?.message);
    inputs.finish('fail', { summary: fatal[0]?.message ?? 'invalid input', details: inputDetails, diagnosis: d });
    skipAfter('inputs');
    return verdict('fail', d.summary, 'input_invalid');
  }
  const url = urlCheck.url;
  const policy = ctx.policy ?? LOCAL_POLICY;
  try {
    checkUrlAllowed(url, policy);
  } catch (err) {
    if (!(err instanceof OutboundRefused)) throw err;
    const d = diagnosis(err.code, [err.message]);
    inputs.finish('fail', { summary: err.message, details: inputDetails, diagnosis: d });
    skipAfter('inputs');
    return verdict('fail', d.summary, err.code);
  }
  const leaf = client.chain[0];
  inputs.finish(problems.length ? 'warn' : 'ok', {
    summary: leaf
      ? `${oneLineDn(leaf.subject)} · ${client.details.keyType ?? ''} · ${problems.length ? problems.map((p) => p.message).join('; ') : 'key matches certificate · clientAuth · valid'}`
      : 'no client certificate',
    details: inputDetails,
  });

  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  const method = req.method ?? 'GET';
  const base: Partial<FailureSignals> = {
    clientCertSent: !!leaf,
    clientChainLength: client.chain.length,
    clientNotBefore: leaf ? Date.parse(leaf.validFrom) : undefined,
    clientNotAfter: leaf ? Date.parse(leaf.validTo) : undefined,
    // nginx answers a wrong EKU with a generic 400; the certificate itself says which case it is.
    clientCertClientAuth: leaf ? !client.problems.some((p) => p.code === 'eku_missing_client_auth') : undefined,
  };

  try {
    // ---- DNS
    const dnsStep = rec.start('dns', 'dns', 'DNS');
    let resolved;
    try {
      resolved = await resolveHost(hostname, limits, signal, policy, port);
    } catch (err) {
      if (err instanceof PhaseError) return fail(dnsStep, err.signals);
      throw err;
    }
    dnsStep.finish('ok', { summary: resolved.literal ? `${hostname} is an IP address` : `${hostname} → ${resolved.all.join(', ')}`, details: { addresses: resolved.all } });

    // ---- TCP
    const endpoint = `${resolved.family === 6 ? `[${resolved.address}]` : resolved.address}:${port}`;
    const tcpStep = rec.start('tcp', 'tcp', 'TCP', endpoint);
    try {
      socket = await connectTcp(resolved.address, port, resolved.family, limits, signal);
    } catch (err) {
      if (err instanceof PhaseError) return fail(tcpStep, err.signals, { endpoint });
      throw err;
    }
    tcpStep.finish('ok', { summary: `connected to ${endpoint}`, details: { localPort: socket.localPort } });

    // ---- TLS
    const tlsStep = rec.start('tls', 'tls', 'TLS handshake');
    const trust = trustFor(url, ca.cas, ctx.lab, req.trustLab !== false);
    const servername = net.isIP(hostname) ? undefined : hostname;
    try {
      conn = await handshakeTls(socket, {
        servername,
        ca: trust.ca,
        ...(leaf && client.key ? { certificatePem: req.client!.certificatePem, privateKeyPem: client.key } : {}),
        ...(ctx.tlsContextHold ? { hold: ctx.tlsContextHold } : {}),
      }, hostname, limits, signal, base);
    } catch (err) {
      if (!(err instanceof PhaseError)) throw err;
      const failedWire = (err as PhaseError & { wire?: TlsObservation }).wire;
      // TLS 1.2 servers reject before secureConnect, but the CertificateRequest was already read.
      const preflight = leaf && failedWire ? preflightAcceptance(client.chain, failedWire) : undefined;
      if (preflight) rec.keep(preflight);
      return fail(tlsStep, { ...err.signals, ...(preflight ? { clientChainReachesAcceptableCA: false } : {}) }, wireDetails(failedWire));
    }
    const path = `${url.pathname}${url.search}`;
    const outgoing = { method, url, headers: req.headers ?? {}, ...(req.body !== undefined ? { body: req.body } : {}) };
    // The server's verdict on its certificate is known at secureConnect. When the request may
    // go, it goes now: reading the wire and building the TLS report then happens while the
    // server works on its answer instead of before the request leaves.
    let exchanged: ReturnType<typeof exchange> | undefined;
    let sent: ((at?: number) => void) | undefined;
    let sentEarlyAt: number | undefined;
    const requestStartedAt = performance.now();
    if (!conn.verifyError || req.verifyServer === false) {
      exchanged = exchange(conn.socket, outgoing, limits, signal, t0, conn.lateError, base, {
        onSent: () => (sent ? sent() : (sentEarlyAt = performance.now())),
      });
      exchanged.catch(() => {}); // awaited below; this only stops an early failure counting as unhandled
      await new Promise<void>((ok) => process.nextTick(ok)); // http writes the request on the next tick
    }

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
      trust: trust.label,
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
      if (!exchanged) {
        tlsStep.finish('fail', { title: tlsTitle, summary: d.summary, details: tlsDetails, diagnosis: d }, conn.endedAt);
        skipAfter('tls');
        return verdict('fail', d.summary, code);
      }
      tlsStatus = 'warn';
      tlsDiagnosis ??= d;
      tlsSummary += ` · server not verified (${conn.verifyError})`;
    }
    tlsStep.finish(tlsStatus, { title: tlsTitle, summary: tlsSummary, details: tlsDetails, ...(tlsDiagnosis ? { diagnosis: tlsDiagnosis } : {}) }, conn.endedAt);

    // ---- request and response
    const reqStep = rec.start('request', 'request', 'Request', `${method} ${redactUrl(path, secretNames)}`, requestStartedAt);
    let respStep: OpenStep | undefined;
    sent = (at = performance.now()) => {
      reqStep.finish('ok', { details: { method, path: redactUrl(path, secretNames), headers: redactHeaders(requestHeaders(outgoing), secretNames), bodyBytes: req.body ? Buffer.byteLength(req.body) : 0 } }, at);
      respStep = rec.start('response', 'response', 'Response', 'waiting for headers', at);
    };
    if (sentEarlyAt !== undefined) sent(sentEarlyAt);
    let result;
    try {
      result = await exchanged!;
    } catch (err) {
      if (!(err instanceof PhaseError)) throw err;
      const { code, evidence } = classifyFailure({ ...err.signals, ...base });
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
      return verdict('fail', d.summary, code);
    }

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
    const open = respStep ?? rec.start('response', 'response', 'Response');
    if (result.status < 400) {
      open.finish('ok', { title: `HTTP ${result.status}`, summary: `${contentType || 'no content type'} · ${result.bytes} bytes`, details });
      const passed = `HTTP ${result.status} over ${conn.protocol} with ${leaf ? 'the client certificate accepted' : 'no client certificate'}`;
      const finding = wire.certificateRequested ? untrustedAcceptance(client.chain, client.problems, tlsDiagnosis?.code === 'client_ca_not_acceptable' ? tlsDiagnosis : undefined) : undefined;
      if (!finding) return verdict('pass', passed);
      // details.untrustedAccepted: a screen showing the pre-flight warning shows the finding instead.
      rec.amend('tls', 'warn', { diagnosis: finding, summary: `${tlsSummary} · the server accepted a certificate it should not trust`, details: { untrustedAccepted: true } }, { replace: true });
      return verdict('pass', `${passed} — but the server should not have trusted it: it does not enforce client-certificate verification`, 'server_accepts_untrusted_client_cert');
    }
    const { code, evidence } = classifyFailure({ phase: 'response', ...base, handshakeComplete: true, httpStatus: result.status, httpBody: result.body, httpHeaders: result.headers as FailureSignals['httpHeaders'] });
    const d = diagnosis(code, evidence);
    // nginx answers certificate problems in HTTP: show them on the TLS step too.
    if (code.startsWith('client_cert')) rec.amend('tls', 'fail', { diagnosis: d, summary: d.summary });
    open.finish('fail', { title: `HTTP ${result.status}`, summary: d.summary, details, diagnosis: d });
    return verdict('fail', d.summary, code);
  } catch (err) {
    if (err instanceof CancelledError || signal?.aborted) return cancelled();
    throw err;
  }
}

