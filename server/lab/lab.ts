// The built-in lab: HTTPS targets on loopback that succeed and fail on purpose, so the
// harness works with no setup and trainers can show each failure.
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { labPorts, listenStable } from './listen.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LabInfo } from '../../shared/protocol.ts';
import { rfc4514FromDer, rfc4514FromNodeDn } from '../../shared/pki/names.ts';
import { loadOrCreateLabPki, signClientCsr, type LabPki } from './lab-pki.ts';
import { startTokenService, type LabTokenService } from './token-service.ts';

export interface LabOptions {
  dataDir: string;
  host?: string;
  /**
   * Port of the mTLS target; the token service takes the next one and its login page the one
   * after. 0 picks free ones. A stable port that is taken is replaced by a free one (onPortTaken).
   */
  port?: number;
  /** A stable port was in use: the lab listens on `got` instead, and texts naming `wanted` are off. */
  onPortTaken?(wanted: number, got: number): void;
}

/** The lab's stable ports under `harness serve`, so slides and lesson texts stay right (docs/lab.md). */
export const LAB_DEFAULT_PORT = 7443;

export interface RunningLab {
  info: LabInfo;
  pki: LabPki;
  /** PEM of the CA that issued the lab's server certificate: probes trust it for lab targets. */
  serverCaPem: string;
  signCsr(csrPem: string): Promise<{ certificatePem: string; chainPem: string }>;
  /** The lab's authorization server (token flows); its targets are in info.targets. */
  tokens?: LabTokenService;
  close(): Promise<void>;
}

// nginx's own error pages, so the lab teaches the same evidence partners see from real servers.
function nginxStyle400(reason: string): string {
  return `<html>\r\n<head><title>400 ${reason}</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>${reason}</center>\r\n<hr><center>harness-lab</center>\r\n</body>\r\n</html>\r\n`;
}

function describePeer(socket: TLSSocket) {
  const cert = socket.getPeerX509Certificate();
  if (!cert) return null;
  return {
    subject: rfc4514FromNodeDn(cert.subject),
    issuer: rfc4514FromNodeDn(cert.issuer),
    serialNumber: cert.serialNumber,
    validFrom: new Date(cert.validFrom).toISOString(),
    validTo: new Date(cert.validTo).toISOString(),
    fingerprint256: cert.fingerprint256,
  };
}

function handleMtls(req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket as TLSSocket;
  const peer = describePeer(socket);
  const send = (status: number, type: string, body: string) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', connection: 'close' });
    res.end(body);
  };
  // Drain any request body before answering so the client sees the response, not a reset.
  req.resume();
  req.on('end', () => {
    if (!peer) return send(400, 'text/html', nginxStyle400('No required SSL certificate was sent'));
    if (!socket.authorized) {
      res.setHeader('x-lab-verify-error', String(socket.authorizationError));
      return send(400, 'text/html', nginxStyle400('The SSL certificate error'));
    }
    send(200, 'application/json', JSON.stringify({
      ok: true,
      message: 'Client certificate accepted by the harness lab.',
      protocol: socket.getProtocol(),
      clientCertificate: peer,
      request: { method: req.method, path: req.url },
    }, null, 2));
  });
}

export async function startLab(opts: LabOptions): Promise<RunningLab> {
  const host = opts.host ?? '127.0.0.1';
  const pki = await loadOrCreateLabPki(opts.dataDir);
  // Like nginx with `ssl_verify_client optional`: the handshake completes and the verdict is
  // an HTTP answer, so the probe can show both the TLS evidence and the server's reply.
  const mtls = https.createServer({
    cert: pki.serverCertPem,
    key: pki.serverKeyPem,
    ca: pki.clientCaPem,
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  }, handleMtls);
  mtls.headersTimeout = 10_000;
  mtls.requestTimeout = 30_000;
  mtls.keepAliveTimeout = 1_000;
  const port = await listenStable(mtls, opts.port ?? 0, host, opts.onPortTaken);
  const hostForUrl = host.includes(':') ? `[${host}]` : host === '127.0.0.1' ? 'localhost' : host;
  const info: LabInfo = {
    caCertificatePem: pki.clientCaPem,
    caSubject: rfc4514FromDer(new Uint8Array(pki.clientCa.certificate.subjectName.toArrayBuffer())),
    serverCaPem: pki.serverCaPem,
    targets: [
      {
        id: 'mtls',
        title: 'Lab mTLS target',
        url: `https://${hostForUrl}:${port}/orders`,
        expect: 'Requires a client certificate issued by the lab CA; answers JSON describing it.',
      },
    ],
  };
  const tokens = await startTokenService({ pki, dataDir: opts.dataDir, host, hostForUrl, port: opts.port ? labPorts(opts.port)[1]! : 0, ...(opts.onPortTaken ? { onPortTaken: opts.onPortTaken } : {}) });
  info.targets.push(...tokens.targets);
  return {
    info,
    pki,
    serverCaPem: pki.serverCaPem,
    signCsr: (csrPem) => signClientCsr(pki, csrPem),
    tokens,
    close: async () => {
      await Promise.all([tokens.close(), new Promise<void>((resolve) => {
        mtls.close(() => resolve());
        mtls.closeAllConnections();
      })]);
    },
  };
}
