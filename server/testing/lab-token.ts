// Access tokens from the built-in lab's token endpoint, for tests of what checks a token: a
// real client-credentials request over mTLS to the running lab.
import https from 'node:https';
import type { RunningLab } from '../lab/lab.ts';

type Lab = Pick<RunningLab, 'tokens' | 'serverCaPem'>;

/** POSTs `form` to the lab's /token (with a client certificate or Basic credentials); rejects unless 200. */
export function labToken(lab: Lab, form: string, opts: { cert?: string; key?: string; basic?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${lab.tokens!.issuer}/token`, {
      method: 'POST',
      ca: lab.serverCaPem,
      ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(opts.basic ? { authorization: `Basic ${Buffer.from(opts.basic).toString('base64')}` } : {}) },
    }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body).access_token) : reject(new Error(`${res.statusCode} ${body}`))));
    });
    req.on('error', reject);
    req.end(form);
  });
}

/** A token bound to the self-signed demo client's certificate (RFC 8705 self_signed_tls_client_auth). */
export function boundLabToken(lab: Lab): Promise<string> {
  const self = lab.tokens!.demo.selfSigned;
  return labToken(lab, 'grant_type=client_credentials&client_id=lab-selfsigned', { cert: self.certificatePem, key: self.privateKeyPem });
}
