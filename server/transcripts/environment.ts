// Where a run was made, for transcripts: the harness release, Node and OpenSSL versions and the
// platform of the process that made the connections (the relay, or the CLI itself).
import type { TranscriptEnvironment } from '../../shared/transcript/transcript.ts';
import { relayRuntime, VERSION } from '../relay.ts';

export function runEnvironment(): TranscriptEnvironment {
  return { harness: VERSION, ...relayRuntime() };
}
