// The mTLS probe: inputs → DNS → TCP → TLS → request → response → verdict, each a step
// event sent the moment it starts and again when it ends. Connects with
// rejectUnauthorized:false so the server chain can be shown even when it does not verify,
// then judges verification itself and stops if the user asked for it.
import net from 'node:net';
import tls from 'node:tls';
import http from 'node:http';
import { lookup } from 'node:dns/promises';
import { X509Certificate } from 'node:crypto';
import type { ProbeRequest, RunOutcome, Step } from '../../shared/protocol.ts';
import { diagnosis, type DiagnosisCode } from '../../shared/diagnoses.ts';
import { classifyFailure, classifyServerVerification, type FailureSignals } from '../../shared/diagnose.ts';
import { redactHeaders } from '../../shared/redact.ts';
import type { Limits } from '../defaults.ts';
import { curlCommand, opensslCommand } from '../../shared/reproduce.ts';
import { StepRecorder } from './steps.ts';
import { checkCaBundle, checkClient, checkUrl, oneLineDn, parseCertificates, summarize } from './inputs.ts';

export interface ProbeContext {
  limits: Limits;
  /** Extra CAs trusted for server certificates by default (the lab's server CA). */
  extraTrustedCaPem?: string[];
  signal?: AbortSignal;
  onStep(step: Step): void;
}

export interface ProbeResult {
  outcome: RunOutcome;
  diagnoses: string[];
  durationMs: number;
  steps: Step[];
}

class PhaseError extends Error {
  constructor(readonly signals: FailureSignals) {
    super(signals.errorMessage ?? signals.errorCode ?? 'failed');
  }
}

/** Resolves with `promise` or rejects with a timeout (and on abort), cleaning up the timer. */
function withTimeout<T>(promise: Promise<T>, ms: number, signal: AbortSignal | undefined, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    const onAbort = () => reject(new Error('run cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => { clearTimeout(timer); signal?.removeEventListener('abort', onAbort); resolve(v); },
      (e) => { clearTimeout(timer); signal?.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}

function errInfo(err: unknown): { errorCode?: string; errorMessage?: string } {
  const e = err as NodeJS.ErrnoException;
  return { errorCode: typeof e?.code === 'string' ? e.code : undefined, errorMessage: e instanceof Error ? e.message : String(err) };
}

const MAX_CHAIN = 10;

function peerChain(socket: tls.TLSSocket): ReturnType<typeof summarize>[] {
  const out: ReturnType<typeof summarize>[] = [];
  let cert = socket.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined;
  const seen = new Set<string>();
  while (cert && cert.raw && out.length < MAX_CHAIN && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    out.push(summarize(new X509Certificate(cert.raw)));
    cert = cert.issuerCertificate;
  }
  return out;
}

function parseCertificatesSafe(pem: string | undefined): X509Certificate[] {
  try {
    return pem ? parseCertificates(pem) : [];
  } catch {
    return [];
  }
}

function prettyBody(body: string, contentType: string | undefined): string {
  if (contentType?.includes('json')) {
    try {
      return JSON.stringify(JSON.parse(body), null, 2);
    } catch {
      return body;
    }
  }
  return body;
}

export async function runProbe(req: ProbeRequest, ctx: ProbeContext): Promise<ProbeResult> {
  const t0 = performance.now();
  const rec = new StepRecorder(ctx.onStep, t0);
  const { limits, signal } = ctx;
  let socket: net.Socket | undefined;
  let tlsSocket: tls.TLSSocket | undefined;

  const finish = (outcome: RunOutcome): ProbeResult => {
    tlsSocket?.destroy();
    socket?.destroy();
    const diagnoses = rec.diagnoses().map((d) => d.code);
    return { outcome, diagnoses, durationMs: rec.elapsed(), steps: rec.steps() };
  };
  const verdict = (outcome: RunOutcome, summary: string, code?: DiagnosisCode) => {
    const v = rec.start('verdict', 'verdict', outcome === 'pass' ? 'Verdict: pass' : 'Verdict: fail');
    // When the lab's CA was trusted implicitly, the copied command needs it as ca.pem.
    const asRun = !req.caPem && req.trustLab !== false && ctx.extraTrustedCaPem?.length ? { ...req, caPem: ctx.extraTrustedCaPem.join('') } : req;
    const reproduce = { curl: curlCommand(asRun), openssl: opensslCommand(asRun, { clientChainLength: parseCertificatesSafe(req.client?.certificatePem).length }) };
    v.finish(outcome === 'pass' ? 'ok' : 'fail', { summary, details: { ...(code ? { diagnosis: code } : {}), reproduce } });
  };
  const skipRest = (from: string) => {
    const order: [string, Step['phase'], string][] = [['dns', 'dns', 'DNS'], ['tcp', 'tcp', 'TCP'], ['tls', 'tls', 'TLS'], ['request', 'request', 'Request'], ['response', 'response', 'Response']];
    let skipping = false;
    for (const [id, phase, title] of order) {
      if (id === from) skipping = true;
      else if (skipping && !rec.get(id)) rec.skip(id, phase, title, 'not reached');
    }
  };
  const failStep = (open: { finish: (s: 'fail', f: Partial<Step>) => Step }, phase: Step['phase'], signals: FailureSignals, title?: string) => {
    const { code, evidence } = classifyFailure(signals);
    const d = diagnosis(code, evidence);
    open.finish('fail', { ...(title ? { title } : {}), summary: d.summary, diagnosis: d, details: { error: signals.errorMessage, code: signals.errorCode } });
    skipRest(phase);
    verdict('fail', d.summary, code);
    return finish('fail');
  };

  // ---- inputs
  const inputs = rec.start('inputs', 'inputs', 'Inputs');
  const urlCheck = checkUrl(req.url);
  const client = checkClient(req.client);
  const ca = checkCaBundle(req.caPem);
  const problems = [...('problem' in urlCheck ? [urlCheck.problem] : []), ...client.problems, ...(ca.problem ? [ca.problem] : [])];
  const fatal = problems.filter((p) => p.fatal);
  const inputDetails = { ...client.details, problems: problems.map((p) => ({ code: p.code, message: p.message })) };
  if (fatal.length || !('url' in urlCheck)) {
    const d = diagnosis('input_invalid', fatal.map((p) => `${p.code}: ${p.message}`), fatal[0]?.message);
    inputs.finish('fail', { summary: fatal[0]?.message ?? 'invalid input', details: inputDetails, diagnosis: d });
    skipRest('inputs');
    verdict('fail', d.summary, 'input_invalid');
    return finish('fail');
  }
  const url = urlCheck.url;
  const leaf = client.chain[0];
  const inputSummary = leaf
    ? `${oneLineDn(leaf.subject)} · ${client.details.keyType ?? ''} · ${problems.length ? problems.map((p) => p.code).join(', ') : 'key matches certificate · clientAuth · valid'}`
    : 'no client certificate';
  inputs.finish(problems.length ? 'warn' : 'ok', { summary: inputSummary, details: inputDetails });

  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  const method = req.method ?? 'GET';

  // ---- DNS
  const dnsStep = rec.start('dns', 'dns', 'DNS');
  let address: string;
  let family: number;
  if (net.isIP(hostname)) {
    address = hostname;
    family = net.isIP(hostname);
    dnsStep.finish('ok', { summary: `${hostname} is an IP address`, details: { addresses: [hostname] } });
  } else {
    try {
      const all = await withTimeout(lookup(hostname, { all: true, verbatim: true }), limits.dnsTimeoutMs, signal, () => Object.assign(new Error(`DNS lookup took longer than ${limits.dnsTimeoutMs} ms`), { code: 'ETIMEOUT' }));
      const first = all[0];
      if (!first) throw Object.assign(new Error(`${hostname} has no addresses`), { code: 'ENOTFOUND' });
      address = first.address;
      family = first.family;
      dnsStep.finish('ok', { summary: `${hostname} → ${all.map((a) => a.address).join(', ')}`, details: { addresses: all.map((a) => a.address) } });
    } catch (err) {
      if (signal?.aborted) return cancelled(rec, finish);
      const info = errInfo(err);
      return failStep(dnsStep, 'dns', { phase: 'dns', ...info, timedOut: info.errorCode === 'ETIMEOUT' });
    }
  }

  // ---- TCP
  const tcpStep = rec.start('tcp', 'tcp', 'TCP', `${family === 6 ? `[${address}]` : address}:${port}`);
  try {
    socket = await withTimeout(new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: address, port, family });
      s.once('connect', () => { s.off('error', reject); resolve(s); });
      s.once('error', reject);
      socket = s;
    }), limits.connectTimeoutMs, signal, () => Object.assign(new Error(`no TCP answer within ${limits.connectTimeoutMs} ms`), { code: 'ETIMEDOUT' }));
    tcpStep.finish('ok', { summary: `connected to ${socket.remoteAddress}:${socket.remotePort}`, details: { localPort: socket.localPort } });
  } catch (err) {
    if (signal?.aborted) return cancelled(rec, finish);
    return failStep(tcpStep, 'tcp', { phase: 'tcp', ...errInfo(err), timedOut: errInfo(err).errorCode === 'ETIMEDOUT' });
  }

  // ---- TLS
  const tlsStep = rec.start('tls', 'tls', 'TLS handshake');
  const trusted = ca.cas.length ? [...ca.cas] : [...tls.rootCertificates];
  if (req.trustLab !== false) trusted.push(...(ctx.extraTrustedCaPem ?? []));
  const servername = net.isIP(hostname) ? undefined : hostname;
  let handshakeComplete = false;
  const signalsBase = (): Partial<FailureSignals> => ({
    clientCertSent: !!leaf,
    clientChainLength: client.chain.length,
    clientNotBefore: leaf ? Date.parse(leaf.validFrom) : undefined,
    clientNotAfter: leaf ? Date.parse(leaf.validTo) : undefined,
    handshakeComplete,
  });
  let lateError: unknown;
  try {
    tlsSocket = await withTimeout(new Promise<tls.TLSSocket>((resolve, reject) => {
      const options: tls.ConnectionOptions = {
        socket,
        servername,
        ca: trusted,
        rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'],
        minVersion: 'TLSv1.2',
      };
      if (leaf && client.key) {
        options.cert = req.client!.certificatePem;
        options.key = client.key.export({ type: 'pkcs8', format: 'pem' });
      }
      const s = tls.connect(options);
      tlsSocket = s;
      s.once('secureConnect', () => { s.off('error', reject); resolve(s); });
      s.once('error', reject);
    }), limits.tlsTimeoutMs, signal, () => Object.assign(new Error(`TLS handshake did not finish within ${limits.tlsTimeoutMs} ms`), { code: 'TLS_TIMEOUT' }));
    handshakeComplete = true;
    // A TLS 1.3 server verifies the client certificate after our secureConnect: keep its alert.
    tlsSocket.on('error', (err) => { lateError ??= err; });
  } catch (err) {
    if (signal?.aborted) return cancelled(rec, finish);
    const info = errInfo(err);
    return failStep(tlsStep, 'tls', { phase: 'tls', ...signalsBase(), ...info, timedOut: info.errorCode === 'TLS_TIMEOUT' });
  }

  const protocol = tlsSocket.getProtocol();
  const cipher = tlsSocket.getCipher();
  const ephemeral = tlsSocket.getEphemeralKeyInfo() as { type?: string; name?: string; size?: number } | null;
  const serverChain = peerChain(tlsSocket);
  let verifyError: string | undefined = tlsSocket.authorized ? undefined : String(tlsSocket.authorizationError);
  if (!verifyError) {
    const peer = tlsSocket.getPeerCertificate();
    const identityError = tls.checkServerIdentity(hostname, peer);
    if (identityError) verifyError = (identityError as NodeJS.ErrnoException).code ?? 'ERR_TLS_CERT_ALTNAME_INVALID';
  }
  const tlsDetails: Record<string, unknown> = {
    protocol,
    cipher: cipher.standardName ?? cipher.name,
    group: ephemeral?.name ?? ephemeral?.type,
    alpn: tlsSocket.alpnProtocol || null,
    sessionReused: tlsSocket.isSessionReused(),
    servername: servername ?? null,
    serverVerified: !verifyError,
    serverVerifyError: verifyError ?? null,
    serverChain,
    clientCertificateSent: !!leaf,
    sentChain: client.chain.map((c) => oneLineDn(c.subject)),
    trust: ca.cas.length ? 'CA bundle given for this probe' : `system store${req.trustLab !== false && ctx.extraTrustedCaPem?.length ? ' + lab CA' : ''}`,
  };
  const tlsTitle = `${protocol?.replace('v', ' ') ?? 'TLS'}`;
  const tlsSummary = `${tlsDetails.cipher}${tlsDetails.group ? ` · ${tlsDetails.group}` : ''} · ${leaf ? `sent ${client.chain.length} certificate${client.chain.length > 1 ? 's' : ''}` : 'no client certificate sent'}`;
  if (verifyError) {
    const code = classifyServerVerification(verifyError);
    const d = diagnosis(code, [`server verification: ${verifyError}`, `server sent: ${serverChain.map((c) => c.subject).join(' ← ')}`]);
    if (req.verifyServer !== false) {
      tlsStep.finish('fail', { title: tlsTitle, summary: d.summary, details: tlsDetails, diagnosis: d });
      skipRest('tls');
      verdict('fail', d.summary, code);
      return finish('fail');
    }
    tlsStep.finish('warn', { title: tlsTitle, summary: `${tlsSummary} · server not verified (${verifyError})`, details: tlsDetails, diagnosis: d });
  } else {
    tlsStep.finish('ok', { title: tlsTitle, summary: tlsSummary, details: tlsDetails });
  }

  // ---- request and response
  const reqStep = rec.start('request', 'request', 'Request', `${method} ${url.pathname}${url.search}`);
  const headers: Record<string, string> = { host: url.host, 'user-agent': 'mtls-harness/0.1', accept: '*/*', ...(req.headers ?? {}) };
  if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
  let respStep: ReturnType<StepRecorder['start']> | undefined;
  try {
    const result = await withTimeout(new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; truncated: boolean; bytes: number; headersMs: number; firstByteMs: number | null }>((resolve, reject) => {
      if (lateError) return reject(lateError);
      const r = http.request({
        method,
        path: `${url.pathname}${url.search}`,
        headers,
        // Without an agent, http uses this function for the connection: the socket we tapped.
        createConnection: () => tlsSocket!,
      });
      r.on('error', reject);
      r.on('finish', () => {
        reqStep.finish('ok', { details: { method, path: `${url.pathname}${url.search}`, headers: redactHeaders(headers), bodyBytes: req.body ? Buffer.byteLength(req.body) : 0 } });
        respStep = rec.start('response', 'response', 'Response', 'waiting for headers');
      });
      r.on('response', (res) => {
        const headersMs = rec.elapsed();
        let firstByteMs: number | null = null;
        const chunks: Buffer[] = [];
        let kept = 0;
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          firstByteMs ??= rec.elapsed();
          bytes += chunk.length;
          if (kept < limits.maxResponseBodyBytes) {
            const part = chunk.subarray(0, limits.maxResponseBodyBytes - kept);
            chunks.push(part);
            kept += part.length;
          }
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), truncated: bytes > kept, bytes, headersMs, firstByteMs }));
        res.on('error', reject);
      });
      r.end(req.body);
    }), limits.responseTimeoutMs, signal, () => Object.assign(new Error(`no response within ${limits.responseTimeoutMs} ms`), { code: 'RESPONSE_TIMEOUT' }));

    const ok = result.status < 400;
    const contentType = String(result.headers['content-type'] ?? '');
    const details = {
      status: result.status,
      headers: redactHeaders(result.headers as Record<string, string | string[]>),
      body: prettyBody(result.body, contentType),
      bodyBytes: result.bytes,
      truncated: result.truncated,
      timings: { headersMs: result.headersMs, firstByteMs: result.firstByteMs },
    };
    const open = respStep ?? rec.start('response', 'response', 'Response');
    if (ok) {
      open.finish('ok', { title: `HTTP ${result.status}`, summary: `${contentType || 'no content type'} · ${result.bytes} bytes`, details });
      verdict('pass', `HTTP ${result.status} over ${protocol} with ${leaf ? 'the client certificate accepted' : 'no client certificate'}`);
      return finish('pass');
    }
    const { code, evidence } = classifyFailure({ phase: 'response', ...signalsBase(), httpStatus: result.status, httpBody: result.body });
    const d = diagnosis(code, evidence);
    // nginx-style rejections are TLS-level problems answered in HTTP: show them on the TLS step too.
    if (d.code.startsWith('client_cert')) rec.amend('tls', 'fail', { diagnosis: d, summary: d.summary });
    open.finish('fail', { title: `HTTP ${result.status}`, summary: d.summary, details, diagnosis: d });
    verdict('fail', d.summary, code);
    return finish('fail');
  } catch (err) {
    if (signal?.aborted) return cancelled(rec, finish);
    const info = errInfo(lateError ?? err);
    const timedOut = info.errorCode === 'RESPONSE_TIMEOUT';
    const { code, evidence } = classifyFailure({ phase: 'response', ...signalsBase(), ...info, timedOut });
    const d = diagnosis(code, evidence);
    if (d.code.startsWith('client_') || d.code === 'tls_handshake_failed' || d.code === 'tls_version_mismatch') {
      // The alert came after secureConnect (TLS 1.3): the handshake was not really accepted.
      rec.amend('tls', 'fail', { summary: d.summary, diagnosis: d });
      if (!rec.get('request') || rec.get('request')?.status === 'running') reqStep.finish('skipped', { summary: 'connection closed by the server' });
      if (respStep) respStep.finish('skipped', { summary: 'no response' });
      else rec.skip('response', 'response', 'Response', 'no response');
    } else {
      if (rec.get('request')?.status === 'running') reqStep.finish('fail', { summary: d.summary, diagnosis: d });
      if (respStep) respStep.finish('fail', { summary: d.summary, diagnosis: d, details: { error: info.errorMessage, code: info.errorCode } });
      else if (!rec.get('response')) rec.skip('response', 'response', 'Response', 'no response');
    }
    verdict('fail', d.summary, code);
    return finish('fail');
  }
}

function cancelled(rec: StepRecorder, finish: (o: RunOutcome) => ProbeResult): ProbeResult {
  for (const s of rec.steps()) {
    if (s.status === 'running') rec.amend(s.id, 'skipped', { summary: 'cancelled' });
  }
  return finish('error');
}
