// The built-in lab: HTTPS targets on loopback that succeed and fail on purpose, so the
// harness works with no setup and trainers can show each failure.
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { labPorts, listenStable } from './listen.ts';
import type { X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LabInfo, LabSignProfile } from '../../shared/protocol/index.ts';
import { DEFAULT_LIMITS } from '../defaults.ts';
import { rfc4514FromDer, rfc4514FromNodeDn } from '../../shared/pki/names.ts';
import { loadOrCreateLabPki, loadOrCreateTargetsPki, signClientCsrAs, RegionalCrl, type LabPki, type LabTargetsPki } from './lab-pki.ts';
import { x509 } from '../../shared/pki/issue.ts';
import { startTokenService, type LabTokenService } from './token-service.ts';
import type { LabTrust } from '../net/dial.ts';

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
  /** Entries the regional CRL keeps (limits.labRevokedCertificates). */
  maxRevoked?: number;
}

/** The lab's stable ports under `harness serve`, so slides and lesson texts stay right (docs/lab.md). */
export const LAB_DEFAULT_PORT = 7443;

export interface RunningLab {
  info: LabInfo;
  pki: LabPki;
  /** PEM of the CA that issued the lab's server certificate: probes trust it for lab targets. */
  serverCaPem: string;
  /** That CA and the lab endpoints it is trusted for: what probes, flows, checks and JWKS fetches trust. */
  trust: LabTrust;
  /** Signs a browser-made CSR; `profile` (default `client`) picks the issuer and validity, see LAB_SIGN_PROFILES. */
  signCsr(csrPem: string, profile?: LabSignProfile): Promise<{ certificatePem: string; chainPem: string }>;
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

// Apache's 403 page, as a `Require expr` on the client certificate's CN answers.
const APACHE_403 = '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>403 Forbidden</title>\n</head><body>\n<h1>Forbidden</h1>\n<p>You don\'t have permission to access this resource.</p>\n</body></html>\n';
const NGINX_403 = '<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n<hr><center>harness-lab</center>\r\n</body>\r\n</html>\r\n';

/**
 * The lab's locations on the one mTLS listener, each with its own rule (as nginx/Apache apply
 * per-location rules after one handshake). Every other path is the plain `mtls` target.
 */
export const LAB_PATHS = {
  mtls: '/orders',
  intermediate: '/intermediate/orders',
  coupa: '/coupa/cxml',
  rotation: '/rotation/orders',
  crl: '/rotation/regional.crl',
} as const;
type Location = keyof typeof LAB_PATHS;

/** The CN the `coupa` location requires, as the partner's `Require expr` would. */
export const LAB_COUPA_CN = 'acme-coupa-supplier';

function locationOf(url: string | undefined): Location {
  const path = new URL(url ?? '/', 'https://lab.invalid').pathname.replace(/\/+$/, '');
  const hit = (Object.entries(LAB_PATHS) as [Location, string][]).find(([, p]) => p === path);
  return hit ? hit[0] : 'mtls';
}

interface LabContext {
  clientCaSubject: string;
  intermediateSubject: string;
  regionalSubject: string;
  crl: RegionalCrl;
}

function commonName(subject: string): string | null {
  return /^CN=(.*)$/m.exec(subject)?.[1] ?? null;
}

/**
 * The location's rule for a certificate the handshake verified (against the client CA or the
 * regional CA): null to accept, else the refusal, with the reason in `x-lab-refused` (or
 * `x-lab-verify-error` for what nginx would call a verification failure).
 */
async function refusal(location: Location, cert: X509Certificate, ctx: LabContext): Promise<{ status: 400 | 403; body: string; header: [string, string] } | null> {
  const issuer = rfc4514FromNodeDn(cert.issuer);
  const fromClientCa = issuer === ctx.clientCaSubject || issuer === ctx.intermediateSubject;
  switch (location) {
    case 'mtls':
      return fromClientCa ? null : { status: 403, body: NGINX_403, header: ['x-lab-refused', `this location accepts certificates of ${ctx.clientCaSubject}; the certificate was issued by ${issuer}`] };
    case 'intermediate':
      return issuer === ctx.intermediateSubject ? null : { status: 403, body: NGINX_403, header: ['x-lab-refused', `this location accepts certificates issued by ${ctx.intermediateSubject}; the certificate was issued by ${issuer}`] };
    case 'coupa': {
      if (!fromClientCa) return { status: 403, body: APACHE_403, header: ['x-lab-refused', `this location accepts certificates of ${ctx.clientCaSubject}; the certificate was issued by ${issuer}`] };
      const cn = commonName(cert.subject);
      return cn === LAB_COUPA_CN ? null : { status: 403, body: APACHE_403, header: ['x-lab-refused', `Require expr %{SSL_CLIENT_S_DN_CN} == '${LAB_COUPA_CN}' failed: the certificate's CN is ${cn === null ? 'missing' : `'${cn}'`}`] };
    }
    case 'rotation': {
      // This location trusts the regional CA only (nginx: ssl_client_certificate regional.pem; ssl_crl regional.crl).
      if (issuer !== ctx.regionalSubject) return { status: 400, body: nginxStyle400('The SSL certificate error'), header: ['x-lab-verify-error', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'] };
      const crl = new x509.X509Crl(await ctx.crl.der());
      return crl.findRevoked(new x509.X509Certificate(cert.raw)) ? { status: 400, body: nginxStyle400('The SSL certificate error'), header: ['x-lab-verify-error', 'CERT_REVOKED'] } : null;
    }
    default:
      return null;
  }
}

function handleMtls(ctx: LabContext, req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket as TLSSocket;
  const location = locationOf(req.url);
  if (location === 'crl') {
    req.resume();
    void ctx.crl.der().then((der) => {
      res.writeHead(200, { 'content-type': 'application/pkix-crl', 'cache-control': 'no-store', connection: 'close' });
      res.end(Buffer.from(der));
    }, () => { res.writeHead(500, { connection: 'close' }); res.end(); });
    return;
  }
  const peer = describePeer(socket);
  const send = (status: number, type: string, body: string) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', connection: 'close' });
    res.end(body);
  };
  // Drain any request body before answering so the client sees the response, not a reset.
  req.resume();
  req.on('end', () => void (async () => {
    if (!peer) return send(400, 'text/html', nginxStyle400('No required SSL certificate was sent'));
    if (!socket.authorized) {
      res.setHeader('x-lab-verify-error', String(socket.authorizationError));
      return send(400, 'text/html', nginxStyle400('The SSL certificate error'));
    }
    const refused = await refusal(location, socket.getPeerX509Certificate()!, ctx);
    if (refused) {
      res.setHeader(refused.header[0], refused.header[1]);
      return send(refused.status, 'text/html', refused.body);
    }
    send(200, 'application/json', JSON.stringify({
      ok: true,
      message: 'Client certificate accepted by the harness lab.',
      protocol: socket.getProtocol(),
      clientCertificate: peer,
      target: location,
      request: { method: req.method, path: req.url },
    }, null, 2));
  })().catch(() => { if (!res.headersSent) send(500, 'text/plain', 'lab error\n'); }));
}

export async function startLab(opts: LabOptions): Promise<RunningLab> {
  const host = opts.host ?? '127.0.0.1';
  const pki = await loadOrCreateLabPki(opts.dataDir);
  const targetsPki: LabTargetsPki = await loadOrCreateTargetsPki(opts.dataDir, pki);
  const crl = new RegionalCrl(targetsPki.regional, opts.maxRevoked ?? DEFAULT_LIMITS.labRevokedCertificates);
  const subjectOf = (c: x509.X509Certificate) => rfc4514FromDer(new Uint8Array(c.subjectName.toArrayBuffer()));
  const ctx: LabContext = {
    clientCaSubject: subjectOf(pki.clientCa.certificate),
    intermediateSubject: subjectOf(targetsPki.intermediate.certificate),
    regionalSubject: subjectOf(targetsPki.regional.certificate),
    crl,
  };
  // Like nginx with `ssl_verify_client optional`: the handshake completes and the verdict is
  // an HTTP answer, so the probe can show both the TLS evidence and the server's reply.
  const mtls = https.createServer({
    cert: pki.serverCertPem,
    key: pki.serverKeyPem,
    // The client CA and the regional CA; never the intermediate, which clients must send.
    ca: [pki.clientCaPem, targetsPki.regionalPem],
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  }, (req, res) => handleMtls(ctx, req, res));
  mtls.headersTimeout = 10_000;
  mtls.requestTimeout = 30_000;
  mtls.keepAliveTimeout = 1_000;
  const port = await listenStable(mtls, opts.port ?? 0, host, opts.onPortTaken);
  const hostForUrl = host.includes(':') ? `[${host}]` : host === '127.0.0.1' ? 'localhost' : host;
  const tokens = await startTokenService({ pki, dataDir: opts.dataDir, host, hostForUrl, port: opts.port ? labPorts(opts.port)[1]! : 0, ...(opts.onPortTaken ? { onPortTaken: opts.onPortTaken } : {}) });
  const info: LabInfo = {
    caCertificatePem: pki.clientCaPem,
    caSubject: ctx.clientCaSubject,
    serverCaPem: pki.serverCaPem,
    targets: [
      {
        id: 'mtls',
        title: 'Lab mTLS target',
        url: `https://${hostForUrl}:${port}${LAB_PATHS.mtls}`,
        expect: 'Requires a client certificate issued by the lab CA; answers JSON describing it.',
      },
      {
        id: 'intermediate',
        title: 'Lab target behind an intermediate CA',
        url: `https://${hostForUrl}:${port}${LAB_PATHS.intermediate}`,
        expect: 'Trusts only the lab client CA (root): a certificate from the lab intermediate CA passes when the intermediate is sent with it; without it, 400 The SSL certificate error (x-lab-verify-error UNABLE_TO_VERIFY_LEAF_SIGNATURE).',
      },
      {
        id: 'coupa',
        title: 'Coupa-style cXML endpoint with a CN rule',
        url: `https://${hostForUrl}:${port}${LAB_PATHS.coupa}`,
        expect: `Requires a lab client certificate with CN=${LAB_COUPA_CN}; any other CN gets Apache's 403 Forbidden (x-lab-refused names the rule).`,
      },
      {
        id: 'rotation',
        title: 'Genesys-style target trusting a regional CA with a CRL',
        url: `https://${hostForUrl}:${port}${LAB_PATHS.rotation}`,
        expect: 'Trusts only the lab regional CA and checks its CRL: a revoked or otherwise-issued certificate gets 400 The SSL certificate error (x-lab-verify-error CERT_REVOKED or UNABLE_TO_GET_ISSUER_CERT_LOCALLY).',
      },
      {
        id: 'rotation-crl',
        title: 'The regional CA\'s CRL',
        url: `https://${hostForUrl}:${port}${LAB_PATHS.crl}`,
        expect: 'The regional CA\'s certificate revocation list (DER, application/pkix-crl); no client certificate needed.',
      },
    ],
    ...tokens.facts,
  };
  info.targets.push(...tokens.targets);
  return {
    info,
    pki,
    serverCaPem: pki.serverCaPem,
    trust: { serverCaPem: pki.serverCaPem, endpoints: info.targets.map((t) => new URL(t.url).host) },
    signCsr: (csrPem, profile = 'client') => signClientCsrAs(pki, targetsPki, crl, csrPem, profile),
    tokens,
    close: async () => {
      await Promise.all([tokens.close(), new Promise<void>((resolve) => {
        mtls.close(() => resolve());
        mtls.closeAllConnections();
      })]);
    },
  };
}
