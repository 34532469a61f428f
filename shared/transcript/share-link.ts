// A transcript in a link: compressed into the URL's fragment (after `#`), which browsers never
// send to a server, so opening the link replays the run without the relay or anyone else seeing
// it. Uses the Compression Streams API (browsers, Node ≥ 18).
import { parseTranscript, type Transcript } from './transcript.ts';
import { HarnessError } from '../errors.ts';

/** Longest link offered: browsers, chat tools and ticket systems cut longer ones. */
export const MAX_SHARE_LINK_CHARS = 32_000;
/** The fragment's prefix, so the app knows what the fragment holds. */
export const SHARE_PREFIX = 'transcript=';

export class ShareLinkError extends HarnessError<'share_link_invalid'> {
  constructor(message: string) {
    super('share_link_invalid', message);
  }
}

async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

function toBase64Url(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new ShareLinkError('the link is damaged: its data holds characters a share link never has');
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** The link for a transcript, or a ShareLinkError saying by how much it is too large. */
export async function shareLink(transcript: Transcript, baseUrl: string): Promise<string> {
  const packed = toBase64Url(await pipe(new TextEncoder().encode(JSON.stringify(transcript)), new CompressionStream('deflate-raw')));
  const base = baseUrl.split('#')[0]!;
  const link = `${base}#${SHARE_PREFIX}${packed}`;
  if (link.length > MAX_SHARE_LINK_CHARS) {
    throw new ShareLinkError(`this run is too large for a link (${Math.ceil(link.length / 1000)} k characters, at most ${MAX_SHARE_LINK_CHARS / 1000} k): download the transcript and attach the file instead`);
  }
  return link;
}

/** The transcript in a link's fragment (`#transcript=…`), or null when the fragment holds none. */
export async function readShareLink(fragment: string): Promise<Transcript | null> {
  const f = fragment.startsWith('#') ? fragment.slice(1) : fragment;
  if (!f.startsWith(SHARE_PREFIX)) return null;
  const data = f.slice(SHARE_PREFIX.length);
  if (data.length > MAX_SHARE_LINK_CHARS) throw new ShareLinkError('the link is longer than any link the harness makes');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await pipe(fromBase64Url(data), new DecompressionStream('deflate-raw')));
  } catch (err) {
    if (err instanceof ShareLinkError) throw err;
    throw new ShareLinkError('the link is damaged or cut short: its data does not decompress');
  }
  return parseTranscript(text);
}
