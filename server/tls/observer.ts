// The state machine behind the tap: fed the raw bytes of each direction and the keylog lines,
// it follows the handshake far enough to fill a TlsObservation, then goes quiet. It never
// throws: anything that is not TLS, or that it cannot read, becomes a note in the observation.
import { alertName } from './alerts.ts';
import { copyBytes, equalBytes } from './bytes.ts';
import { parseDistinguishedName, type DistinguishedName } from './distinguished-name.ts';
import { TlsTapError } from './errors.ts';
import {
  parseCertificate,
  parseCertificateRequest,
  parseCertificateStatus,
  parseClientHello,
  parseEncryptedExtensions,
  parseServerHello,
  parseServerKeyExchangeGroup,
} from './handshake.ts';
import {
  cipherSuiteName,
  clientCertificateTypeName,
  HANDSHAKE_TYPE,
  handshakeTypeName,
  namedGroupName,
  signatureSchemeName,
  TLS_VERSIONS,
} from './iana-names.ts';
import { parseKeylogLine, type KeylogLabel } from './keylog.ts';
import type { Peer, TlsObservation } from './observation.ts';
import { AlertReassembler, CONTENT_TYPE, HandshakeReassembler, RecordSplitter, type HandshakeMessage, type TlsRecord } from './records.ts';
import { isDecryptableTls13Suite, Tls13RecordDecryptor } from './tls13.ts';

const TLS13 = 0x0304;

/** Protected records held while waiting for their secret; a real handshake needs a few KiB. */
const MAX_WAITING_BYTES = 1 << 20;

const HANDSHAKE_SECRETS: Readonly<Record<Peer, KeylogLabel>> = {
  client: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
  server: 'SERVER_HANDSHAKE_TRAFFIC_SECRET',
};

/**
 * After its Finished, the server's records are followed for one more record only: either a
 * session ticket (the server accepted the client) or the alert a TLS 1.3 server sends when it
 * rejects the client certificate, which TLS 1.3 protects with the application secret. Nothing
 * after the client's Finished is needed.
 */
const SERVER_APPLICATION_SECRET: KeylogLabel = 'SERVER_TRAFFIC_SECRET_0';

function secretLabel(direction: Direction): KeylogLabel {
  return direction.epoch === 'handshake' ? HANDSHAKE_SECRETS[direction.from] : SERVER_APPLICATION_SECRET;
}

/** A record and its place among the records of both directions, counted as they completed. */
interface ArrivedRecord extends TlsRecord {
  arrival: number;
}

class Direction {
  readonly records = new RecordSplitter();
  readonly handshake = new HandshakeReassembler();
  readonly alerts = new AlertReassembler();
  stopped = false;
  epoch: 'handshake' | 'application' = 'handshake';
  decryptor: Tls13RecordDecryptor | null = null;
  /** Protected records that arrived before the keylog line for their secret. */
  readonly waiting: ArrivedRecord[] = [];
  waitingBytes = 0;

  constructor(readonly from: Peer) {}
}

export class TlsHandshakeObserver {
  private readonly client = new Direction('client');
  private readonly server = new Direction('server');
  private readonly secrets = new Map<string, Uint8Array>();
  private clientRandom: Uint8Array | undefined;
  private versionNumber: number | undefined;
  private cipherSuiteNumber: number | undefined;
  private decryptionProblem: string | undefined;
  /** Records completed so far, both directions; what a message or alert is ordered by. */
  private arrivals = 0;
  /** The arrival of the record being read, and of each message and alert in `result`. */
  private reading = 0;
  private readonly messageArrivals: number[] = [];
  private readonly alertArrivals: number[] = [];
  private readonly result: TlsObservation = {
    helloRetryRequest: false,
    certificateRequested: false,
    acceptableCAs: [],
    acceptableCANames: [],
    signatureAlgorithms: [],
    certificateTypes: [],
    serverChainDer: [],
    clientChainDer: null,
    ocspStapled: false,
    alerts: [],
    messages: [],
  };

  /** Bytes the client sent (the tap's outbound side). */
  clientBytes(chunk: Uint8Array): void {
    this.bytes(this.client, chunk);
  }

  /** Bytes the server sent (the tap's inbound side). */
  serverBytes(chunk: Uint8Array): void {
    this.bytes(this.server, chunk);
  }

  /** One line from the TLSSocket's `keylog` event. */
  keylog(line: string | Uint8Array): void {
    const entry = parseKeylogLine(line);
    if (!entry || this.done) return;
    // The random is known from the ClientHello by now; a line for another connection is ignored.
    if (this.clientRandom && !equalBytes(entry.clientRandom, this.clientRandom)) return;
    this.secrets.set(entry.label, entry.secret);
    for (const direction of [this.server, this.client]) this.guard(direction, () => this.drain(direction));
  }

  /** Nothing more to learn: both directions have moved past the handshake or stopped. */
  get done(): boolean {
    return this.client.stopped && this.server.stopped;
  }

  observation(): TlsObservation {
    const r = this.result;
    const waiting = [this.server, this.client].find((d) => !d.stopped && d.waiting.length > 0);
    const decryptionFailed =
      this.decryptionProblem ??
      (waiting && `${waiting.waiting.length} protected ${waiting.from} record(s) still wait for ${secretLabel(waiting)} from the keylog event (was attach() called on the TLS socket?)`);
    return {
      ...r,
      acceptableCAs: [...r.acceptableCAs],
      acceptableCANames: [...r.acceptableCANames],
      signatureAlgorithms: [...r.signatureAlgorithms],
      certificateTypes: [...r.certificateTypes],
      serverChainDer: [...r.serverChainDer],
      clientChainDer: r.clientChainDer && [...r.clientChainDer],
      alerts: r.alerts.map((a) => ({ ...a })),
      messages: r.messages.map((m) => ({ ...m })),
      ...(decryptionFailed && { decryptionFailed }),
      ...(r.parseProblem && { parseProblem: { ...r.parseProblem } }),
    };
  }

  private bytes(direction: Direction, chunk: Uint8Array): void {
    if (direction.stopped) return;
    this.guard(direction, () => {
      for (const record of direction.records.push(chunk)) {
        if (direction.stopped) return;
        const arrival = this.arrivals++;
        if (direction.waiting.length > 0 || !this.process(direction, record, arrival)) this.wait(direction, record, arrival);
      }
    });
  }

  /** Runs `work`, turning any failure into a note and stopping where it happened. */
  private guard(direction: Direction, work: () => void): void {
    try {
      work();
    } catch (error) {
      const tapError = error instanceof TlsTapError ? error : new TlsTapError('malformed', `unexpected: ${(error as Error)?.message ?? String(error)}`);
      if (tapError.code === 'decrypt_failed') {
        this.decryptionProblem ??= `${direction.from} records: ${tapError.message}`;
        this.stop(direction);
        return;
      }
      this.result.parseProblem ??= { from: direction.from, code: tapError.code, message: tapError.message };
      this.stop(this.client);
      this.stop(this.server);
    }
  }

  private wait(direction: Direction, record: TlsRecord, arrival: number): void {
    // Copy: the record views a socket chunk that must not be pinned for long.
    direction.waiting.push({ ...record, header: copyBytes(record.header), fragment: copyBytes(record.fragment), arrival });
    direction.waitingBytes += record.fragment.length;
    if (direction.waitingBytes > MAX_WAITING_BYTES) {
      throw new TlsTapError('decrypt_failed', `gave up after ${direction.waitingBytes} bytes without ${secretLabel(direction)} in the keylog`);
    }
  }

  private drain(direction: Direction): void {
    while (direction.waiting.length > 0 && !direction.stopped) {
      const record = direction.waiting[0]!;
      if (!this.process(direction, record, record.arrival)) return;
      direction.waiting.shift();
      direction.waitingBytes -= record.fragment.length;
    }
  }

  /** Handles one record; false when it is protected and its secret has not been logged yet. */
  private process(direction: Direction, record: TlsRecord, arrival: number): boolean {
    this.reading = arrival;
    switch (record.contentType) {
      case CONTENT_TYPE.changeCipherSpec:
        // TLS 1.3 sends it only for middlebox compatibility; in TLS 1.2 encryption starts here,
        // so nothing after it in this direction can be read.
        if (!this.isTls13 && !(direction.from === 'client' && this.versionNumber === undefined)) this.stop(direction);
        return true;
      case CONTENT_TYPE.alert:
        this.alerts(direction, record.fragment, false);
        return true;
      case CONTENT_TYPE.handshake:
        this.handshakeBytes(direction, record.fragment, false);
        return true;
      case CONTENT_TYPE.applicationData:
        return this.protectedRecord(direction, record);
      default:
        return true;
    }
  }

  private protectedRecord(direction: Direction, record: TlsRecord): boolean {
    if (!this.isTls13) {
      // TLS 1.2 application data: the handshake is over.
      this.stop(direction);
      return true;
    }
    direction.decryptor ??= this.decryptorFor(direction);
    if (!direction.decryptor) return false;
    const afterFinished = direction.epoch === 'application';
    const inner = direction.decryptor.decrypt(record);
    if (inner.contentType === CONTENT_TYPE.handshake) this.handshakeBytes(direction, inner.content, true);
    else if (inner.contentType === CONTENT_TYPE.alert) this.alerts(direction, inner.content, true);
    // One record past the server's Finished says whether it accepted the client (see SERVER_APPLICATION_SECRET).
    if (afterFinished || inner.contentType === CONTENT_TYPE.applicationData) this.stop(direction);
    return true;
  }

  private decryptorFor(direction: Direction): Tls13RecordDecryptor | null {
    const secret = this.secrets.get(secretLabel(direction));
    if (!secret || this.cipherSuiteNumber === undefined) return null;
    if (!isDecryptableTls13Suite(this.cipherSuiteNumber)) {
      throw new TlsTapError('decrypt_failed', `cannot decrypt ${cipherSuiteName(this.cipherSuiteNumber)}`);
    }
    return new Tls13RecordDecryptor(this.cipherSuiteNumber, secret);
  }

  private alerts(direction: Direction, fragment: Uint8Array, encrypted: boolean): void {
    for (const { level, description } of direction.alerts.push(fragment)) {
      inArrivalOrder(this.result.alerts, this.alertArrivals, { from: direction.from, level, description, name: alertName(description), encrypted }, this.reading);
    }
  }

  private handshakeBytes(direction: Direction, fragment: Uint8Array, encrypted: boolean): void {
    for (const message of direction.handshake.push(fragment)) {
      inArrivalOrder(this.result.messages, this.messageArrivals, { from: direction.from, type: handshakeTypeName(message.type), encrypted }, this.reading);
      this.handshakeMessage(direction, message, encrypted);
      if (direction.stopped) return;
    }
  }

  private handshakeMessage(direction: Direction, { type, body }: HandshakeMessage, encrypted: boolean): void {
    const r = this.result;
    const fromServer = direction.from === 'server';
    switch (type) {
      case HANDSHAKE_TYPE.clientHello:
        if (!fromServer) this.clientRandom ??= copyBytes(parseClientHello(body).random);
        return;
      case HANDSHAKE_TYPE.serverHello: {
        if (!fromServer) return;
        const hello = parseServerHello(body);
        this.versionNumber = hello.version;
        this.cipherSuiteNumber = hello.cipherSuite;
        r.version = TLS_VERSIONS[hello.version];
        r.cipherSuite = cipherSuiteName(hello.cipherSuite);
        if (hello.isHelloRetryRequest) r.helloRetryRequest = true;
        if (hello.keyShareGroup !== undefined) r.keyExchangeGroup = namedGroupName(hello.keyShareGroup);
        if (hello.alpn !== undefined) r.alpn = hello.alpn;
        return;
      }
      case HANDSHAKE_TYPE.encryptedExtensions: {
        const { alpn } = parseEncryptedExtensions(body);
        if (alpn !== undefined) r.alpn = alpn;
        return;
      }
      case HANDSHAKE_TYPE.serverKeyExchange: {
        const group = r.cipherSuite === undefined ? undefined : parseServerKeyExchangeGroup(body, r.cipherSuite);
        if (group !== undefined) r.keyExchangeGroup = namedGroupName(group);
        return;
      }
      case HANDSHAKE_TYPE.certificate: {
        const { certificates: views, ocspResponse } = parseCertificate(body, this.versionNumber ?? 0);
        // Standalone copies, so `.buffer` of each is exactly that certificate.
        const certificates = views.map(copyBytes);
        if (fromServer) r.serverChainDer = certificates;
        else r.clientChainDer = certificates;
        if (fromServer && ocspResponse) this.stapled(ocspResponse);
        return;
      }
      case HANDSHAKE_TYPE.certificateStatus:
        if (fromServer) this.stapled(parseCertificateStatus(body));
        return;
      case HANDSHAKE_TYPE.certificateRequest: {
        if (!fromServer) return;
        const request = parseCertificateRequest(body, this.versionNumber ?? 0);
        r.certificateRequested = true;
        r.signatureAlgorithms = request.signatureAlgorithms.map(signatureSchemeName);
        r.certificateTypes = request.certificateTypes.map(clientCertificateTypeName);
        r.acceptableCANames = request.certificateAuthorities.map((der) => readableName(copyBytes(der)));
        r.acceptableCAs = r.acceptableCANames.map((name) => name.normalised);
        return;
      }
      case HANDSHAKE_TYPE.finished:
        // TLS 1.3: the sender switches to its application traffic secret after its Finished.
        if (!encrypted) return;
        if (fromServer) {
          direction.epoch = 'application';
          direction.decryptor = null;
        } else this.stop(direction);
        return;
      case HANDSHAKE_TYPE.keyUpdate:
        // Following key updates would mean holding secrets for the life of the connection.
        this.stop(direction);
        return;
      default:
        return;
    }
  }

  private stapled(response: Uint8Array): void {
    this.result.ocspStapled = true;
    this.result.ocspResponseDer = copyBytes(response);
  }

  private get isTls13(): boolean {
    return this.versionNumber === TLS13;
  }

  private stop(direction: Direction): void {
    direction.stopped = true;
    direction.decryptor = null;
    if (this.done) this.forgetSecrets();
  }

  /** Traffic secrets open the whole connection; keep them no longer than the handshake needs. */
  private forgetSecrets(): void {
    for (const secret of this.secrets.values()) secret.fill(0);
    this.secrets.clear();
  }
}

/**
 * Adds an entry where its record's arrival puts it. A record held for its secret is read when
 * the keylog line comes, which may be after the other direction's later records: the order
 * stays the one on the wire, however late the keylog (or a deferred reading) is.
 */
function inArrivalOrder<T>(list: T[], arrivals: number[], entry: T, arrival: number): void {
  let at = list.length;
  while (at > 0 && arrivals[at - 1]! > arrival) at--;
  list.splice(at, 0, entry);
  arrivals.splice(at, 0, arrival);
}

/** A DN the server sent that does not parse still shows up, as OpenSSL shows undecodable values: #hex. */
function readableName(der: Uint8Array): DistinguishedName {
  try {
    return parseDistinguishedName(der);
  } catch {
    const dump = `#${Buffer.from(der).toString('hex').toUpperCase()}`;
    return { der, rdns: [], openssl: dump, normalised: dump };
  }
}
