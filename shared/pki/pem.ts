// PEM text → blocks. Tolerates what people paste: CRLF or CR line ends, indentation, blank
// lines, text before, between and after blocks, a whole block on one line (newlines lost in an
// environment variable or a form field) and `\n` escapes left over from JSON. Damage is
// reported per block, naming its line, and never stops the other blocks from being read.
import { fromBase64 } from './encoding.ts';
import { problem, type Problem } from './problems.ts';

interface PemBlock {
  /** The label between BEGIN and END, e.g. `CERTIFICATE`, `RSA PRIVATE KEY`. */
  label: string;
  der: Uint8Array;
  /** RFC 1421 headers, e.g. `Proc-Type: 4,ENCRYPTED` of legacy encrypted OpenSSL keys. */
  headers: Record<string, string>;
  /** 1-based position among the blocks of this text. */
  index: number;
  /** 1-based line of the BEGIN marker. */
  line: number;
  /** `block 2 (line 14)`. */
  where: string;
}

interface PemReadResult {
  blocks: PemBlock[];
  problems: Problem[];
}

const MARKER = /-----\s*(BEGIN|END)\s+([A-Z0-9][A-Z0-9 #._-]*?)\s*-----/g;

export function looksLikePem(text: string): boolean {
  return /-----\s*BEGIN\s+[A-Z0-9]/.test(text);
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) starts.push(i + 1);
  }
  return starts;
}

function lineOf(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

function splitHeaders(body: string): { headers: Record<string, string>; base64: string } {
  const lines = body.split(/\r\n|\r|\n/).map((l) => l.trim());
  const headers: Record<string, string> = {};
  let i = 0;
  while (i < lines.length && lines[i] === '') i++;
  // Headers come first and end at a blank line; a header value may continue on indented lines,
  // which trimming has already joined closely enough for the two headers that matter here.
  if (i < lines.length && /^[A-Za-z-]+:/.test(lines[i]!)) {
    while (i < lines.length && lines[i] !== '') {
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(lines[i]!);
      if (m) headers[m[1]!] = m[2]!;
      i++;
    }
  }
  return { headers, base64: lines.slice(i).join('') };
}

/** Reads every PEM block in `text`. */
export function readPem(text: string): PemReadResult {
  const starts = lineStarts(text);
  const at = (index: number, line: number): string => `block ${index} (line ${line})`;
  const blocks: PemBlock[] = [];
  const problems: Problem[] = [];
  let open: { label: string; line: number; bodyStart: number; index: number } | null = null;
  let count = 0;

  for (const m of text.matchAll(MARKER)) {
    const kind = m[1]!;
    const label = m[2]!.replace(/\s+/g, ' ');
    const line = lineOf(starts, m.index);
    if (kind === 'BEGIN') {
      if (open) {
        problems.push(
          problem('pem_mismatched_markers', `BEGIN ${open.label} on line ${open.line} has no END line before the next BEGIN ${label} on line ${line}`, at(open.index, open.line)),
        );
      }
      open = { label, line, bodyStart: m.index + m[0].length, index: ++count };
      continue;
    }
    if (!open) {
      problems.push(problem('pem_mismatched_markers', `END ${label} on line ${line} has no BEGIN line`, `line ${line}`));
      continue;
    }
    const begun = open;
    open = null;
    if (label !== begun.label) {
      problems.push(
        problem('pem_mismatched_markers', `BEGIN ${begun.label} on line ${begun.line} ends with END ${label} on line ${line}`, at(begun.index, begun.line)),
      );
      continue;
    }
    // JSON-escaped line ends (`\r\n` kept as two characters) cannot be part of base64.
    const body = text.slice(begun.bodyStart, m.index).replace(/\\r\\n|\\n|\\r/g, '\n');
    const { headers, base64 } = splitHeaders(body);
    const der = fromBase64(base64);
    if (!der || der.length === 0) {
      const bad = base64.search(/[^A-Za-z0-9+/=]/);
      const detail = der ? 'it is empty' : bad >= 0 ? `it contains ${JSON.stringify(base64[bad])}, which is not base64` : 'the base64 is incomplete';
      problems.push(problem('pem_malformed', `${begun.label} block on line ${begun.line} cannot be decoded: ${detail}`, at(begun.index, begun.line)));
      continue;
    }
    blocks.push({ label: begun.label, der, headers, index: begun.index, line: begun.line, where: at(begun.index, begun.line) });
  }
  if (open) {
    problems.push(problem('pem_mismatched_markers', `BEGIN ${open.label} on line ${open.line} has no END line`, at(open.index, open.line)));
  }
  return { blocks, problems };
}
