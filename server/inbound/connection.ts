// One client connection to a listener is one run: connection → TLS handshake → the certificate
// it presented → chain verification → access rule → its HTTP request → the listener's answer →
// verdict, each step sent as it starts and again when it ends. A client that fails the handshake
// (plain HTTP, an alert, a silent close) is a run too, ending at the TLS step with a diagnosis.
//
// Each connection gets its own tls.Server that never listens: the listener's net.Server accepts,
// the tap sits on the socket, and the connection is injected with server.emit('connection',
// duplex), as Node documents for any Duplex. Node then verifies the client chain and sets
// `authorized`/`authorizationError`, and every event of that server belongs to this run.
import http from 'node:http';
import type net from 'node:net';
import tls from 'node:tls';
import type { Diagnosis, InboundRule, PresentedCertificate, RunEvent, RunOutcome, WireEvidence } from '../../shared/protocol/index.ts';
import { redactHeaders, redactUrl } from '../../shared/redact.ts';
import { inspectCertificate, type InspectedCertificate } from '../../shared/pki/inspect.ts';
import type { TlsObservation } from '../tls/observation.ts';
import { StepRecorder, type OpenStep, type PlannedStep } from '../run/recorder.ts';
import { newRunId } from '../run/envelope.ts';
import { answerBody, plainHttpAnswer, statusOf, type Refusal } from './answer.ts';
import { classifyHandshakeFailure, describePresented, evaluateRule, verifyPresented, type RuleCheck } from './checks.ts';
import { inboundDiagnosis } from './fixes.ts';
import type { InboundLimits } from './limits.ts';
import { tapInbound } from './tap.ts';
import type { TrustBundle } from './trust-bundle.ts';

interface ConnectionContext {
  /** The inbound.start id: every run.started of the listener echoes it. */
  requestId: string;
  listenerUrl: string;
  /** Options of the per-connection TLS server (certificate, CA bundle, requestCert…). */
  tlsOptions: tls.TlsOptions;
  bundle: TrustBundle;
  rule?: InboundRule;
  verifyDepth?: number;
  limits: InboundLimits;
  curl: string;
  emit(event: RunEvent): void;
}

export interface ServedConnection {
  /** Settles once run.finished has been sent. */
  done: Promise<void>;
  /** The listener is closing: end the connection; the run finishes with outcome `error`. */
  stop(): void;
}

/** The steps after the handshake; skipped when a client's run ends before reaching them. */
const LATER_STEPS: readonly PlannedStep[] = [
  ['certificate', 'certificate', 'Client certificate'],
  ['verify', 'verify', 'Chain verification'],
  ['rule', 'rule', 'Access rule'],
  ['request', 'request', 'Request'],
  ['response', 'response', 'Response'],
];

/** After the answer is written, how long the client gets to read it before the socket is destroyed. */
const LINGER_MS = 2_000;

interface Judgement {
  refusal: Refusal;
  diagnosis: Diagnosis | null;
  chain: PresentedCertificate[];
  leafSubject: string | null;
  verification: { verified: boolean; error: string | null; path: string[]; depth: number | null; verifyDepth: number | null } | null;
  rule: { rule: InboundRule | null; matched: boolean; checks: RuleCheck[] } | null;
}

interface ArrivedRequest {
  method: string;
  path: string;
  httpVersion: string;
  headers: Record<string, string | string[]>;
  bodyBytes: number;
  bodyTruncated: boolean;
  res: http.ServerResponse;
  /** The connection closed (e.g. the client hung up right after its request): no answer can go out. */
  gone(): boolean;
}

type RequestOutcome = { request: ArrivedRequest } | { problem: string; answer?: string };

function endpoint(address: string | undefined, port: number | undefined): string {
  return `${address?.includes(':') ? `[${address}]` : address ?? '?'}:${port ?? '?'}`;
}

function day(iso: string): string {
  return iso.slice(0, 10);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function wireDetails(obs: TlsObservation): WireEvidence {
  return {
    clientCertificateMessage: obs.clientChainDer === null ? 'none' : plural(obs.clientChainDer.length, 'certificate'),
    ...(obs.alerts.length ? { alertsSeen: obs.alerts.map((a) => `${a.from} ${a.description} ${a.name}`) } : {}),
    ...(obs.decryptionFailed ? { tapNote: obs.decryptionFailed } : {}),
    ...(obs.parseProblem ? { tapProblem: obs.parseProblem.message } : {}),
  };
}

/** The chain Node rebuilt (used only when the tap could not read the Certificate message). */
function nodeChain(tlsSocket: tls.TLSSocket): Uint8Array[] {
  const out: Uint8Array[] = [];
  let cert = tlsSocket.getPeerCertificate(true) as tls.DetailedPeerCertificate | Record<string, never>;
  while (cert && 'raw' in cert && cert.raw && out.length < 10) {
    out.push(new Uint8Array(cert.raw));
    if (!cert.issuerCertificate || cert.issuerCertificate === cert) break;
    cert = cert.issuerCertificate;
  }
  return out;
}

export function serveConnection(socket: net.Socket, ctx: ConnectionContext): ServedConnection {
  const connection = new InboundConnection(socket, ctx);
  return { done: connection.done, stop: () => connection.stop() };
}

/**
 * One client's run, driven by its socket's events: `state` says how far the client got, and
 * each step of the run is a method (the handshake's end or failure, the certificate checks,
 * the HTTP request, the answer).
 */
class InboundConnection {
  readonly done: Promise<void>;
  readonly #socket: net.Socket;
  readonly #ctx: ConnectionContext;
  readonly #runId = newRunId();
  readonly #rec: StepRecorder;
  readonly #tap: ReturnType<typeof tapInbound>;
  readonly #tlsStep: OpenStep;
  #state: 'handshake' | 'http' | 'ending' | 'finished' = 'handshake';
  /** The listener is closing: the run ends with outcome `error` at its next step. */
  #stopped = false;
  #resolveDone!: () => void;
  readonly #timers: NodeJS.Timeout[] = [];

  constructor(socket: net.Socket, ctx: ConnectionContext) {
    this.#socket = socket;
    this.#ctx = ctx;
    this.done = new Promise<void>((resolve) => { this.#resolveDone = resolve; });
    const runId = this.#runId;
    const remote = endpoint(socket.remoteAddress, socket.remotePort);
    const rec = new StepRecorder((step) => ctx.emit({ type: 'step', runId, step }));
    this.#rec = rec;
    rec.plan(LATER_STEPS);

    ctx.emit({ type: 'run.started', id: ctx.requestId, runId, kind: 'inbound', target: `${remote} → ${ctx.listenerUrl}` });
    rec.start('tcp', 'tcp', 'Connection').finish('ok', {
      summary: `from ${remote}`,
      details: { remoteAddress: socket.remoteAddress ?? null, remotePort: socket.remotePort ?? null, localAddress: socket.localAddress ?? null, localPort: socket.localPort ?? null },
    });
    this.#tlsStep = rec.start('tls', 'tls', 'TLS handshake', 'waiting for the client hello');
    this.#tap = tapInbound(socket);
    this.#handshake();
  }

  /** Hands the tapped socket to a TLS server of its own; a client that sends nothing gets a short deadline. */
  #handshake(): void {
    const socket = this.#socket;
    const tap = this.#tap;
    const server = tls.createServer(this.#ctx.tlsOptions);
    server.on('keylog', (line: Buffer) => tap.keylog(line));
    server.on('tlsClientError', (err: Error & { code?: string }) => this.#handshakeFailed(err));
    server.on('secureConnection', (tlsSocket: tls.TLSSocket) => {
      if (this.#state !== 'handshake') return;
      this.#state = 'http';
      tap.adopt(tlsSocket);
      this.#afterHandshake(tlsSocket).catch(() => {
        // A fault in the checks must not leave the run open or the client hanging.
        if (this.#state !== 'finished') this.#finish('error', 'The relay failed while checking this client.', null, null);
        tlsSocket.destroy();
      });
    });
    // The tap keeps the socket half-open for TLS; a client that hangs up mid-handshake would
    // otherwise sit until the handshake timeout.
    socket.on('end', () => setImmediate(() => { if (this.#state === 'handshake') socket.destroy(); }));
    socket.on('close', () => {
      for (const t of this.#timers) clearTimeout(t);
      setImmediate(() => {
        if (this.#state === 'handshake') this.#handshakeFailed(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      });
    });
    server.emit('connection', tap.duplex);
    // A client that sends nothing holds a slot of the listener: it gets a short deadline for its
    // first byte, so silent connections cannot keep honest clients out for the whole handshake timeout.
    const { firstByteTimeoutMs } = this.#ctx.limits;
    this.#timers.push(setTimeout(() => {
      if (this.#state !== 'handshake' || tap.clientBytes() > 0) return;
      this.#handshakeFailed(Object.assign(new Error('no byte from the client'), { code: 'ERR_TLS_HANDSHAKE_TIMEOUT' }), firstByteTimeoutMs);
    }, firstByteTimeoutMs));
  }

  /** The listener is closing: end the connection; the run finishes with outcome `error`. */
  stop(): void {
    if (this.#state !== 'finished') this.#stopped = true;
    this.#socket.destroy();
  }

  #finish(outcome: RunOutcome, summary: string, code: string | null, status: number | null): void {
    if (this.#state === 'finished') return;
    this.#state = 'finished';
    for (const t of this.#timers) clearTimeout(t);
    const rec = this.#rec;
    const title = outcome === 'pass' ? 'Verdict: pass' : outcome === 'fail' ? 'Verdict: fail' : 'Verdict: not reached';
    rec.start('verdict', 'verdict', title).finish(outcome === 'pass' ? 'ok' : outcome === 'fail' ? 'fail' : 'skipped', {
      summary,
      details: { ...(code ? { diagnosis: code } : {}), status, reproduce: { curl: this.#ctx.curl }, totalMs: rec.elapsed() },
    });
    this.#ctx.emit({ type: 'run.finished', runId: this.#runId, outcome, diagnoses: rec.diagnoses().map((d) => d.code), durationMs: rec.elapsed() });
    this.#resolveDone();
  }

  #finishStopped(): void {
    this.#rec.skipRunning('the listener stopped');
    this.#rec.skipUnreached('the listener stopped');
    this.#finish('error', 'The listener stopped before this client was done.', null, null);
  }

  #handshakeFailed(err: Error & { code?: string }, timeoutMs = this.#ctx.limits.handshakeTimeoutMs): void {
    if (this.#state !== 'handshake') return;
    this.#state = 'ending';
    if (this.#stopped) return this.#finishStopped();
    const socket = this.#socket;
    const tap = this.#tap;
    const observation = tap.observation();
    const found = classifyHandshakeFailure({ errorCode: err.code, errorMessage: err.message, observation, clientBytes: tap.clientBytes(), handshakeTimeoutMs: timeoutMs });
    const d = inboundDiagnosis(found.code, found.evidence, found.summary);
    this.#tlsStep.finish('fail', { summary: d.summary, diagnosis: d, details: { ...wireDetails(observation), clientBytes: tap.clientBytes(), error: err.message, errorCode: err.code ?? null } });
    // Like nginx: a client that forgot https:// is told so in HTTP, which it can read.
    const answered = found.plainHttp === true && socket.writable;
    if (answered) socket.end(plainHttpAnswer());
    this.#rec.skipUnreached('no TLS connection');
    this.#finish('fail', d.summary, found.code, answered ? 400 : null);
    if (!answered) socket.destroy();
  }

  /** The Client certificate, Chain verification and Access rule steps: whether and why the listener refuses. */
  async #judge(tlsSocket: tls.TLSSocket, observation: TlsObservation): Promise<Judgement> {
    const { bundle } = this.#ctx;
    const rec = this.#rec;
    const certStep = rec.start('certificate', 'certificate', 'Client certificate');
    const fromWire = observation.clientChainDer !== null && !observation.decryptionFailed;
    const der = fromWire ? observation.clientChainDer! : nodeChain(tlsSocket);
    const chainSource = fromWire ? 'the Certificate message as sent' : 'rebuilt by Node (the tap could not read the Certificate message): reordered, may include the CA from the bundle';
    const none: Judgement = { refusal: 'no_certificate', diagnosis: null, chain: [], leafSubject: null, verification: null, rule: null };
    if (der.length === 0) {
      const d = inboundDiagnosis('client_cert_required', [
        observation.clientChainDer === null ? 'no Certificate message from the client' : 'the client sent an empty Certificate message',
        `the listener asked for a certificate issued by: ${bundle.subjects.join(' · ')}`,
      ], 'The client sent no certificate, though the listener asked for one.');
      certStep.finish('fail', { summary: d.summary, diagnosis: d, details: { presented: false, chain: [], chainSource, acceptableCAs: bundle.subjects } });
      rec.skip('verify', 'verify', 'Chain verification', 'no certificate to verify');
      rec.skip('rule', 'rule', 'Access rule', 'not evaluated: no certificate');
      return { ...none, diagnosis: d };
    }
    let chain: InspectedCertificate[];
    try {
      chain = await Promise.all(der.map((bytes, i) => inspectCertificate(bytes, { where: `certificate ${i + 1} as sent` })));
    } catch (err) {
      const d = inboundDiagnosis('client_cert_rejected', [err instanceof Error ? err.message : String(err)], 'A certificate the client sent cannot be read.');
      certStep.finish('fail', { summary: d.summary, diagnosis: d, details: { presented: true, chain: [], chainSource } });
      rec.skip('verify', 'verify', 'Chain verification', 'no readable certificate');
      rec.skip('rule', 'rule', 'Access rule', 'not evaluated');
      return { ...none, refusal: 'certificate_error', diagnosis: d };
    }
    const leaf = chain[0]!;
    const presented = chain.map((c) => describePresented(c, bundle));
    certStep.finish('ok', {
      summary: `${leaf.info.subject} · issued by ${leaf.info.issuer} · valid until ${day(leaf.info.notAfter)}${chain.length > 1 ? ` · with ${plural(chain.length - 1, 'CA certificate')}` : ''}`,
      details: { presented: true, chainSource, chain: presented },
    });
    return this.#verifyAndRule(tlsSocket, chain, presented);
  }

  /** Chain verification, then (if it verifies) the access rule. */
  async #verifyAndRule(tlsSocket: tls.TLSSocket, chain: InspectedCertificate[], presented: PresentedCertificate[]): Promise<Judgement> {
    const { bundle, rule, verifyDepth } = this.#ctx;
    const rec = this.#rec;
    const leaf = chain[0]!;
    const verifyStep = rec.start('verify', 'verify', 'Chain verification');
    const authorizationError = tlsSocket.authorizationError ? String(tlsSocket.authorizationError) : null;
    const v = await verifyPresented({ chain, authorized: tlsSocket.authorized, authorizationError, bundle, verifyDepth });
    const verification = { verified: v.ok, error: v.finding ? (authorizationError ?? v.finding.code) : null, path: v.path, depth: v.depth, verifyDepth: verifyDepth ?? null };
    const verifyDetails = { ...verification, authorized: tlsSocket.authorized, authorizationError, trustedCAs: bundle.subjects };
    const base = { chain: presented, leafSubject: leaf.info.subject, verification };
    if (v.finding) {
      const d = inboundDiagnosis(v.finding.code, v.finding.evidence, v.finding.summary);
      verifyStep.finish('fail', { summary: d.summary, diagnosis: d, details: verifyDetails });
      rec.skip('rule', 'rule', 'Access rule', 'not evaluated: the certificate was refused first, as nginx and Apache do');
      return { ...base, refusal: 'certificate_error', diagnosis: d, rule: null };
    }
    const depthNote = v.depth === null ? '' : ` · depth ${v.depth}${verifyDepth === undefined ? '' : ` of at most ${verifyDepth}`}`;
    verifyStep.finish('ok', { summary: `${v.path.join(' ← ')}${depthNote}`, details: verifyDetails });

    const ruleStep = rec.start('rule', 'rule', 'Access rule');
    const r = evaluateRule(rule, leaf);
    const ruleSummary = { rule: rule ?? null, matched: r.matched, checks: r.checks };
    if (r.finding) {
      const d = inboundDiagnosis(r.finding.code, r.finding.evidence, r.finding.summary);
      ruleStep.finish('fail', { summary: d.summary, diagnosis: d, details: ruleSummary });
      return { ...base, refusal: 'forbidden', diagnosis: d, rule: ruleSummary };
    }
    ruleStep.finish('ok', {
      summary: r.checks.length === 0 ? 'no access rule: every certificate that verifies is let in' : r.checks.map((c) => `${c.field} matches "${c.expected}"`).join(' · '),
      details: ruleSummary,
    });
    return { ...base, refusal: null, diagnosis: null, rule: ruleSummary };
  }

  /** Waits for the one HTTP request of this connection; never rejects. */
  #readRequest(tlsSocket: tls.TLSSocket): Promise<RequestOutcome> {
    const { limits } = this.#ctx;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (outcome: RequestOutcome) => {
        if (settled) return;
        settled = true;
        resolve(outcome);
      };
      const http1 = http.createServer({ maxHeaderSize: limits.maxHeaderBytes }, (req, res) => {
        let bodyBytes = 0;
        let gone = false;
        res.once('close', () => { gone = true; });
        const arrived = (bodyTruncated: boolean) => settle({
          request: { method: req.method ?? '?', path: redactUrl(req.url ?? '/'), httpVersion: req.httpVersion, headers: redactHeaders(req.headers), bodyBytes, bodyTruncated, res, gone: () => gone },
        });
        req.on('data', (chunk: Buffer) => {
          bodyBytes += chunk.length;
          if (bodyBytes > limits.maxRequestBodyBytes) {
            req.pause();
            arrived(true);
          }
        });
        req.on('end', () => arrived(false));
      });
      http1.on('clientError', (err: Error & { code?: string }, s: import('node:stream').Duplex) => {
        const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
        settle({ problem: tooLarge ? `request headers larger than ${limits.maxHeaderBytes} bytes` : `not an HTTP/1.1 request (${err.code ?? err.message})` });
        if (s.writable) s.end(`HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
        else s.destroy();
      });
      const giveUp = (what: string) => () => {
        settle({ problem: `no complete HTTP request within ${what}` });
        tlsSocket.destroy();
      };
      const headersTimer = setTimeout(giveUp(`${limits.headersTimeoutMs / 1000} s (headers)`), limits.headersTimeoutMs);
      this.#timers.push(headersTimer, setTimeout(giveUp(`${limits.requestTimeoutMs / 1000} s`), limits.requestTimeoutMs));
      http1.on('request', () => clearTimeout(headersTimer));
      tlsSocket.on('close', () => settle({ problem: 'the client closed the connection without sending an HTTP request' }));
      http1.emit('connection', tlsSocket);
    });
  }

  /** The TLS step as negotiated; then the certificate checks, the request and the answer. */
  async #afterHandshake(tlsSocket: tls.TLSSocket): Promise<void> {
    tlsSocket.on('error', () => {}); // resets after the handshake end the run through 'close'
    const observation = this.#tap.observation();
    const protocol = tlsSocket.getProtocol();
    const cipher = tlsSocket.getCipher()?.standardName ?? null;
    const sni = typeof tlsSocket.servername === 'string' ? tlsSocket.servername : null;
    const sent = observation.clientChainDer;
    const sentWhat = sent === null ? 'no certificate message' : sent.length === 0 ? 'client sent no certificate' : `client sent ${plural(sent.length, 'certificate')}`;
    this.#tlsStep.finish('ok', {
      title: protocol?.replace('v', ' ') ?? 'TLS',
      summary: `${cipher ?? 'unknown cipher'} · ${sentWhat}${sni ? ` · SNI ${sni}` : ''}`,
      details: { protocol, cipher, group: observation.keyExchangeGroup ?? null, servername: sni, alpn: tlsSocket.alpnProtocol || null, certificateRequested: true, acceptableCAs: this.#ctx.bundle.subjects, ...wireDetails(observation) },
    });
    // Listen for the request at once; it is reported once the certificate checks are.
    const request = this.#readRequest(tlsSocket);
    const judged = await this.#judge(tlsSocket, observation);
    if (this.#stopped) return this.#finishStopped();
    const reqStep = this.#rec.start('request', 'request', 'Request', 'waiting for the HTTP request');
    const got = await request;
    if (this.#stopped) return this.#finishStopped();
    return this.#answer(judged, reqStep, got, { protocol, cipher });
  }

  /** The Request and Response steps: the listener's answer to what the checks decided, then the verdict. */
  async #answer(judged: Judgement, reqStep: OpenStep, got: RequestOutcome, tlsParams: { protocol: string | null; cipher: string | null }): Promise<void> {
    const rec = this.#rec;
    const outcome: RunOutcome = judged.refusal === null ? 'pass' : 'fail';
    const { status, reason } = statusOf(judged.refusal);
    const verdictSummary = judged.refusal === null ? `HTTP ${status} · ${judged.leafSubject} accepted` : judged.diagnosis!.summary;
    const code = judged.diagnosis?.code ?? null;
    if ('problem' in got) {
      reqStep.finish('warn', { summary: got.problem });
      rec.skip('response', 'response', 'Response', 'no request to answer');
      this.#finish(outcome, `${verdictSummary} (no HTTP request: ${got.problem})`, code, null);
      return;
    }
    const { res, gone, ...shown } = got.request;
    reqStep.finish('ok', { summary: `${shown.method} ${shown.path} · ${shown.bodyBytes} bytes${shown.bodyTruncated ? ' (stopped reading)' : ''}`, details: shown });

    const respStep = rec.start('response', 'response', 'Response');
    const body = answerBody({
      runId: this.#runId,
      refusal: judged.refusal,
      diagnosis: judged.diagnosis,
      tls: tlsParams,
      chain: judged.chain,
      verification: judged.verification,
      rule: judged.rule,
      request: { method: shown.method, path: shown.path, headers: shown.headers, bodyBytes: shown.bodyBytes },
    });
    const text = JSON.stringify(body, null, 2) + '\n';
    const headers = { 'content-type': 'application/json', 'cache-control': 'no-store', connection: 'close' };
    const sentOk = await new Promise<boolean>((resolve) => {
      if (gone()) return resolve(false);
      res.once('finish', () => resolve(true));
      res.once('close', () => resolve(res.writableFinished));
      res.writeHead(status, reason, headers);
      res.end(text);
    });
    if (!sentOk && this.#stopped) return this.#finishStopped();
    if (!sentOk) {
      respStep.finish('warn', { title: `HTTP ${status} not delivered`, summary: 'the client closed the connection before the answer could be sent', details: { status, reason, headers, body } });
      this.#finish(outcome, verdictSummary, code, null);
      return;
    }
    respStep.finish(status === 200 ? 'ok' : 'fail', { title: `HTTP ${status}`, summary: `${reason} · ${Buffer.byteLength(text)} bytes of JSON`, details: { status, reason, headers, body } });
    this.#finish(outcome, verdictSummary, code, status);
    // The answer is on its way with Connection: close; a client that never closes is cut off.
    const socket = this.#socket;
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  }
}
