// A report people read without the app: one self-contained HTML file (no network, no scripts,
// inline styles; prints well) with a summary table and each run's timeline, diagnosis, fixes and
// evidence. Made from transcripts, so it holds only what they hold: redacted events.
import { detailsOf, type Step } from '../protocol/index.ts';
import { readRun, type Transcript } from './transcript.ts';

export interface ReportEntry {
  transcript: Transcript;
  /**
   * The scenario's expectation, when it had one: met or not, and how. `undecided`: neither —
   * the run could not tell (a server check's inconclusive case); JUnit reports it as skipped.
   */
  expectation?: { met: boolean; message: string; undecided?: boolean };
  /** What the run is part of (a server check scenario): the JUnit classname. */
  group?: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const ICON: Record<Step['status'], string> = { running: '…', ok: '✓', warn: '!', fail: '✗', skipped: '–' };
const WORD: Record<Step['status'], string> = { running: 'running', ok: 'ok', warn: 'warning', fail: 'failed', skipped: 'skipped' };

/** Raw evidence shown per step is capped: a report stays readable and small. */
const MAX_EVIDENCE_CHARS = 20_000;

function ms(v: number | undefined): string {
  return v === undefined ? '' : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The few facts of a step a reader looks for first; everything else is in the raw evidence. */
function keyFacts(step: Step): [string, string][] {
  const d = step.details;
  if (!d) return [];
  const tls = detailsOf(step, 'tls');
  const response = detailsOf(step, 'response');
  const out: [string, string][] = [];
  const add = (label: string, v: unknown) => {
    if (v === undefined || v === null || v === '') return;
    out.push([label, Array.isArray(v) ? (v.length ? v.map((x) => (isObj(x) && typeof x.subject === 'string' ? x.subject : String(x))).join(' ← ') : 'none') : typeof v === 'object' ? JSON.stringify(v) : String(v)]);
  };
  if (step.id === 'tls' && tls) {
    add('protocol', tls.protocol);
    add('cipher', tls.cipher);
    add('server asked for a client certificate', tls.certificateRequested === undefined ? undefined : tls.certificateRequested ? 'yes' : 'no');
    if (Array.isArray(tls.acceptableCAs)) out.push(['acceptable CA names', tls.acceptableCAs.length ? tls.acceptableCAs.join(' · ') : 'none']);
    if ('sentChain' in tls) add('sent', tls.sentChain);
    if ('serverChain' in tls) add('server chain', tls.serverChain);
  }
  if ('response' in d && isObj(d.response)) add('HTTP status', d.response.status);
  else if (step.id === 'response' && response) add('HTTP status', response.status);
  if ('request' in d && isObj(d.request)) add('request', `${String(d.request.method ?? '')} ${String(d.request.url ?? '')}`.trim());
  return out;
}

function reproduceCommands(steps: Step[]): string[] {
  const verdict = steps.find((s) => s.id === 'verdict');
  const r = detailsOf(verdict, 'verdict')?.reproduce;
  if (!isObj(r)) return [];
  if (typeof r.curl === 'string') return [r.curl];
  if (Array.isArray(r.curl)) return r.curl.map((c) => (isObj(c) && typeof c.command === 'string' ? c.command : '')).filter(Boolean);
  return [];
}

function renderStep(step: Step): string {
  const facts = keyFacts(step);
  const raw = step.details ? JSON.stringify(step.details, null, 2) : '';
  const rawShown = raw.length > MAX_EVIDENCE_CHARS ? `${raw.slice(0, MAX_EVIDENCE_CHARS)}\n… (${raw.length - MAX_EVIDENCE_CHARS} more characters in the transcript)` : raw;
  const d = step.diagnosis;
  return `<li class="step ${step.status}">
<div class="line"><span class="icon" aria-hidden="true">${ICON[step.status]}</span><span class="word">${WORD[step.status]}</span><span class="title">${escapeHtml(step.title)}</span><span class="summary">${escapeHtml(step.summary ?? '')}</span><span class="ms">${ms(step.durationMs)}</span></div>
${d && step.status !== 'ok' ? `<div class="diagnosis"><p><code>${escapeHtml(d.code)}</code> — ${escapeHtml(d.summary)}</p>
${d.evidence.length ? `<ul class="evidence">${d.evidence.map((e) => `<li>${escapeHtml(e)}</li>`).join('')}</ul>` : ''}
<p class="fix"><b>Fix on your side:</b> ${escapeHtml(d.fix.client)}</p>
<p class="fix"><b>Fix on the server:</b> ${escapeHtml(d.fix.server)}</p></div>` : ''}
${facts.length ? `<dl>${facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>` : ''}
${rawShown ? `<details><summary>Raw evidence</summary><pre>${escapeHtml(rawShown)}</pre></details>` : ''}
</li>`;
}

function anchor(i: number): string {
  return `run-${i + 1}`;
}

function outcomeWord(outcome: string): string {
  return outcome === 'pass' ? 'passed' : outcome === 'fail' ? 'failed' : outcome === 'error' ? 'error' : 'unfinished';
}

function renderRun(entry: ReportEntry, i: number): string {
  const t = entry.transcript;
  const run = readRun(t);
  const commands = reproduceCommands(run.steps);
  return `<section class="run" id="${anchor(i)}">
<h2><span class="badge ${run.outcome}">${outcomeWord(run.outcome)}</span> ${escapeHtml(t.name)}</h2>
<p class="meta">${escapeHtml(run.kind)} · ${escapeHtml(run.target)} · started ${escapeHtml(t.startedAt)} · ${ms(run.durationMs)}${run.diagnoses.length ? ` · <code>${run.diagnoses.map(escapeHtml).join('</code> <code>')}</code>` : ''}</p>
${entry.expectation ? `<p class="expect ${entry.expectation.met ? 'met' : 'unmet'}">${entry.expectation.met ? 'Expectation met' : 'Expectation NOT met'}: ${escapeHtml(entry.expectation.message)}</p>` : ''}
<ol class="timeline">${run.steps.map(renderStep).join('\n')}</ol>
${commands.length ? `<h3>Reproduce</h3>${commands.map((c) => `<pre>${escapeHtml(c)}</pre>`).join('')}` : ''}
<p class="env">Recorded by the ${t.recordedBy === 'app' ? 'app' : 'command line'} with harness ${escapeHtml(t.environment.harness)}, Node ${escapeHtml(t.environment.node)}, OpenSSL ${escapeHtml(t.environment.openssl)} on ${escapeHtml(t.environment.platform)}.</p>
</section>`;
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#57606a;--bg:#fff;--line:#d0d7de;--ok:#1a7f37;--warn:#9a6700;--fail:#cf222e;--code:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#8d96a0;--bg:#0d1117;--line:#30363d;--ok:#3fb950;--warn:#d29922;--fail:#f85149;--code:#161b22}}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2.5rem;border-top:1px solid var(--line);padding-top:1rem}h3{font-size:1rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;background:var(--code)}pre{padding:.5rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.badge{display:inline-block;padding:0 .4rem;border-radius:.25rem;font-size:.85rem;border:1px solid currentColor}
.pass,.ok .icon,.met{color:var(--ok)}.fail,.error,.unfinished,.fail .icon,.unmet{color:var(--fail)}.warn .icon{color:var(--warn)}.skipped{color:var(--muted)}
.timeline{list-style:none;padding:0}.step{border-bottom:1px solid var(--line);padding:.35rem 0}.step .line{display:flex;gap:.5rem;align-items:baseline;color:var(--fg)}
.icon{width:1rem;font-weight:bold}.word{width:4.5rem;color:var(--muted);font-size:.85rem}.title{font-weight:600;min-width:8rem}.summary{flex:1;color:var(--muted);overflow-wrap:anywhere}.ms{color:var(--muted);font-size:.85rem;white-space:nowrap}
.diagnosis{margin:.4rem 0 .4rem 1.5rem;padding:.4rem .6rem;border-left:3px solid var(--fail);color:var(--fg)}.warn .diagnosis{border-color:var(--warn)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;margin:.3rem 0 .3rem 1.5rem;font-size:.9rem;color:var(--fg)}dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
details{margin-left:1.5rem;color:var(--fg)}summary{cursor:pointer;color:var(--muted);font-size:.9rem}
.meta,.env{color:var(--muted);font-size:.9rem}
@media print{body{margin:0;max-width:none;font-size:11pt}details{display:none}.run{break-before:page}.run:first-of-type{break-before:auto}.step{break-inside:avoid}a{color:inherit;text-decoration:none}}
`;

/** One HTML document for one or more runs. */
export function renderHtmlReport(entries: ReportEntry[], opts: { title?: string; generatedAt?: Date } = {}): string {
  const title = opts.title ?? (entries.length === 1 ? `Run report: ${entries[0]!.transcript.name}` : `Run report: ${entries.length} runs`);
  const runs = entries.map((e) => ({ e, run: readRun(e.transcript) }));
  const passed = runs.filter(({ e, run }) => (e.expectation ? e.expectation.met : run.outcome === 'pass')).length;
  const rows = runs.map(({ e, run }, i) => `<tr><td><a href="#${anchor(i)}">${escapeHtml(e.transcript.name)}</a></td><td>${escapeHtml(run.kind)}</td><td class="${run.outcome}">${outcomeWord(run.outcome)}</td><td>${run.diagnoses.length ? run.diagnoses.map((c) => `<code>${escapeHtml(c)}</code>`).join(' ') : '—'}</td><td>${e.expectation ? `<span class="${e.expectation.met ? 'met' : 'unmet'}">${e.expectation.met ? 'met' : 'not met'}</span>` : '—'}</td><td>${ms(run.durationMs)}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="meta">${passed} of ${entries.length} ${entries.length === 1 ? 'run' : 'runs'} as expected · made ${escapeHtml((opts.generatedAt ?? new Date()).toISOString())} by the mTLS &amp; JWT Harness. Secrets are masked (••••••).</p>
<table>
<thead><tr><th>Run</th><th>Kind</th><th>Outcome</th><th>Diagnoses</th><th>Expectation</th><th>Time</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
${entries.map(renderRun).join('\n')}
</body>
</html>
`;
}
