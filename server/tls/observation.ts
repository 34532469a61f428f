// What the tap reports about one TLS connection: the parts of the handshake Node's API does not
// expose (nodejs/node#40008): whether and how the server asked for a client certificate, and
// both certificate chains exactly as they crossed the wire.
import type { DistinguishedName } from './distinguished-name.ts';
import type { TlsTapErrorCode } from './errors.ts';
import type { TlsVersionName } from './iana-names.ts';

export type Peer = 'client' | 'server';

interface ObservedAlert {
  from: Peer;
  /** 1 = warning, 2 = fatal. */
  level: number;
  description: number;
  /** RFC name, e.g. certificate_required. */
  name: string;
  /** True when the alert was read by decrypting a TLS 1.3 record (alerts after ServerHello are protected). */
  encrypted: boolean;
}

interface ObservedMessage {
  from: Peer;
  /** Handshake message type as the RFCs name it, e.g. certificate_request. */
  type: string;
  /** Read from a decrypted TLS 1.3 record. */
  encrypted: boolean;
}

export interface TlsObservation {
  version?: TlsVersionName;
  /** IANA name, e.g. TLS_AES_256_GCM_SHA384. */
  cipherSuite?: string;
  /** e.g. x25519, secp256r1 (TLS 1.3 key_share, or TLS 1.2 ECDHE ServerKeyExchange). */
  keyExchangeGroup?: string;
  /** The server answered the first ClientHello with a HelloRetryRequest (usually: another group). */
  helloRetryRequest: boolean;
  alpn?: string;
  /** The server sent a CertificateRequest. */
  certificateRequested: boolean;
  /** Normalised DNs from the CertificateRequest, in the order sent, e.g. 'C=US, O=Example, CN=Root'. */
  acceptableCAs: string[];
  /** The same names with OpenSSL's spelling (`C = US, …`, as s_client prints) and their DER. */
  acceptableCANames: DistinguishedName[];
  /** SignatureScheme names from the CertificateRequest, e.g. rsa_pss_rsae_sha256. */
  signatureAlgorithms: string[];
  /** TLS 1.2 CertificateRequest certificate_types, e.g. rsa_sign, ecdsa_sign (empty on TLS 1.3). */
  certificateTypes: string[];
  /** The server's Certificate message, DER certificates in the order sent. */
  serverChainDer: Uint8Array[];
  /** The client's Certificate message as sent: [] = an empty one; null = none was sent. */
  clientChainDer: Uint8Array[] | null;
  ocspStapled: boolean;
  ocspResponseDer?: Uint8Array;
  /** Alerts seen in either direction, in order. */
  alerts: ObservedAlert[];
  /** Handshake messages seen, in order per direction (directions interleave as the bytes did). */
  messages: ObservedMessage[];
  /** Why (part of) a TLS 1.3 handshake could not be decrypted, if it could not. */
  decryptionFailed?: string;
  /** The bytes stopped making sense as TLS (e.g. the peer answered in plain HTTP); parsing stopped there. */
  parseProblem?: { from: Peer; code: TlsTapErrorCode; message: string };
}
