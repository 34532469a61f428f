// One HTTP/1.1 request over an already-open TLS socket, with the timings a user asks about
// (request sent, response headers, first body byte) and a cap on what is kept of the body.
import http from 'node:http';
import type tls from 'node:tls';
import type { Limits } from '../defaults.ts';
import { bounded, CancelledError, errInfo, PhaseError } from './dial.ts';
import type { FailureSignals } from '../../shared/diagnose.ts';

export interface OutgoingRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  bytes: number;
  truncated: boolean;
  /** ms since `t0` given to exchange(). */
  sentMs: number;
  headersMs: number;
  firstByteMs: number | null;
  endMs: number;
}

interface ExchangeHooks {
  /** The whole request was handed to the socket. */
  onSent?(): void;
}

const USER_AGENT = 'mtls-harness/0.1';

export function requestHeaders(req: OutgoingRequest): Record<string, string> {
  const headers: Record<string, string> = { host: req.url.host, 'user-agent': USER_AGENT, accept: '*/*', ...req.headers };
  if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
  return headers;
}

/**
 * Sends the request and reads the response. An error that arrives on the socket first — a
 * TLS 1.3 alert about our certificate — is what failed, not the write that noticed it.
 */
export async function exchange(socket: tls.TLSSocket, req: OutgoingRequest, limits: Limits, signal: AbortSignal | undefined, t0: number, lateError: () => Error | undefined, base: Partial<FailureSignals>, hooks: ExchangeHooks = {}): Promise<HttpResult> {
  const since = () => Math.round((performance.now() - t0) * 10) / 10;
  let sentMs = 0;
  let stage: 'headers' | 'body' = 'headers';
  const fail = (err: unknown): never => {
    socket.destroy();
    if (err instanceof CancelledError) throw err;
    const info = errInfo(lateError() ?? err);
    throw new PhaseError({
      phase: 'response', ...base, handshakeComplete: true, ...info, stage,
      timedOut: info.errorCode === 'RESPONSE_TIMEOUT' || info.errorCode === 'BODY_TIMEOUT',
    });
  };

  let res: http.IncomingMessage;
  let headersMs = 0;
  let firstByteMs: number | null = null;
  const chunks: Buffer[] = [];
  let kept = 0;
  let bytes = 0;
  // The body is read from the moment the headers arrive, not once the code awaiting them runs.
  let body: Promise<void> | undefined;
  const readBody = (response: http.IncomingMessage) => new Promise<void>((resolve, reject) => {
    response.on('data', (chunk: Buffer) => {
      firstByteMs ??= since();
      bytes += chunk.length;
      if (kept < limits.maxResponseBodyBytes) {
        const part = chunk.subarray(0, limits.maxResponseBodyBytes - kept);
        chunks.push(part);
        kept += part.length;
      }
      // An endless body must not keep the run (and a core) busy until the body timeout.
      if (bytes > limits.maxResponseReadBytes) {
        reject(Object.assign(new Error(`the response body passed ${limits.maxResponseReadBytes} bytes; reading stopped`), { code: 'BODY_TOO_LARGE' }));
      }
    });
    response.on('end', () => resolve());
    response.on('aborted', () => reject(Object.assign(new Error('the server closed the connection in the middle of the response body'), { code: 'ECONNRESET' })));
    response.on('error', reject);
  });
  try {
    res = await bounded(new Promise<http.IncomingMessage>((resolve, reject) => {
      const early = lateError();
      if (early) return reject(early);
      const r = http.request({
        method: req.method,
        path: `${req.url.pathname}${req.url.search}`,
        headers: requestHeaders(req),
        maxHeaderSize: limits.maxResponseHeaderBytes,
        // Without an agent, http uses this function for the connection: the socket we tapped.
        createConnection: () => socket,
      });
      // 'finish' waits for the socket to take the bytes; a quick server can answer first.
      let sent = false;
      const markSent = () => {
        if (sent) return;
        sent = true;
        sentMs = since();
        hooks.onSent?.();
      };
      r.on('error', reject);
      r.on('finish', markSent);
      r.on('response', (response) => {
        markSent();
        headersMs = since();
        body = readBody(response);
        body.catch(() => {}); // awaited below once the headers are; this only stops an early failure counting as unhandled
        resolve(response);
      });
      r.end(req.body);
    }), limits.responseTimeoutMs, signal, () => Object.assign(new Error(`no response headers within ${limits.responseTimeoutMs} ms`), { code: 'RESPONSE_TIMEOUT' }));
  } catch (err) {
    return fail(err);
  }

  stage = 'body';
  try {
    await bounded(body!, limits.bodyTimeoutMs, signal, () => Object.assign(new Error(`the response body did not finish within ${limits.bodyTimeoutMs} ms`), { code: 'BODY_TIMEOUT' }));
  } catch (err) {
    return fail(err);
  }
  return {
    status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'),
    bytes, truncated: bytes > kept, sentMs, headersMs, firstByteMs, endMs: since(),
  };
}
