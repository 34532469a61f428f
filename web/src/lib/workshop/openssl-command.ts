// The openssl command lines that make the same thing outside the tool, shown beside the Make form
// so a partner or a support ticket can reproduce it. File names follow the download names.
import type { KeyAlgorithmName } from '../../../../shared/pki/issue.ts';
import { EKU_OIDS, ISSUED_KINDS, parseSubjectAltNames, validityWindow, type MakeRequest } from './make.ts';
import { fileStem } from './exports.ts';

function newKey(algorithm: KeyAlgorithmName): string {
  if (algorithm.startsWith('RSA-')) return `rsa:${algorithm.slice(4)}`;
  if (algorithm === 'Ed25519') return 'ed25519';
  return `ec -pkeyopt ec_paramgen_curve:${algorithm}`;
}

function genpkey(algorithm: KeyAlgorithmName): string {
  if (algorithm.startsWith('RSA-')) return `-algorithm RSA -pkeyopt rsa_keygen_bits:${algorithm.slice(4)}`;
  if (algorithm === 'Ed25519') return '-algorithm ED25519';
  return `-algorithm EC -pkeyopt ec_paramgen_curve:${algorithm}`;
}

/** The digest option for a signature by `signer` (none for Ed25519, which hashes itself). */
function digest(signer: KeyAlgorithmName): string {
  if (signer === 'Ed25519') return '';
  return signer === 'P-384' ? ' -sha384' : ' -sha256';
}

function subj(request: MakeRequest): string {
  const esc = (v: string) => v.trim().replace(/[/\\"$`]/g, (c) => `\\${c}`);
  return `"/CN=${esc(request.commonName)}${request.organization.trim() ? `/O=${esc(request.organization)}` : ''}"`;
}

function asn1Time(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}

function validity(request: MakeRequest): string {
  const { notBefore, notAfter } = validityWindow(request.validity, request.kind);
  if (request.validity.kind === 'days') return ` -days ${request.validity.days}`;
  // Back- and post-dated certificates need OpenSSL 3.4's -not_before/-not_after.
  return ` -not_before ${asn1Time(notBefore)} -not_after ${asn1Time(notAfter)}`;
}

const EKU_NAMES: Record<string, string> = { '1.3.6.1.5.5.7.3.1': 'serverAuth', '1.3.6.1.5.5.7.3.2': 'clientAuth' };

function extensions(request: MakeRequest): string[] {
  const sans = parseSubjectAltNames(request.subjectAltNames);
  const san = [...sans.dnsNames.map((d) => `DNS:${d}`), ...sans.ipAddresses.map((i) => `IP:${i}`)].join(',');
  switch (request.kind) {
    case 'root-ca':
    case 'intermediate-ca':
      return ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature', 'subjectKeyIdentifier=hash'];
    default: {
      const eku = request.kind === 'server' ? ['serverAuth'] : EKU_OIDS[request.eku].map((o) => EKU_NAMES[o]);
      return [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        `extendedKeyUsage=${eku.join(',')}`,
        ...(san ? [`subjectAltName=${san}`] : []),
        'subjectKeyIdentifier=hash',
      ];
    }
  }
}

/** One or more shell lines; comments start with #. */
export function opensslEquivalent(request: MakeRequest): string {
  const out = fileStem({ label: request.commonName });
  const notBeforeNote = request.validity.kind === 'days' ? [] : ['# -not_before/-not_after need OpenSSL 3.4 or later'];
  switch (request.kind) {
    case 'key':
      return `openssl genpkey ${genpkey(request.algorithm)} -out ${out}.key`;
    case 'csr':
      return `openssl req -new -newkey ${newKey(request.algorithm)} -nodes -keyout ${out}.key -out ${out}.csr -subj ${subj(request)}`;
    case 'root-ca':
    case 'self-signed':
      return [
        ...notBeforeNote,
        `openssl req -x509${digest(request.algorithm)} -nodes -newkey ${newKey(request.algorithm)} -keyout ${out}.key -out ${out}.pem -subj ${subj(request)}${validity(request)} \\`,
        `  ${extensions(request).map((e) => `-addext "${e}"`).join(' ')}`,
      ].join('\n');
    default: {
      if (!ISSUED_KINDS.has(request.kind)) return '';
      const issuer = request.issuer ? fileStem(request.issuer) : 'issuer';
      const signer = request.issuer?.keyAlgorithm ?? request.algorithm;
      return [
        ...notBeforeNote,
        `printf '%s\\n' ${[...extensions(request), 'authorityKeyIdentifier=keyid'].map((e) => `'${e}'`).join(' ')} > ${out}.ext`,
        `openssl req -new -newkey ${newKey(request.algorithm)} -nodes -keyout ${out}.key -out ${out}.csr -subj ${subj(request)}`,
        `openssl x509 -req -in ${out}.csr -CA ${issuer}.pem -CAkey ${issuer}.key${digest(signer)}${validity(request)} -extfile ${out}.ext -out ${out}.pem`,
      ].join('\n');
    }
  }
}

