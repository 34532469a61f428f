// A check request made usable: every field checked (the message names the field), the test CA
// loaded and proven consistent (keys match, the intermediate is the root's), before anything
// is minted or sent. Also what to install on the server, from the same inputs. The CA becomes a
// signer (WebCrypto keys, parsed ASN.1) only when something is signed: a check whose case
// certificates are cached (planCases) signs nothing, and that was most of its preparation.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import type { Issuer } from '../../shared/pki/issue.ts';
import { createCrl, crlPem } from '../../shared/pki/crl.ts';
import { CheckInputError, checkCaPems, checkCustomCases, checkDepth, checkRule, checkTarget, type MtlsCheckRequest, type SubjectRule } from '../../shared/check/request.ts';
import { CA_FILE_NAME, CRL_FILE_NAME, installSnippets, type InstallPaths } from '../../shared/check/install.ts';
import type { CustomCase } from '../../shared/check/cases.ts';
import { checkAddressAllowed, checkUrlAllowed, LOCAL_POLICY, OutboundRefused, type OutboundPolicy } from '../net/outbound-guard.ts';
import { hostnameOf } from '../net/dial.ts';
import { deepCas, issuerFrom, revokedSerial, signingParams } from './mint.ts';
import { validateCheckLimits, type CheckLimits } from './limits.ts';

const DAY = 86_400_000;

export interface PreparedCheck {
  url: URL;
  rule: SubjectRule;
  verifyDepth: number;
  custom: CustomCase[];
  /** The test CA's certificates (DER): revoked serials and cache keys are made from them. */
  rootDer: Buffer;
  intermediateDer: Buffer;
  intermediateKey: KeyObject;
  /** The test CA as signers, made on first use (and then kept for this check only). */
  signers(): Promise<{ root: Issuer; intermediate: Issuer }>;
  /** PEM as the user gave them (certificates only). */
  rootPem: string;
  intermediatePem: string;
  caPem?: string;
  trustLab?: boolean;
  limits: CheckLimits;
}

function parseCert(field: string, pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new CheckInputError(field, 'is not a readable PEM certificate');
  }
}

function loadKey(field: string, pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new CheckInputError(field, 'is not a readable, unencrypted PEM private key');
  }
  try {
    signingParams(key); // a key type the check cannot sign with is refused here, not when minting
  } catch (err) {
    throw new CheckInputError(field, (err as Error).message);
  }
  return key;
}

export async function prepareCheck(req: MtlsCheckRequest, opts: { policy?: OutboundPolicy; limits?: Partial<CheckLimits> } = {}): Promise<PreparedCheck> {
  if (!req || typeof req !== 'object') throw new CheckInputError('check', 'must be an object');
  const limits = validateCheckLimits(opts.limits);
  const url = checkTarget(req.url);
  const policy = opts.policy ?? LOCAL_POLICY;
  checkTargetAllowed(url, policy, 'url');
  const rule = checkRule(req.rule);
  const verifyDepth = checkDepth(req.verifyDepth);
  const custom = checkCustomCases(req.custom, limits.maxCustomCases);
  const ca = checkCaPems(req.ca);
  const root = parseCert('ca.rootCertificatePem', ca.rootCertificatePem);
  const inter = parseCert('ca.intermediateCertificatePem', ca.intermediateCertificatePem);
  if (!root.ca) throw new CheckInputError('ca.rootCertificatePem', `${root.subject.replace(/\n/g, ', ')} is not a CA certificate`);
  if (!root.checkIssued(root) || !root.verify(root.publicKey)) throw new CheckInputError('ca.rootCertificatePem', 'is not a root: it is not self-signed');
  if (!inter.ca) throw new CheckInputError('ca.intermediateCertificatePem', `${inter.subject.replace(/\n/g, ', ')} is not a CA certificate`);
  if (!inter.checkIssued(root) || !inter.verify(root.publicKey)) throw new CheckInputError('ca.intermediateCertificatePem', 'was not issued by the root given');
  const rootKey = loadKey('ca.rootPrivateKeyPem', ca.rootPrivateKeyPem);
  if (!root.checkPrivateKey(rootKey)) throw new CheckInputError('ca.rootPrivateKeyPem', 'does not belong to the root certificate');
  const interKey = loadKey('ca.intermediatePrivateKeyPem', ca.intermediatePrivateKeyPem);
  if (!inter.checkPrivateKey(interKey)) throw new CheckInputError('ca.intermediatePrivateKeyPem', 'does not belong to the intermediate certificate');
  if (req.caPem !== undefined && typeof req.caPem !== 'string') throw new CheckInputError('caPem', 'must be a PEM bundle');
  let signers: Promise<{ root: Issuer; intermediate: Issuer }> | undefined;
  return {
    url, rule, verifyDepth, custom, limits,
    rootDer: root.raw,
    intermediateDer: inter.raw,
    intermediateKey: interKey,
    signers: () => (signers ??= Promise.all([issuerFrom(root.raw, rootKey), issuerFrom(inter.raw, interKey)]).then(([r, i]) => ({ root: r, intermediate: i }))),
    rootPem: root.toString(),
    intermediatePem: inter.toString(),
    ...(req.caPem !== undefined ? { caPem: req.caPem } : {}),
    ...(req.trustLab !== undefined ? { trustLab: req.trustLab } : {}),
  };
}

/**
 * The outbound guard's word on a check's target, as a CheckInputError on `field`: a URL or a
 * literal address the relay may not reach would fail every case the same way, so say so first.
 */
export function checkTargetAllowed(url: URL, policy: OutboundPolicy, field: string): void {
  try {
    checkUrlAllowed(url, policy);
    const host = hostnameOf(url);
    if (isIP(host)) checkAddressAllowed(host, host, policy, Number(url.port || 443));
  } catch (err) {
    if (err instanceof OutboundRefused) throw new CheckInputError(field, err.message);
    throw err;
  }
}

/** The issuer of the check's leaf certificates: the intermediate, or the root when depth 1 allows no intermediate. */
export async function leafIssuer(p: PreparedCheck): Promise<Issuer> {
  const { root, intermediate } = await p.signers();
  return p.verifyDepth >= 2 ? intermediate : root;
}

/** The DER of the leaf issuer's certificate (see leafIssuer), without making a signer. */
export function leafIssuerDer(p: PreparedCheck): Buffer {
  return p.verifyDepth >= 2 ? p.intermediateDer : p.rootDer;
}

export interface InstallKit {
  files: { name: string; pem: string; what: string }[];
  apache: string;
  nginx: string;
  notes: string[];
}

/**
 * What the partner installs: the CA file (root + intermediate), the CRL file (the root's and the
 * intermediate's, listing the revoked case's serial, and empty CRLs of the CAs below the
 * intermediate that the too-deep case uses: with chain revocation checking every CA needs one),
 * and the Apache and nginx snippets.
 */
export async function installKit(p: PreparedCheck, paths: InstallPaths = {}): Promise<InstallKit> {
  const thisUpdate = new Date(Date.now() - 5 * 60_000);
  const nextUpdate = new Date(thisUpdate.getTime() + p.limits.checkCrlDays * DAY);
  const { root, intermediate } = await p.signers();
  const crls = [
    await createCrl(root, { thisUpdate, nextUpdate, revoked: [{ serialNumber: revokedSerial(p.rootDer) }] }),
    await createCrl(intermediate, { thisUpdate, nextUpdate, revoked: [{ serialNumber: revokedSerial(p.intermediateDer) }] }),
  ];
  for (const deep of await deepCas(intermediate, p.intermediateKey, Math.max(0, p.verifyDepth - 1))) {
    crls.push(await createCrl(deep, { thisUpdate, nextUpdate }));
  }
  const snippets = installSnippets(p.rule, p.verifyDepth, paths);
  return {
    files: [
      { name: CA_FILE_NAME, pem: `${p.rootPem.trim()}\n${p.intermediatePem.trim()}\n`, what: 'the test CA: root and intermediate (Apache SSLCACertificateFile, nginx ssl_client_certificate)' },
      { name: CRL_FILE_NAME, pem: crls.map(crlPem).join(''), what: `CRLs of every CA the check uses, valid until ${nextUpdate.toISOString()} (Apache SSLCARevocationFile, nginx ssl_crl)` },
    ],
    apache: snippets.apache,
    nginx: snippets.nginx,
    notes: [...snippets.notes, `Install the CRL file again before ${nextUpdate.toISOString()}: past its nextUpdate the server refuses every client.`],
  };
}
