// One HTTP call of a token flow or a JWKS fetch, through the same connection phases as the probe (DNS, TCP,
// TLS with the wire tap, one HTTP exchange): client certificates, timeouts, the outbound guard
// and the transport diagnoses come with it. A failure is thrown as a CallFailure that already
// carries its diagnosis, so every flow step explains a dead connection the way the probe does.
import net from 'node:net';
import type tls from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import { classifyFailure, classifyServerVerification, type FailureSignals } from '../../shared/diagnose.ts';
import type { DiagnosisCode } from '../../shared/diagnoses.ts';
import type { Limits } from '../defaults.ts';
import { CancelledError, connectTcp, handshakeTls, hostnameOf, oneLineDn, PhaseError, resolveHost, trustFor, wireSignals, type LabTrust } from './dial.ts';
import { exchange, type HttpResult, type OutgoingRequest } from './http-exchange.ts';
import { checkUrlAllowed, LOCAL_POLICY, OutboundRefused, type OutboundPolicy } from './outbound-guard.ts';
import type { Owner } from './fair-share.ts';
import { describeAcceptance } from './acceptable-cas.ts';
import { HarnessError } from '../../shared/errors.ts';
import type { CallConnection, CallTimings } from '../../shared/protocol/evidence.ts';

/** The TLS side of every call of a flow, checked once in the flow's inputs step. */
export interface CallTls {
  /** Leaf first; empty when no client certificate is used. */
  chain: X509Certificate[];
  certificatePem?: string;
  /** PKCS#8/PKCS#1/SEC1 PEM, as the inputs check handed it over. */
  key: string | null;
  /** CAs the user gave to trust for server certificates; empty: Node's roots (and the lab CA for lab targets). */
  bundle: string[];
  lab?: LabTrust;
  trustLab: boolean;
  verifyServer: boolean;
  /** What the Inputs step found wrong with the client certificate (expired, wrong EKU, …). */
  problems?: { code: string; message: string }[];
}

interface CallContext {
  limits: Limits;
  signal?: AbortSignal;
  policy?: OutboundPolicy;
  /** Whose run the call is part of, for the fair share of the event loop. */
  owner?: Owner;
}

export interface CallResult extends HttpResult {
  connection: CallConnection;
  timings: CallTimings;
  /** The server's Date header, epoch ms, when it sent a parseable one. */
  serverDate?: number;
}

/**
 * A TLS terminator's own refusal of the client certificate in HTTP (nginx's 400 pages), as the
 * probe explains it: what the page or a verify-error header says, or what the harness knows
 * about its certificate (marked inferred). Null for any other answer.
 */
export function certificatePage(res: CallResult, callTls: CallTls): { code: DiagnosisCode; evidence: string[] } | null {
  if (res.status !== 400) return null;
  const leaf = callTls.chain[0];
  const found = classifyFailure({
    phase: 'response',
    handshakeComplete: true,
    httpStatus: res.status,
    httpBody: res.body.slice(0, 4096),
    httpHeaders: res.headers as FailureSignals['httpHeaders'],
    clientCertSent: res.connection.clientCertificateSent === true,
    ...(res.connection.certificateRequested !== undefined ? { certificateRequested: res.connection.certificateRequested } : {}),
    ...(res.connection.chainReachesAcceptableCA !== undefined ? { clientChainReachesAcceptableCA: res.connection.chainReachesAcceptableCA } : {}),
    ...(leaf ? { clientNotBefore: Date.parse(leaf.validFrom), clientNotAfter: Date.parse(leaf.validTo), clientCertClientAuth: !callTls.problems?.some((p) => p.code === 'eku_missing_client_auth') } : {}),
  });
  return found.code.startsWith('client_') ? found : null;
}

/** A call that did not get an HTTP answer, with the diagnosis the probe would give. */
export class CallFailure extends HarnessError<DiagnosisCode> {
  readonly evidence: string[];
  readonly connection: CallConnection | undefined;
  readonly phase: FailureSignals['phase'] | 'url';
  constructor(code: DiagnosisCode, evidence: string[], message: string, phase: CallFailure['phase'], connection?: CallConnection) {
    super(code, message);
    this.evidence = evidence;
    this.phase = phase;
    this.connection = connection;
  }
}

function fromSignals(signals: FailureSignals, connection?: CallConnection): CallFailure {
  const { code, evidence } = classifyFailure(signals);
  return new CallFailure(code, evidence, signals.errorMessage ?? signals.errorCode ?? code, signals.phase, connection);
}

const round = (ms: number) => Math.round(ms * 10) / 10;

export async function httpCall(req: OutgoingRequest, callTls: CallTls, ctx: CallContext): Promise<CallResult> {
  const { limits, signal } = ctx;
  const policy = ctx.policy ?? LOCAL_POLICY;
  const url = req.url;
  try {
    checkUrlAllowed(url, policy);
  } catch (err) {
    if (err instanceof OutboundRefused) throw new CallFailure(err.code, [err.message], err.message, 'url');
    throw err;
  }
  const secure = url.protocol === 'https:';
  const hostname = hostnameOf(url);
  const port = Number(url.port || (secure ? 443 : 80));
  const leaf = callTls.chain[0];
  const base: Partial<FailureSignals> = {
    clientCertSent: secure && !!leaf,
    clientChainLength: callTls.chain.length,
    ...(leaf ? { clientNotBefore: Date.parse(leaf.validFrom), clientNotAfter: Date.parse(leaf.validTo) } : {}),
    ...(leaf ? { clientCertClientAuth: !callTls.problems?.some((p) => p.code === 'eku_missing_client_auth') } : {}),
  };
  const t0 = performance.now();
  let socket: net.Socket | undefined;
  let tlsSocket: tls.TLSSocket | undefined;
  try {
    let resolved;
    try {
      resolved = await resolveHost(hostname, limits, signal, policy, port);
    } catch (err) {
      if (err instanceof PhaseError) throw fromSignals(err.signals);
      throw err;
    }
    const dnsMs = round(performance.now() - t0);
    const endpoint = `${resolved.family === 6 ? `[${resolved.address}]` : resolved.address}:${port}`;
    const trust = trustFor(url, callTls.bundle, callTls.lab, callTls.trustLab);
    const connection: CallConnection = { endpoint, tls: secure, ...(secure ? { trust: trust.label } : {}) };
    try {
      socket = await connectTcp(resolved.address, port, resolved.family, limits, signal);
    } catch (err) {
      if (err instanceof PhaseError) throw fromSignals(err.signals, connection);
      throw err;
    }
    const connectMs = round(performance.now() - t0);
    let tlsMs: number | null = null;
    let lateError: () => Error | undefined = () => undefined;
    let conversation: tls.TLSSocket | net.Socket = socket;
    if (secure) {
      let hs;
      try {
        hs = await handshakeTls(socket, {
          servername: net.isIP(hostname) ? undefined : hostname,
          ca: trust.ca,
          ...(leaf && callTls.key && callTls.certificatePem ? { certificatePem: callTls.certificatePem, privateKeyPem: callTls.key } : {}),
          ...(ctx.owner ? { owner: ctx.owner } : {}),
        }, hostname, limits, signal, base);
      } catch (err) {
        if (err instanceof PhaseError) throw fromSignals(err.signals, connection);
        throw err;
      }
      tlsSocket = hs.socket;
      conversation = hs.socket;
      lateError = hs.lateError;
      tlsMs = round(hs.endedAt - t0);
      const wire = hs.wire();
      Object.assign(base, wireSignals(wire));
      Object.assign(connection, {
        protocol: hs.protocol,
        cipher: hs.cipher,
        serverCertificate: hs.serverChain()[0],
        serverVerified: !hs.verifyError,
        serverVerifyError: hs.verifyError,
        certificateRequested: wire.certificateRequested,
        acceptableCAs: wire.acceptableCAs,
        clientCertificateSent: wire.clientChainDer === null ? !!leaf : wire.clientChainDer.length > 0,
        ...(leaf ? { clientCertificateSubject: oneLineDn(leaf.subject) } : {}),
      });
      if (leaf && wire.certificateRequested && wire.acceptableCAs.length) {
        connection.chainReachesAcceptableCA = describeAcceptance(callTls.chain, wire.acceptableCAs).reaches;
        // A TLS 1.3 server that refuses the certificate after the handshake: the CA names tell why.
        base.clientChainReachesAcceptableCA = connection.chainReachesAcceptableCA;
      }
      if (hs.verifyError && callTls.verifyServer) {
        const code = classifyServerVerification(hs.verifyError);
        throw new CallFailure(code, [`server verification: ${hs.verifyError}`, `server sent: ${hs.serverChain().map((c) => c.subject).join(' ← ')}`], hs.verifyError, 'tls', connection);
      }
    }
    let result: HttpResult;
    try {
      // exchange() speaks HTTP/1.1 over any stream socket; a plain one has no late TLS error.
      result = await exchange(conversation as tls.TLSSocket, req, limits, signal, t0, lateError, base);
    } catch (err) {
      if (err instanceof PhaseError) throw fromSignals(err.signals, connection);
      throw err;
    }
    const date = typeof result.headers.date === 'string' ? Date.parse(result.headers.date) : NaN;
    return {
      ...result,
      connection,
      timings: { dnsMs, connectMs, tlsMs, requestSentMs: result.sentMs, headersMs: result.headersMs, endMs: result.endMs },
      ...(Number.isFinite(date) ? { serverDate: date } : {}),
    };
  } finally {
    tlsSocket?.destroy();
    socket?.destroy();
  }
}

export { CancelledError };
