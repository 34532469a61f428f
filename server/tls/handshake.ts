// Handshake message bodies (RFC 8446 §4, RFC 5246 §7.4) reduced to what the harness reports:
// negotiated parameters, certificate chains as sent, and what a CertificateRequest asks for.
// Each parser takes the body of one reassembled message and throws TlsTapError if it is malformed.
import { ByteReader } from './byte-reader.ts';
import { equalBytes } from './bytes.ts';
import { TlsTapError } from './errors.ts';
import { EXTENSION_TYPE } from './iana-names.ts';

interface Extension {
  type: number;
  data: Uint8Array;
}

const TLS13 = 0x0304;
const TLS12 = 0x0303;

/** ServerHello.random of a HelloRetryRequest: SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3). */
const HELLO_RETRY_REQUEST_RANDOM = Uint8Array.from([
  0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
  0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
]);

/** A missing extensions block (allowed in TLS 1.2 hellos) reads as no extensions. */
function readExtensions(r: ByteReader, what: string): Extension[] {
  if (r.atEnd) return [];
  const block = r.vector(2, `${what} extensions`);
  const extensions: Extension[] = [];
  while (!block.atEnd) extensions.push({ type: block.u16(), data: block.vectorBytes(2) });
  return extensions;
}

function find(extensions: Extension[], type: number): Extension | undefined {
  return extensions.find((e) => e.type === type);
}

function u16List(bytes: ByteReader): number[] {
  const values: number[] = [];
  while (!bytes.atEnd) values.push(bytes.u16());
  return values;
}

interface ClientHello {
  /** Names this connection's lines in the keylog. */
  random: Uint8Array;
}

export function parseClientHello(body: Uint8Array): ClientHello {
  const r = new ByteReader(body, 'ClientHello');
  r.u16();
  return { random: r.take(32) };
}

interface ServerHello {
  isHelloRetryRequest: boolean;
  /** From supported_versions when present (TLS 1.3), else legacy_version. */
  version: number;
  cipherSuite: number;
  /** key_share's group (TLS 1.3; in a HelloRetryRequest, the group the server asks for). */
  keyShareGroup?: number;
  /** ALPN protocol (TLS 1.2 carries it in ServerHello; TLS 1.3 in EncryptedExtensions). */
  alpn?: string;
  /** TLS 1.2: the server will send a CertificateStatus (stapled OCSP) message. */
  statusRequestAcknowledged: boolean;
}

export function parseServerHello(body: Uint8Array): ServerHello {
  const r = new ByteReader(body, 'ServerHello');
  const legacyVersion = r.u16();
  const random = r.take(32);
  r.vectorBytes(1);
  const cipherSuite = r.u16();
  r.u8();
  const extensions = readExtensions(r, 'ServerHello');
  const supportedVersions = find(extensions, EXTENSION_TYPE.supportedVersions);
  const version = supportedVersions ? new ByteReader(supportedVersions.data, 'supported_versions').u16() : legacyVersion;
  const keyShare = find(extensions, EXTENSION_TYPE.keyShare);
  const alpn = find(extensions, EXTENSION_TYPE.alpn);
  return {
    isHelloRetryRequest: equalBytes(random, HELLO_RETRY_REQUEST_RANDOM),
    version,
    cipherSuite,
    ...(keyShare && { keyShareGroup: new ByteReader(keyShare.data, 'key_share').u16() }),
    ...(alpn && { alpn: parseAlpn(alpn.data) }),
    statusRequestAcknowledged: version !== TLS13 && find(extensions, EXTENSION_TYPE.statusRequest) !== undefined,
  };
}

/** The server's ALPN answer: a ProtocolNameList holding exactly one name. */
function parseAlpn(data: Uint8Array): string {
  const list = new ByteReader(data, 'application_layer_protocol_negotiation').vector(2);
  return new TextDecoder().decode(list.vectorBytes(1));
}

interface EncryptedExtensions {
  alpn?: string;
}

export function parseEncryptedExtensions(body: Uint8Array): EncryptedExtensions {
  const alpn = find(readExtensions(new ByteReader(body, 'EncryptedExtensions'), 'EncryptedExtensions'), EXTENSION_TYPE.alpn);
  return alpn ? { alpn: parseAlpn(alpn.data) } : {};
}

interface CertificateMessage {
  /** DER certificates in the order sent: the end-entity first, then whatever chain the peer added. */
  certificates: Uint8Array[];
  /** TLS 1.3: OCSP response stapled to the end-entity entry (status_request extension). */
  ocspResponse?: Uint8Array;
}

export function parseCertificate(body: Uint8Array, version: number): CertificateMessage {
  const r = new ByteReader(body, 'Certificate');
  if (version === TLS13) r.vectorBytes(1);
  const list = r.vector(3, 'Certificate list');
  const certificates: Uint8Array[] = [];
  let ocspResponse: Uint8Array | undefined;
  while (!list.atEnd) {
    certificates.push(list.vectorBytes(3));
    if (version !== TLS13) continue;
    const extensions = readExtensions(list, 'CertificateEntry');
    const status = find(extensions, EXTENSION_TYPE.statusRequest);
    if (status && certificates.length === 1) ocspResponse = parseOcspStatus(status.data);
  }
  return { certificates, ...(ocspResponse && { ocspResponse }) };
}

/** CertificateStatus (RFC 6066 §8): status_type ocsp(1) and the DER OCSPResponse. */
function parseOcspStatus(data: Uint8Array): Uint8Array {
  const r = new ByteReader(data, 'CertificateStatus');
  const statusType = r.u8();
  if (statusType !== 1) throw new TlsTapError('malformed', `CertificateStatus: status_type ${statusType} is not ocsp(1)`);
  return r.vectorBytes(3);
}

/** TLS 1.2 CertificateStatus handshake message: the same structure as the TLS 1.3 extension. */
export function parseCertificateStatus(body: Uint8Array): Uint8Array {
  return parseOcspStatus(body);
}

interface CertificateRequest {
  /** TLS 1.2 ClientCertificateType values (absent from TLS 1.3). */
  certificateTypes: number[];
  /** SignatureScheme values the server accepts for CertificateVerify. */
  signatureAlgorithms: number[];
  /** TLS 1.3 signature_algorithms_cert, when the server sent it. */
  signatureAlgorithmsCert?: number[];
  /** DER X.501 Names of the CAs the server accepts, in the order sent. */
  certificateAuthorities: Uint8Array[];
}

export function parseCertificateRequest(body: Uint8Array, version: number): CertificateRequest {
  const r = new ByteReader(body, 'CertificateRequest');
  if (version === TLS13) {
    r.vectorBytes(1);
    const extensions = readExtensions(r, 'CertificateRequest');
    const signatureAlgorithms = find(extensions, EXTENSION_TYPE.signatureAlgorithms);
    const signatureAlgorithmsCert = find(extensions, EXTENSION_TYPE.signatureAlgorithmsCert);
    const authorities = find(extensions, EXTENSION_TYPE.certificateAuthorities);
    return {
      certificateTypes: [],
      signatureAlgorithms: signatureAlgorithms ? u16List(new ByteReader(signatureAlgorithms.data, 'signature_algorithms').vector(2)) : [],
      ...(signatureAlgorithmsCert && { signatureAlgorithmsCert: u16List(new ByteReader(signatureAlgorithmsCert.data, 'signature_algorithms_cert').vector(2)) }),
      certificateAuthorities: authorities ? distinguishedNames(new ByteReader(authorities.data, 'certificate_authorities').vector(2)) : [],
    };
  }
  const certificateTypes = Array.from(r.vectorBytes(1));
  // TLS 1.0 and 1.1 have no signature algorithm list here.
  const signatureAlgorithms = version >= TLS12 ? u16List(r.vector(2, 'supported_signature_algorithms')) : [];
  return { certificateTypes, signatureAlgorithms, certificateAuthorities: distinguishedNames(r.vector(2, 'certificate_authorities')) };
}

function distinguishedNames(list: ByteReader): Uint8Array[] {
  const names: Uint8Array[] = [];
  while (!list.atEnd) names.push(list.vectorBytes(2));
  return names;
}

/**
 * TLS 1.2 ServerKeyExchange for (EC)DHE: the named group when the server names one
 * (ECParameters with curve_type named_curve), undefined for classic DHE with explicit primes.
 */
export function parseServerKeyExchangeGroup(body: Uint8Array, cipherSuiteName: string): number | undefined {
  if (!cipherSuiteName.includes('_ECDHE_')) return undefined;
  const r = new ByteReader(body, 'ServerKeyExchange');
  const curveType = r.u8();
  return curveType === 3 ? r.u16() : undefined;
}
