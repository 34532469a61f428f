// Lines of the NSS key log format, as Node emits them on a TLSSocket's `keylog` event:
// "<LABEL> <client_random hex> <secret hex>\n". The client random says which connection a line
// belongs to; the label says which direction and key epoch the secret protects.

export type KeylogLabel =
  | 'CLIENT_HANDSHAKE_TRAFFIC_SECRET'
  | 'SERVER_HANDSHAKE_TRAFFIC_SECRET'
  | 'CLIENT_TRAFFIC_SECRET_0'
  | 'SERVER_TRAFFIC_SECRET_0'
  | 'EXPORTER_SECRET'
  | 'CLIENT_RANDOM';

interface KeylogEntry {
  label: string;
  clientRandom: Uint8Array;
  secret: Uint8Array;
}

const LINE = /^([A-Z0-9_]+) ([0-9a-fA-F]{64}) ([0-9a-fA-F]+)\s*$/;

/** Parses one key log line; undefined for comments and anything not in the format. */
export function parseKeylogLine(line: string | Uint8Array): KeylogEntry | undefined {
  const text = typeof line === 'string' ? line : new TextDecoder().decode(line);
  const match = LINE.exec(text);
  if (!match || match[3]!.length % 2 !== 0) return undefined;
  return { label: match[1]!, clientRandom: Buffer.from(match[2]!, 'hex'), secret: Buffer.from(match[3]!, 'hex') };
}
