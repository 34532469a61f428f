// Two runs side by side, step by step: what differs and what that means. The tool for "it
// works for me and fails for the partner": run A (the one that passes) against run B. Pure: the
// app's compare view and `harness diff` print the same list.
import { detailsOf, type Step, type TokenDetails } from '../protocol/index.ts';
import { readRun, type Transcript, type TranscriptRun } from './transcript.ts';

interface Difference {
  /** The step id the difference is in; absent for the run as a whole. */
  step?: string;
  /** What differs, in words: "sent certificates", "TLS version", "HTTP status". */
  what: string;
  a: string;
  b: string;
  /** What it means, when the harness can tell. */
  meaning?: string;
  /** `cause`: a likely reason the outcomes differ; `context`: worth knowing, rarely the reason. */
  weight: 'cause' | 'context';
}

interface Comparison {
  a: { name: string; outcome: string; diagnoses: string[] };
  b: { name: string; outcome: string; diagnoses: string[] };
  /** True when nothing that matters differs (timings aside). */
  same: boolean;
  differences: Difference[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);
const list = (v: string[]) => (v.length ? v.join(' · ') : 'none');
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Evidence of one TLS handshake, wherever a step keeps it (a probe's tls step, a flow call's connection). */
interface Handshake {
  protocol?: string;
  cipher?: string;
  certificateRequested?: string;
  acceptableCAs: string[];
  sent?: string[];
  serverChain: string[];
}

function handshakeOf(step: Step): Handshake | null {
  const d = step.details;
  if (!d) return null;
  const c = step.phase === 'tls' ? step.details : 'connection' in d ? d.connection : undefined;
  if (!c) return null;
  const serverChain = 'serverChain' in c && Array.isArray(c.serverChain) ? c.serverChain.map((x) => (isObj(x) ? str(x.subject) : str(x))).filter((x): x is string => !!x) : [];
  const sent = 'sentChain' in c && Array.isArray(c.sentChain) ? strings(c.sentChain) : undefined;
  return {
    protocol: str(c.protocol),
    cipher: str(c.cipher),
    certificateRequested: str(c.certificateRequested),
    acceptableCAs: strings(c.acceptableCAs),
    ...(sent ? { sent } : {}),
    serverChain,
  };
}

function httpStatusOf(step: Step): string | undefined {
  const d = step.details;
  if (!d) return undefined;
  if ('response' in d && d.response) return str(d.response.status);
  return step.phase === 'response' ? str(step.details?.status) : undefined;
}

function compareSentChains(step: string, a: string[], b: string[]): Difference | null {
  if (a.length === b.length && a.every((s, i) => s === b[i])) return null;
  const base = { step, what: 'sent certificates', a: a.length ? `${plural(a.length, 'certificate')}: ${a.join(' ← ')}` : 'none', b: b.length ? `${plural(b.length, 'certificate')}: ${b.join(' ← ')}` : 'none', weight: 'cause' as const };
  if (b.length === 0) return { ...base, meaning: 'run B sent no client certificate at all: the server was not given one (none configured, or the key did not match)' };
  if (a.length === 0) return { ...base, meaning: 'run A sent no client certificate at all' };
  if (a[0] !== b[0]) return { ...base, meaning: `the runs presented different client certificates (A: ${a[0]}, B: ${b[0]})` };
  if (b.length < a.length && b.every((s, i) => s === a[i])) {
    const missing = a.slice(b.length);
    return { ...base, meaning: `run B sent ${plural(b.length, 'certificate')}, run A ${a.length}: B's ${missing.length === 1 ? 'intermediate' : 'intermediates'} ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing` };
  }
  if (a.length < b.length && a.every((s, i) => s === b[i])) {
    const extra = b.slice(a.length);
    return { ...base, meaning: `run B sent ${plural(b.length, 'certificate')}, run A ${a.length}: B also sent ${extra.join(', ')}` };
  }
  return { ...base, meaning: 'the same client certificate with a different chain of CAs' };
}

function compareHandshakes(step: string, a: Handshake, b: Handshake): Difference[] {
  const out: Difference[] = [];
  if (a.protocol && b.protocol && a.protocol !== b.protocol) {
    out.push({ step, what: 'TLS version', a: a.protocol, b: b.protocol, weight: 'context', meaning: 'on TLS 1.3 a server refuses a client certificate after the handshake, on TLS 1.2 during it: the same refusal looks different' });
  }
  if (a.cipher && b.cipher && a.cipher !== b.cipher) out.push({ step, what: 'cipher', a: a.cipher, b: b.cipher, weight: 'context' });
  if (a.certificateRequested && b.certificateRequested && a.certificateRequested !== b.certificateRequested) {
    const asked = a.certificateRequested === 'true' ? 'A' : 'B';
    out.push({ step, what: 'server asked for a client certificate', a: a.certificateRequested === 'true' ? 'yes' : 'no', b: b.certificateRequested === 'true' ? 'yes' : 'no', weight: 'cause', meaning: `only run ${asked}'s server asked for a client certificate: a different server, host name or virtual host, or client-certificate verification changed` });
  }
  const onlyA = a.acceptableCAs.filter((n) => !b.acceptableCAs.includes(n));
  const onlyB = b.acceptableCAs.filter((n) => !a.acceptableCAs.includes(n));
  if (onlyA.length || onlyB.length) {
    out.push({ step, what: 'acceptable CA names', a: list(a.acceptableCAs), b: list(b.acceptableCAs), weight: 'cause', meaning: `the server's acceptable CA names differ${onlyA.length ? `; only A's server accepts ${onlyA.join(', ')}` : ''}${onlyB.length ? `; only B's server accepts ${onlyB.join(', ')}` : ''}: the servers trust different client CAs (another server, or its CA file changed)` });
  }
  if (a.sent && b.sent) {
    const d = compareSentChains(step, a.sent, b.sent);
    if (d) out.push(d);
  }
  if (a.serverChain.length && b.serverChain.length && a.serverChain.join('\n') !== b.serverChain.join('\n')) {
    out.push({ step, what: 'server certificate chain', a: a.serverChain.join(' ← '), b: b.serverChain.join(' ← '), weight: 'context', meaning: a.serverChain[0] === b.serverChain[0] ? 'the same server certificate with a different chain' : 'different server certificates: is it the same server?' });
  }
  return out;
}

const TOKEN_FIELDS = ['tokenType', 'scope', 'refreshTokenIssued'] as const;
const CLAIMS = ['iss', 'aud', 'sub', 'azp', 'scope', 'cnf'] as const;

function compareTokens(step: string, a: TokenDetails, b: TokenDetails): Difference[] {
  const out: Difference[] = [];
  for (const k of TOKEN_FIELDS) {
    const va = str(a[k]);
    const vb = str(b[k]);
    if (va !== vb) out.push({ step, what: k, a: va ?? '—', b: vb ?? '—', weight: 'context' });
  }
  const ca = isObj(a.accessToken) && isObj(a.accessToken.claims) ? a.accessToken.claims : null;
  const cb = isObj(b.accessToken) && isObj(b.accessToken.claims) ? b.accessToken.claims : null;
  if (ca && cb) {
    for (const k of CLAIMS) {
      const va = JSON.stringify(ca[k]);
      const vb = JSON.stringify(cb[k]);
      if (va !== vb) out.push({ step, what: `access token claim ${k}`, a: va ?? '—', b: vb ?? '—', weight: 'context' });
    }
  }
  return out;
}

/** A step that took much longer in one run than in the other: worth a look, rarely the cause. */
function compareTiming(step: string, a: Step, b: Step): Difference | null {
  if (a.durationMs === undefined || b.durationMs === undefined) return null;
  const [lo, hi] = a.durationMs < b.durationMs ? [a.durationMs, b.durationMs] : [b.durationMs, a.durationMs];
  if (hi - lo < 200 || hi < 3 * lo) return null;
  return { step, what: 'time taken', a: `${Math.round(a.durationMs)} ms`, b: `${Math.round(b.durationMs)} ms`, weight: 'context', meaning: `run ${a.durationMs > b.durationMs ? 'A' : 'B'} was much slower here (network, DNS or a server under load)` };
}

function compareSteps(a: Step, b: Step): Difference[] {
  const id = a.id;
  const out: Difference[] = [];
  if (a.status !== b.status) {
    out.push({ step: id, what: 'status', a: `${a.status}${a.diagnosis ? ` (${a.diagnosis.code})` : ''}`, b: `${b.status}${b.diagnosis ? ` (${b.diagnosis.code})` : ''}`, weight: a.status === 'skipped' || b.status === 'skipped' ? 'context' : 'cause', ...(b.diagnosis && b.status === 'fail' ? { meaning: b.diagnosis.summary } : a.diagnosis && a.status === 'fail' ? { meaning: a.diagnosis.summary } : {}) });
  } else if (a.diagnosis?.code !== b.diagnosis?.code) {
    out.push({ step: id, what: 'diagnosis', a: a.diagnosis?.code ?? 'none', b: b.diagnosis?.code ?? 'none', weight: 'cause' });
  }
  const ha = handshakeOf(a);
  const hb = handshakeOf(b);
  if (ha && hb) out.push(...compareHandshakes(id, ha, hb));
  const sa = httpStatusOf(a);
  const sb = httpStatusOf(b);
  if (sa && sb && sa !== sb) out.push({ step: id, what: 'HTTP status', a: sa, b: sb, weight: 'cause' });
  const ta = detailsOf(a, 'token');
  const tb = detailsOf(b, 'token');
  if (id === 'token' && ta && tb) out.push(...compareTokens(id, ta, tb));
  const t = compareTiming(id, a, b);
  if (t) out.push(t);
  return out;
}

function compareRuns(a: TranscriptRun, b: TranscriptRun): Difference[] {
  const out: Difference[] = [];
  if (a.kind !== b.kind) out.push({ what: 'kind of run', a: a.kind, b: b.kind, weight: 'context', meaning: 'the runs are of different kinds; only steps with the same id are compared' });
  if (a.target !== b.target) out.push({ what: 'target', a: a.target, b: b.target, weight: 'context' });
  const byId = new Map(b.steps.map((s) => [s.id, s]));
  for (const sa of a.steps) {
    const sb = byId.get(sa.id);
    if (!sb) {
      out.push({ step: sa.id, what: 'step', a: sa.status, b: 'not in run B', weight: 'context' });
      continue;
    }
    out.push(...compareSteps(sa, sb));
  }
  for (const sb of b.steps) {
    if (!a.steps.some((s) => s.id === sb.id)) out.push({ step: sb.id, what: 'step', a: 'not in run A', b: sb.status, weight: 'context' });
  }
  return out;
}

/** Compares run A with run B (give the passing one as A). */
export function compareTranscripts(a: Transcript, b: Transcript): Comparison {
  const ra = readRun(a);
  const rb = readRun(b);
  const differences: Difference[] = [];
  if (ra.outcome !== rb.outcome || ra.diagnoses.join() !== rb.diagnoses.join()) {
    const onlyB = rb.diagnoses.filter((c) => !ra.diagnoses.includes(c));
    differences.push({ what: 'outcome', a: `${ra.outcome}${ra.diagnoses.length ? ` (${ra.diagnoses.join(', ')})` : ''}`, b: `${rb.outcome}${rb.diagnoses.length ? ` (${rb.diagnoses.join(', ')})` : ''}`, weight: 'cause', ...(onlyB.length ? { meaning: `only run B: ${onlyB.join(', ')}` } : {}) });
  }
  differences.push(...compareRuns(ra, rb));
  for (const k of ['harness', 'node', 'openssl'] as const) {
    if (a.environment[k] !== b.environment[k]) differences.push({ what: `${k} version`, a: a.environment[k], b: b.environment[k], weight: 'context' });
  }
  return {
    a: { name: a.name, outcome: ra.outcome, diagnoses: ra.diagnoses },
    b: { name: b.name, outcome: rb.outcome, diagnoses: rb.diagnoses },
    same: differences.every((d) => d.what === 'time taken' || d.what.endsWith(' version')),
    differences,
  };
}

/** The comparison as text, causes first: what `harness diff` prints. */
export function formatComparison(c: Comparison): string {
  const lines = [`A: ${c.a.name} — ${c.a.outcome}${c.a.diagnoses.length ? ` (${c.a.diagnoses.join(', ')})` : ''}`, `B: ${c.b.name} — ${c.b.outcome}${c.b.diagnoses.length ? ` (${c.b.diagnoses.join(', ')})` : ''}`, ''];
  if (c.same) lines.push('The runs match: the same steps, evidence and outcome (timings aside).');
  const ordered = [...c.differences.filter((d) => d.weight === 'cause'), ...c.differences.filter((d) => d.weight === 'context')];
  for (const d of ordered) {
    lines.push(`${d.weight === 'cause' ? '≠' : '·'} ${d.step ? `[${d.step}] ` : ''}${d.what}`);
    lines.push(`    A: ${d.a}`);
    lines.push(`    B: ${d.b}`);
    if (d.meaning) lines.push(`    → ${d.meaning}`);
  }
  return `${lines.join('\n')}\n`;
}
