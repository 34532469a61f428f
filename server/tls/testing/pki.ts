// A throwaway PKI made with the openssl CLI at test time (nothing secret is committed): a client
// root with a plain DN, a second client CA whose DN exercises OpenSSL's quoting and escaping, a
// client certificate, and a server chain (root → intermediate → localhost).
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCredential {
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
  der: Uint8Array;
}

export interface TestPki {
  dir: string;
  clientRoot: TestCredential;
  secondClientCa: TestCredential;
  /** clientRoot then secondClientCa, concatenated: the CA file servers are given. */
  clientCasPath: string;
  clientCasPem: string;
  /** RSA-2048, issued by clientRoot, clientAuth. */
  client: TestCredential;
  serverRoot: TestCredential;
  serverIntermediate: TestCredential;
  /** localhost / 127.0.0.1, issued by serverIntermediate. */
  server: TestCredential;
  /** server then serverIntermediate: what a server should send. */
  serverChainPem: string;
  /** A "good" OCSP response for `server`, signed by its issuer: what s_server -status_file staples. */
  serverOcspResponsePath: string;
  serverOcspResponseDer: Uint8Array;
  remove(): Promise<void>;
}

export const CLIENT_ROOT_SUBJECT = '/C=US/O=Harness Test/CN=Tap Client Root';
/** Quotes, a comma, a backslash, a multi-valued RDN, a leading # and non-ASCII: all the printing rules at once. */
export const SECOND_CLIENT_CA_SUBJECT = '/O=Tap, Second "CA"+OU=Multi/L=#Hash Town/CN=Zweite Stelle é \\\\ x/emailAddress=ca@example.test';

const CA_EXTENSIONS = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];

export async function makeTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'tls-tap-pki-'));
  const issue = async (name: string, subject: string, options: { key: 'ec' | 'rsa'; issuer?: TestCredential; extensions: string[] }): Promise<TestCredential> => {
    const certPath = join(dir, `${name}.pem`);
    const keyPath = join(dir, `${name}.key`);
    const key = options.key === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    const issuer = options.issuer ? ['-CA', options.issuer.certPath, '-CAkey', options.issuer.keyPath] : [];
    await run('openssl', ['req', '-x509', '-utf8', ...key, '-nodes', '-keyout', keyPath, '-out', certPath, '-subj', subject, '-days', '2', ...issuer, ...options.extensions]);
    const certPem = await readFile(certPath, 'utf8');
    return { certPath, keyPath, certPem, keyPem: await readFile(keyPath, 'utf8'), der: new Uint8Array(new X509Certificate(certPem).raw) };
  };
  try {
    const [clientRoot, secondClientCa, serverRoot] = await Promise.all([
      issue('client-root', CLIENT_ROOT_SUBJECT, { key: 'ec', extensions: CA_EXTENSIONS }),
      issue('second-client-ca', SECOND_CLIENT_CA_SUBJECT, { key: 'ec', extensions: CA_EXTENSIONS }),
      issue('server-root', '/O=Harness Test/CN=Tap Server Root', { key: 'ec', extensions: CA_EXTENSIONS }),
    ]);
    const [client, serverIntermediate] = await Promise.all([
      issue('client', '/O=Harness Test/CN=Tap Client', { key: 'rsa', issuer: clientRoot, extensions: ['-addext', 'basicConstraints=CA:FALSE', '-addext', 'extendedKeyUsage=clientAuth'] }),
      issue('server-intermediate', '/O=Harness Test/CN=Tap Server Intermediate', { key: 'ec', issuer: serverRoot, extensions: CA_EXTENSIONS }),
    ]);
    const server = await issue('server', '/CN=localhost', {
      key: 'ec',
      issuer: serverIntermediate,
      extensions: ['-addext', 'basicConstraints=CA:FALSE', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-addext', 'extendedKeyUsage=serverAuth'],
    });
    const serverOcspResponsePath = await ocspResponse(dir, server, serverIntermediate);
    const clientCasPem = clientRoot.certPem + secondClientCa.certPem;
    const clientCasPath = join(dir, 'client-cas.pem');
    await writeFile(clientCasPath, clientCasPem);
    return {
      dir,
      clientRoot,
      secondClientCa,
      clientCasPath,
      clientCasPem,
      client,
      serverRoot,
      serverIntermediate,
      server,
      serverChainPem: server.certPem + serverIntermediate.certPem,
      serverOcspResponsePath,
      serverOcspResponseDer: new Uint8Array(await readFile(serverOcspResponsePath)),
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Answers an OCSP request for `subject` from a one-line CA index (`openssl ocsp -index`). */
async function ocspResponse(dir: string, subject: TestCredential, issuer: TestCredential): Promise<string> {
  const { stdout } = await run('openssl', ['x509', '-in', subject.certPath, '-noout', '-serial']);
  const serial = stdout.trim().replace(/^serial=/, '');
  const expiry = new Date(Date.now() + 2 * 86_400_000).toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  const indexPath = join(dir, 'ocsp-index.txt');
  await writeFile(indexPath, `V\t${expiry}\t\t${serial}\tunknown\t/CN=localhost\n`);
  const requestPath = join(dir, 'ocsp-request.der');
  const responsePath = join(dir, 'ocsp-response.der');
  await run('openssl', ['ocsp', '-issuer', issuer.certPath, '-cert', subject.certPath, '-no_nonce', '-reqout', requestPath]);
  await run('openssl', ['ocsp', '-index', indexPath, '-rsigner', issuer.certPath, '-rkey', issuer.keyPath, '-CA', issuer.certPath, '-reqin', requestPath, '-respout', responsePath, '-ndays', '1']);
  return responsePath;
}
