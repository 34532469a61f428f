// The connection phases every outbound run goes through — DNS, TCP, TLS — each bounded by
// its own timeout and the run's abort signal, each failing with the signals a diagnosis needs.
// The probe turns them into steps; token flows call them through httpCall().
import net from 'node:net';
import tls from 'node:tls';
import { lookup } from 'node:dns/promises';
import { X509Certificate, createHash } from 'node:crypto';
import type { FailureSignals } from '../../shared/diagnose.ts';
import type { Limits } from '../defaults.ts';
import { tapConnection, type TlsObservation } from '../tls/tap.ts';
import { acquireContext, type ContextHold } from './tls-contexts.ts';
import { deliverFairly, type Owner } from './fair-share.ts';
import { checkAllAddresses, LOCAL_POLICY, OutboundRefused, type OutboundPolicy } from './outbound-guard.ts';
import { rfc4514FromNodeDn } from '../../shared/pki/names.ts';
import { HarnessError } from '../../shared/errors.ts';
import type { CertificateSummary } from '../../shared/protocol/evidence.ts';

export class PhaseError extends HarnessError<'phase_failed'> {
  readonly signals: FailureSignals;
  /** A failed TLS phase: what the tap saw first (a TLS 1.2 server's CertificateRequest before it refused). */
  readonly wire: TlsObservation | undefined;
  constructor(signals: FailureSignals, wire?: TlsObservation) {
    super('phase_failed', signals.errorMessage ?? signals.errorCode ?? 'failed');
    this.signals = signals;
    this.wire = wire;
  }
}

export class CancelledError extends HarnessError<'cancelled'> {
  constructor() {
    super('cancelled', 'run cancelled');
  }
}

/** Resolves with `promise`, or rejects on timeout or abort; the timer never outlives it. */
export function bounded<T>(promise: Promise<T>, ms: number, signal: AbortSignal | undefined, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      // Nobody will wait for it: its later rejection (the socket closing) must not go unhandled,
      // which would end the relay's process.
      promise.catch(() => {});
      return reject(new CancelledError());
    }
    const timer = setTimeout(() => reject(onTimeout()), ms);
    // Cancelled (a relay shutting down cancels every run): the timer goes too, or it would hold
    // the process open for up to `ms` after the shutdown finished.
    const onAbort = () => { done(); promise.catch(() => {}); reject(new CancelledError()); };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => { clearTimeout(timer); signal?.removeEventListener('abort', onAbort); };
    promise.then((v) => { done(); resolve(v); }, (e) => { done(); reject(e); });
  });
}

export function errInfo(err: unknown): { errorCode?: string; errorMessage?: string } {
  const e = err as NodeJS.ErrnoException;
  return { errorCode: typeof e?.code === 'string' ? e.code : undefined, errorMessage: e instanceof Error ? e.message : String(err) };
}

function timeoutError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

interface Resolved {
  address: string;
  family: number;
  all: string[];
  literal: boolean;
}

/**
 * Resolves a host name and, under an enforcing policy, checks every answer. The caller must
 * connect to `address` — the one that was checked — and keep the name for SNI and Host.
 */
export async function resolveHost(hostname: string, limits: Limits, signal?: AbortSignal, policy: OutboundPolicy = LOCAL_POLICY, port?: number): Promise<Resolved> {
  try {
    const literal = net.isIP(hostname);
    if (literal) {
      checkAllAddresses(hostname, [hostname], policy, port);
      return { address: hostname, family: literal, all: [hostname], literal: true };
    }
    const all = await bounded(lookup(hostname, { all: true, verbatim: true }), limits.dnsTimeoutMs, signal,
      () => timeoutError(`DNS lookup took longer than ${limits.dnsTimeoutMs} ms`, 'ETIMEOUT'));
    const first = all[0];
    if (!first) throw timeoutError(`${hostname} has no addresses`, 'ENOTFOUND');
    checkAllAddresses(hostname, all.map((a) => a.address), policy, port);
    return { address: first.address, family: first.family, all: all.map((a) => a.address), literal: false };
  } catch (err) {
    if (err instanceof CancelledError) throw err;
    if (err instanceof OutboundRefused) throw new PhaseError({ phase: 'dns', refusal: err.code, errorMessage: err.message });
    const info = errInfo(err);
    throw new PhaseError({ phase: 'dns', ...info, timedOut: info.errorCode === 'ETIMEOUT' });
  }
}

export async function connectTcp(address: string, port: number, family: number, limits: Limits, signal?: AbortSignal): Promise<net.Socket> {
  let socket: net.Socket | undefined;
  try {
    return await bounded(new Promise<net.Socket>((resolve, reject) => {
      // Through the tap, Node's http cannot reach the handle to turn Nagle off itself; without
      // this a request written in two pieces waits for an ACK (about 0.5 ms per probe here).
      const s = net.connect({ host: address, port, family, noDelay: true });
      socket = s;
      s.once('connect', () => { s.off('error', reject); resolve(s); });
      s.once('error', reject);
    }), limits.connectTimeoutMs, signal, () => timeoutError(`no TCP answer within ${limits.connectTimeoutMs} ms`, 'ETIMEDOUT'));
  } catch (err) {
    socket?.destroy();
    if (err instanceof CancelledError) throw err;
    const info = errInfo(err);
    throw new PhaseError({ phase: 'tcp', ...info, timedOut: info.errorCode === 'ETIMEDOUT' });
  }
}

interface TlsOptions {
  servername: string | undefined;
  /** Trusted CAs; undefined = Node's built-in root store (shared, so no per-connection cost). */
  ca: string[] | undefined;
  certificatePem?: string;
  privateKeyPem?: string;
  alpn?: string[];
  /** Keeps this connection's TLS context after it closes (a server check's cached case). */
  hold?: ContextHold;
  /** Whose work the server's bytes are, for the fair share (fair-share.ts); default: nobody's in particular. */
  owner?: Owner;
  /**
   * Called in the secureConnect event itself, before anything else is done with the handshake:
   * a caller that sends its request here puts it on the wire as early as a bare tls.connect
   * does, ahead of the promise reactions and the rest of the read that delivered the Finished.
   * `lateError` is the first error after secureConnect, as on the Handshake.
   */
  onSecure?(socket: tls.TLSSocket, lateError: () => Error | undefined): void;
}

/** The host a URL names, to look up and to send as SNI: an IPv6 literal without its brackets. */
export function hostnameOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/** Node's multi-line DN as one RFC 4514 line (most specific first), as everywhere in the harness. */
export function oneLineDn(dn: string): string {
  return rfc4514FromNodeDn(dn);
}

function summarize(cert: X509Certificate): CertificateSummary {
  return {
    subject: oneLineDn(cert.subject),
    issuer: oneLineDn(cert.issuer),
    serialNumber: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    fingerprint256: cert.fingerprint256,
    // Name comparison only: verifying the signature here would cost a public-key operation per certificate per run.
    selfSigned: cert.subject === cert.issuer,
  };
}

export interface Handshake {
  socket: tls.TLSSocket;
  protocol: string | null;
  cipher: string;
  group: string | null;
  alpn: string | null;
  sessionReused: boolean;
  /** performance.now() at secureConnect: when the handshake really ended. */
  endedAt: number;
  /** What the wire said (CertificateRequest, CA names, chains as sent). */
  wire(): TlsObservation;
  /** The server's chain as sent, summarised; falls back to Node's view if the tap saw nothing. */
  serverChain(): CertificateSummary[];
  /** Null when the certificate verifies and matches the host name. */
  verifyError: string | null;
  /** The first error after secureConnect (a TLS 1.3 alert about our certificate arrives then). */
  lateError(): Error | undefined;
}

const MAX_CHAIN = 10;

/**
 * Servers send the same chain to every probe; parsing it each time showed up in profiles of
 * concurrent runs. Summaries (public data) are kept by the hash of the certificate's DER.
 */
const summaries = new Map<string, CertificateSummary>();
const SUMMARY_CACHE_SIZE = 256;

function summaryOf(der: Uint8Array): CertificateSummary {
  const id = createHash('sha256').update(der).digest('base64');
  const hit = summaries.get(id);
  if (hit) return hit;
  const summary = summarize(new X509Certificate(der));
  summaries.set(id, summary);
  if (summaries.size > SUMMARY_CACHE_SIZE) summaries.delete(summaries.keys().next().value!);
  return summary;
}

function nodeChain(socket: tls.TLSSocket): CertificateSummary[] {
  const out: CertificateSummary[] = [];
  let cert = socket.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined;
  const seen = new Set<string>();
  while (cert?.raw && out.length < MAX_CHAIN && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    out.push(summarize(new X509Certificate(cert.raw)));
    cert = cert.issuerCertificate;
  }
  return out;
}

/**
 * TLS over an open socket, through the wire tap. Verification is judged here rather than by
 * Node so the chain can be shown even when it fails; the caller decides whether to go on.
 * What is known at secureConnect (verdict, cipher) is ready at once; reading the wire and the
 * server's chain waits until asked, so a caller can put its request on the wire first.
 */
export async function handshakeTls(socket: net.Socket, opts: TlsOptions, hostname: string, limits: Limits, signal: AbortSignal | undefined, base: Partial<FailureSignals>): Promise<Handshake> {
  const owner = opts.owner ?? '';
  const tap = tapConnection(socket, (task) => deliverFairly(owner, task));
  let tlsSocket: tls.TLSSocket | undefined;
  let endedAt = 0;
  let release = () => {};
  let late: Error | undefined;
  const lateError = () => late;
  try {
    tlsSocket = await bounded(new Promise<tls.TLSSocket>((resolve, reject) => {
      const contextOptions = {
        ...(opts.ca ? { ca: opts.ca } : {}),
        ...(opts.certificatePem && opts.privateKeyPem ? { certificatePem: opts.certificatePem, privateKeyPem: opts.privateKeyPem } : {}),
      };
      const shared = acquireContext(contextOptions);
      release = shared.release;
      opts.hold?.keep(contextOptions);
      const s = tls.connect({
        socket: tap.duplex,
        secureContext: shared.context,
        servername: opts.servername,
        rejectUnauthorized: false,
        // Node checks the name against the certificate it has already read; over the tap it
        // would not know the host (an IP target has no servername), so it is given here.
        checkServerIdentity: (_name, cert) => tls.checkServerIdentity(hostname, cert),
        ALPNProtocols: opts.alpn ?? ['http/1.1'],
      });
      tlsSocket = s;
      tap.attach(s);
      s.once('close', release);
      s.once('secureConnect', () => {
        endedAt = performance.now();
        s.off('error', reject);
        s.on('error', (err) => { late ??= err; });
        opts.onSecure?.(s, lateError);
        resolve(s);
      });
      s.once('error', reject);
    }), limits.tlsTimeoutMs, signal, () => timeoutError(`TLS handshake did not finish within ${limits.tlsTimeoutMs} ms`, 'TLS_TIMEOUT'));
  } catch (err) {
    if (tlsSocket) tlsSocket.destroy();
    else release();
    socket.destroy();
    if (err instanceof CancelledError) throw err;
    const info = errInfo(err);
    const wire = tap.observation();
    throw new PhaseError({ phase: 'tls', ...base, ...wireSignals(wire), ...info, timedOut: info.errorCode === 'TLS_TIMEOUT' }, wire);
  }

  const s = tlsSocket;
  let chain: CertificateSummary[] | undefined;
  const cipher = s.getCipher();
  const ephemeral = s.getEphemeralKeyInfo() as { type?: string; name?: string } | null;
  return {
    socket: s,
    protocol: s.getProtocol(),
    cipher: cipher.standardName ?? cipher.name,
    // The tap names the group even for TLS 1.3, where Node's ephemeral key info is empty.
    get group() {
      return tap.observation().keyExchangeGroup ?? ephemeral?.name ?? ephemeral?.type ?? null;
    },
    alpn: s.alpnProtocol || null,
    sessionReused: s.isSessionReused(),
    endedAt,
    wire: () => tap.observation(),
    serverChain: () => {
      if (!chain) {
        const sent = tap.observation().serverChainDer.slice(0, MAX_CHAIN).map(summaryOf);
        chain = sent.length ? sent : nodeChain(s);
      }
      return chain;
    },
    verifyError: s.authorized ? null : String(s.authorizationError),
    lateError,
  };
}

/** The built-in lab's server CA and the endpoints (`host:port`) it is trusted for. */
export interface LabTrust {
  serverCaPem: string;
  endpoints: string[];
}

/**
 * Which CAs verify the server: the bundle the user gave; else the lab CA for a lab target;
 * else Node's built-in roots. Passing the ~140 system roots as `ca` would rebuild a trust store
 * on every connection (about 30 ms); leaving `ca` out reuses Node's.
 */
export function trustFor(url: URL, bundle: string[], lab: LabTrust | undefined, trustLab: boolean): { ca: string[] | undefined; label: string; labCaPem?: string } {
  if (bundle.length) return { ca: bundle, label: 'CA bundle given for this probe' };
  const endpoint = `${hostnameOf(url)}:${url.port || 443}`;
  if (lab && trustLab && lab.endpoints.includes(endpoint)) return { ca: [lab.serverCaPem], label: 'lab CA (lab target)', labCaPem: lab.serverCaPem };
  return { ca: undefined, label: 'system store' };
}

/** What the tap adds to a diagnosis: did the server ask, did we send a certificate, which alert it sent. */
export function wireSignals(wire: TlsObservation): Partial<FailureSignals> {
  const out: Partial<FailureSignals> = {};
  // "Not requested" is only known once the server's whole first flight was read.
  const flightEnd = wire.messages.some((m) => m.from === 'server' && (m.type === 'finished' || m.type === 'server_hello_done'));
  if (wire.certificateRequested || flightEnd) out.certificateRequested = wire.certificateRequested;
  if (wire.clientChainDer !== null) {
    out.clientCertSent = wire.clientChainDer.length > 0;
    out.clientChainLength = wire.clientChainDer.length;
  }
  // The alert's number as sent, whatever OpenSSL's error text makes of it.
  const fatal = wire.alerts.find((a) => a.from === 'server' && a.level === 2);
  if (fatal) out.serverAlert = fatal.description;
  return out;
}
