// A throwaway PKI for tests, made at run time with the harness's own issuer (so any validity
// window can be made) and written to a temp dir for openssl/nginx/Apache to read.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, selfSign, issue, exportPkcs8Pem, type Issuer, type IssueOptions } from '../../shared/pki/issue.ts';
import { createCrl, crlPem } from '../../shared/pki/crl.ts';


export interface Pair {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

export interface Crl {
  pem: string;
  file: string;
}

const DAY = 86_400_000;

export interface TestPki {
  dir: string;
  clientCa: Pair;
  clientIntermediate: Pair;
  otherCa: Pair;
  serverCa: Pair;
  server: Pair;
  serverWrongName: Pair;
  /** CN=localhost with DNS:localhost only: valid for the name, not for 127.0.0.1. */
  serverNameOnly: Pair;
  serverSelfSigned: Pair;
  client: Pair;
  clientViaIntermediate: Pair;
  clientExpired: Pair;
  clientNotYetValid: Pair;
  clientServerAuthOnly: Pair;
  clientFromOtherCa: Pair;
  /** Issued by clientIntermediate; for chains longer than a server's verify depth. */
  clientIntermediate2: Pair;
  /** Leaf, intermediate 2 and intermediate 1 in one PEM: four certificates with the root. */
  clientViaTwoIntermediates: Pair;
  /** Valid and issued by the client root, but CN=someone-else: for access rules on the CN. */
  clientWrongCn: Pair;
  /** Issued by the client root and listed on its CRL. */
  clientRevoked: Pair;
  /** The client root's CRL alone: it revokes clientRevoked. */
  clientRootCrl: Crl;
  /** CRLs of every client CA (root, intermediate, intermediate 2) in one file, as chain checking needs. */
  clientCrls: Crl;
  serverIntermediate: Pair;
  /** CN=localhost issued by serverIntermediate; the file holds the leaf alone (no intermediate). */
  serverViaIntermediate: Pair;
  /** Issues another client certificate from the client root (subjects with odd characters, SANs…). */
  issueClient(name: string, opts: Omit<IssueOptions, 'profile'>): Promise<Pair>;
  file(name: string, text: string): Promise<string>;
}

export async function makeTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'harness-pki-'));
  const save = async (name: string, cert: string, key: string): Promise<Pair> => {
    const certFile = join(dir, `${name}.pem`);
    const keyFile = join(dir, `${name}.key`);
    await writeFile(certFile, cert);
    await writeFile(keyFile, key, { mode: 0o600 });
    return { cert, key, certFile, keyFile };
  };
  const root = async (name: string, subject: string) => {
    const keys = await generateKeyPair('P-256', true);
    const cert = await selfSign(keys, { subject, profile: 'root-ca' });
    const issuer: Issuer = { certificate: cert, privateKey: keys.privateKey };
    return { issuer, pair: await save(name, cert.toString('pem') + '\n', await exportPkcs8Pem(keys.privateKey)) };
  };
  const leaf = async (name: string, by: Issuer, opts: IssueOptions) => {
    const keys = await generateKeyPair('P-256', true);
    const cert = await issue(keys.publicKey, by, opts);
    return { issuer: { certificate: cert, privateKey: keys.privateKey }, pair: await save(name, cert.toString('pem') + '\n', await exportPkcs8Pem(keys.privateKey)) };
  };
  const now = Date.now();
  const clientCa = await root('client-ca', 'CN=Test Client Root, O=Harness Tests');
  const otherCa = await root('other-ca', 'CN=Other Root, O=Elsewhere');
  const serverCa = await root('server-ca', 'CN=Test Server Root, O=Harness Tests');
  const clientIntermediate = await leaf('client-int', clientCa.issuer, { subject: 'CN=Test Client Intermediate, O=Harness Tests', profile: 'intermediate-ca' });
  const server = await leaf('server', serverCa.issuer, { subject: 'CN=localhost', profile: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const serverWrongName = await leaf('server-wrong-name', serverCa.issuer, { subject: 'CN=other.example', profile: 'server', dnsNames: ['other.example'] });
  const serverNameOnly = await leaf('server-name-only', serverCa.issuer, { subject: 'CN=localhost', profile: 'server', dnsNames: ['localhost'] });
  const selfKeys = await generateKeyPair('P-256', true);
  const selfCert = await selfSign(selfKeys, { subject: 'CN=localhost', profile: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const serverSelfSigned = await save('server-self', selfCert.toString('pem') + '\n', await exportPkcs8Pem(selfKeys.privateKey));
  const client = await leaf('client', clientCa.issuer, { subject: 'CN=test-client, O=Harness Tests', profile: 'client' });
  const viaInt = await leaf('client-via-int', clientIntermediate.issuer, { subject: 'CN=deep-client', profile: 'client' });
  const clientViaIntermediate = { ...viaInt.pair, cert: viaInt.pair.cert + clientIntermediate.pair.cert };
  await writeFile(clientViaIntermediate.certFile, clientViaIntermediate.cert);
  const clientExpired = await leaf('client-expired', clientCa.issuer, { subject: 'CN=expired-client', profile: 'client', notBefore: new Date(now - 400 * DAY), notAfter: new Date(now - 35 * DAY) });
  const clientNotYetValid = await leaf('client-future', clientCa.issuer, { subject: 'CN=future-client', profile: 'client', notBefore: new Date(now + 10 * DAY), notAfter: new Date(now + 400 * DAY) });
  const clientServerAuthOnly = await leaf('client-serverauth', clientCa.issuer, { subject: 'CN=server-auth-only', profile: 'client', extendedKeyUsages: ['1.3.6.1.5.5.7.3.1'] });
  const clientFromOtherCa = await leaf('client-other', otherCa.issuer, { subject: 'CN=stranger', profile: 'client' });
  const clientIntermediate2 = await leaf('client-int2', clientIntermediate.issuer, { subject: 'CN=Test Client Intermediate 2, O=Harness Tests', profile: 'intermediate-ca' });
  const viaTwo = await leaf('client-via-int2', clientIntermediate2.issuer, { subject: 'CN=deeper-client', profile: 'client' });
  const clientViaTwoIntermediates = { ...viaTwo.pair, cert: viaTwo.pair.cert + clientIntermediate2.pair.cert + clientIntermediate.pair.cert };
  await writeFile(clientViaTwoIntermediates.certFile, clientViaTwoIntermediates.cert);
  const clientWrongCn = await leaf('client-wrong-cn', clientCa.issuer, { subject: 'CN=someone-else, O=Harness Tests', profile: 'client' });
  const clientRevoked = await leaf('client-revoked', clientCa.issuer, { subject: 'CN=revoked-client', profile: 'client' });
  const rootCrl = crlPem(await createCrl(clientCa.issuer, { revoked: [{ serialNumber: clientRevoked.issuer.certificate.serialNumber }] }));
  const intermediateCrls = crlPem(await createCrl(clientIntermediate.issuer)) + crlPem(await createCrl(clientIntermediate2.issuer));
  const saveCrl = async (name: string, pem: string): Promise<Crl> => {
    const file = join(dir, name);
    await writeFile(file, pem);
    return { pem, file };
  };
  const serverIntermediate = await leaf('server-int', serverCa.issuer, { subject: 'CN=Test Server Intermediate, O=Harness Tests', profile: 'intermediate-ca' });
  const serverViaIntermediate = await leaf('server-via-int', serverIntermediate.issuer, { subject: 'CN=localhost', profile: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  return {
    dir,
    clientCa: clientCa.pair,
    clientIntermediate: clientIntermediate.pair,
    otherCa: otherCa.pair,
    serverCa: serverCa.pair,
    server: server.pair,
    serverWrongName: serverWrongName.pair,
    serverNameOnly: serverNameOnly.pair,
    serverSelfSigned,
    client: client.pair,
    clientViaIntermediate,
    clientExpired: clientExpired.pair,
    clientNotYetValid: clientNotYetValid.pair,
    clientServerAuthOnly: clientServerAuthOnly.pair,
    clientFromOtherCa: clientFromOtherCa.pair,
    clientIntermediate2: clientIntermediate2.pair,
    clientViaTwoIntermediates,
    clientWrongCn: clientWrongCn.pair,
    clientRevoked: clientRevoked.pair,
    clientRootCrl: await saveCrl('client-root.crl.pem', rootCrl),
    clientCrls: await saveCrl('client-all.crl.pem', rootCrl + intermediateCrls),
    serverIntermediate: serverIntermediate.pair,
    serverViaIntermediate: serverViaIntermediate.pair,
    issueClient: async (name, opts) => (await leaf(name, clientCa.issuer, { ...opts, profile: 'client' })).pair,
    file: async (name, text) => {
      const path = join(dir, name);
      await writeFile(path, text);
      return path;
    },
  };
}
