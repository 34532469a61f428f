// Opening a scenario in the app: its placeholders become form values where the file has them
// ("lab:<target>" URLs, inline secret values) and notes for the user where it only names them
// (an environment variable, a file, a key the lab made). JWT templates stay templates: the
// app signs them again with this browser's key.
import type { LabTarget } from '../../../../shared/protocol/index.ts';
import type { Scenario, SecretSource } from '../../../../shared/flows/scenario.ts';
import type { KeyRing } from '../keys/keyring.svelte.ts';
import { summarizeCertificate } from '../keys/inspect.ts';

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A `$jwt` placeholder: how the file says the JWT is made. */
export interface JwtSpec {
  template?: string;
  alg?: string;
  kid?: string | null;
  clientId?: string;
  subject?: string;
  issuer?: string;
  audience?: string;
  lifetimeSec?: number;
  offsetSec?: number;
  claims?: Obj;
  count?: number;
}

export function isJwtSpec(v: unknown): v is { $jwt: JwtSpec } {
  return isObj(v) && isObj(v.$jwt);
}

interface Resolved {
  /** The request with lab URLs and inline secrets filled in; `$jwt` placeholders kept. */
  request: Obj;
  /** What the user has to supply or know, one sentence each. */
  notes: string[];
}

function describeSource(name: string, source: SecretSource | undefined): string {
  if (!source) return `"${name}" is named but the file does not say where it comes from: enter it.`;
  if ('env' in source) return `"${name}" comes from the environment variable ${source.env} when run headless: enter it here.`;
  if ('file' in source) return `"${name}" comes from the file ${source.file} when run headless: enter it here.`;
  if ('lab' in source) {
    if (source.lab.startsWith('registered-')) return `"${name}" is the ${source.lab.startsWith('registered-client:') ? 'client id' : 'client secret'} the lab registers for the scenario's key when run headless; here, this browser's own key is registered with the lab instead.`;
    if (source.lab.startsWith('refresh-token:')) return `"${name}" is a refresh token the lab issues to the command line; here, get one by running the authorization code flow, or paste yours.`;
    return `"${name}" is the lab's ${source.lab}, which only the command line reads; this browser uses its own key or certificate instead.`;
  }
  if ('generate' in source) return `"${name}" is a ${source.generate} key made fresh for each headless run; this browser uses its own key.`;
  return `"${name}" is not in the file: enter it.`;
}

export function resolveScenario(s: Scenario, labTargets: LabTarget[]): Resolved {
  const notes: string[] = [];
  const noted = new Set<string>();
  const note = (text: string) => {
    if (!noted.has(text)) {
      noted.add(text);
      notes.push(text);
    }
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const m = /^lab:([a-z][a-z-]*)(\/.*)?$/.exec(v);
      if (!m) return v;
      const target = labTargets.find((t) => t.id === m[1]);
      if (!target) {
        note(`The lab target "${m[1]}" is not on this relay${labTargets.length ? '' : ' (it runs without its lab)'}: enter the URL.`);
        return '';
      }
      return `${target.url.replace(/\/$/, '')}${m[2] ?? ''}`;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (!isObj(v)) return v;
    if (typeof v.$secret === 'string' && Object.keys(v).length === 1) {
      const source = s.secrets[v.$secret];
      if (source && 'value' in source) return source.value;
      note(describeSource(v.$secret, source));
      return '';
    }
    return Object.fromEntries(Object.entries(v).map(([k, val]) => [k, walk(val)]));
  };
  return { request: walk(s.request) as Obj, notes };
}

/** Saves text as a file download. */
export function download(filename: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

export function fileNameFor(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60);
  return `${slug || 'scenario'}.json`;
}

/**
 * A client certificate from a scenario: the key-ring credential with that certificate, or a new
 * one when the file carries the key too. Returns the credential id, or '' with a note.
 */
async function credentialFor(keyring: KeyRing, client: unknown, notes: string[]): Promise<string> {
  if (!isObj(client)) return '';
  const certificatePem = typeof client.certificatePem === 'string' ? client.certificatePem : '';
  const keyPem = typeof client.privateKeyPem === 'string' ? client.privateKeyPem : '';
  if (!certificatePem) return '';
  const known = keyring.items.find((c) => c.certificatePem && certificatePem.trim().startsWith(c.certificatePem.trim()));
  if (known) return known.id;
  if (keyPem) {
    const credential = await keyring.addPasted(certificatePem, keyPem);
    notes.push(`The client certificate and key in the file were added to the key ring as ${credential.label}.`);
    return credential.id;
  }
  notes.push('The client certificate is in the file but its key is not: add the certificate and its key under Keys & certs, then choose it.');
  return '';
}

/**
 * A client certificate an opened scenario presents that this browser cannot present yet: the
 * certificate is in the file but its key is not, or neither is. Run refuses until it is given
 * (or the user chooses to run without it), so a saved test is never silently replaced by
 * another one. The probe, the token flows and the inbound check ask with the same card.
 */
export interface ClientNeed {
  /** The scenario's secret names, e.g. client_key. */
  secrets: string[];
  /** Where the command line takes them from, e.g. "the file client-key.pem". */
  sources: string[];
  /** The certificate from the file (leaf first), when it is there; the key is what is missing. */
  certificatePem: string | null;
  /** Its subject, for people. */
  subject: string | null;
}

function sourceText(source: SecretSource | undefined): string {
  if (!source) return 'not said';
  if ('env' in source) return `the environment variable ${source.env}`;
  if ('file' in source) return `the file ${source.file}`;
  if ('lab' in source) return `the lab's ${source.lab}`;
  if ('generate' in source) return `a fresh ${source.generate} key`;
  return 'not said';
}

/**
 * The client certificate of an opened scenario: the key-ring credential that presents it, or
 * what is missing. `raw` is the client as the file has it (placeholders in), `resolved` as
 * resolveScenario filled it in. Notes about the secrets the need card asks for are dropped from
 * `notes` (the card says it, with a way to give them).
 */
export async function openClient(keyring: KeyRing, scenario: Scenario, raw: unknown, resolved: unknown, notes: string[]): Promise<{ credentialId: string; need: ClientNeed | null; notes: string[] }> {
  if (!isObj(resolved)) return { credentialId: '', need: null, notes };
  const certificatePem = typeof resolved.certificatePem === 'string' ? resolved.certificatePem : '';
  const keyPem = typeof resolved.privateKeyPem === 'string' ? resolved.privateKeyPem : '';
  const known = certificatePem ? keyring.items.find((c) => c.certificatePem && certificatePem.trim().startsWith(c.certificatePem.trim())) : undefined;
  if (known || (certificatePem && keyPem)) {
    const more: string[] = [];
    const credentialId = await credentialFor(keyring, resolved, more);
    return { credentialId, need: null, notes: [...notes, ...more] };
  }
  const missing: { name: string; source: string }[] = [];
  const client = isObj(raw) ? raw : {};
  for (const v of [client.certificatePem, client.privateKeyPem]) {
    if (!isObj(v) || typeof v.$secret !== 'string') continue;
    const source = scenario.secrets[v.$secret];
    if (source && 'value' in source) continue;
    missing.push({ name: v.$secret, source: sourceText(source) });
  }
  let subject: string | null = null;
  if (certificatePem) {
    try {
      subject = (await summarizeCertificate(certificatePem)).subject;
    } catch {
      subject = null;
    }
  }
  const need: ClientNeed = { secrets: missing.map((m) => m.name), sources: missing.map((m) => m.source), certificatePem: certificatePem || null, subject };
  const named = missing.map((m) => `"${m.name}"`);
  return {
    credentialId: '',
    need,
    notes: [
      ...notes.filter((n) => !named.some((name) => n.startsWith(name))),
      `The client ${certificatePem ? 'key' : 'certificate and key'} this scenario presents ${certificatePem ? 'is' : 'are'} not in the file: give ${certificatePem ? 'it' : 'them'} in the box above the form.`,
    ],
  };
}

/** What Run says while an opened scenario's client certificate is still missing. */
export function clientNeedMessage(need: ClientNeed, skip: string): string {
  return `The opened scenario presents a client certificate${need.subject ? ` (${need.subject})` : ''}: give ${need.certificatePem ? 'its private key' : 'a certificate and its key'} above (${need.secrets.join(', ') || 'not in the file'}), or choose “${skip}”.`;
}
