import type { CheckCaseInfo, CheckCaseResult, CheckInstallKit, CheckReport } from '../../../../shared/check/messages.ts';
import type { MtlsCheckRequest } from '../../../../shared/check/request.ts';
import type { CheckKind, ClientMessage, Step } from '../../../../shared/protocol/index.ts';
import type { Harness } from '../app/harness.svelte.ts';
import { JwtTools } from '../jwt/tools.ts';
import { FormProblem, JwtCheckForm, ResourceCheckForm } from './jwt-check.svelte.ts';
import type { KeyRing } from '../keys/keyring.svelte.ts';
import type { StoredItem } from '../keys/vault.ts';
import { loadPki } from '../keys/pki.ts';
import type { RelayConnection } from '../relay/connection.svelte.ts';
import { describeError } from '../relay/errors.ts';
import { makeItem } from '../workshop/make.ts';

/** One row of the matrix: known when the check starts, its steps as they come, its verdict at the end. */
export interface CaseRow {
  info: CheckCaseInfo;
  steps: Step[];
  result: CheckCaseResult | null;
}

const CA_VALIDITY = { kind: 'days', days: 365 } as const;

/**
 * The Server check screen: which check (mTLS, a token endpoint's JWT validation, an API's access
 * token validation), its inputs — for mTLS the test CA (workshop items, or one made here), the
 * server and the rule it must enforce, what to install — and the check's matrix as it fills in.
 */
export class CheckSession {
  kind = $state<CheckKind>('mtls');
  /** The kind of the check on screen (rows, grade): the report's kind, whatever the form shows now. */
  shownKind = $state<CheckKind>('mtls');
  readonly jwt: JwtCheckForm;
  readonly resource: ResourceCheckForm;
  url = $state('');
  ruleKind = $state<'cn' | 'san'>('cn');
  ruleValue = $state('');
  verifyDepth = $state(3);
  /** PEM CAs to trust for the server's own certificate; blank for the system store. */
  caPem = $state('');
  rootId = $state('');
  intermediateId = $state('');

  kit = $state.raw<CheckInstallKit | null>(null);
  rows = $state<CaseRow[]>([]);
  report = $state.raw<CheckReport | null>(null);
  checkId = $state<string | null>(null);
  running = $state(false);
  busy = $state<string | null>(null);
  error = $state<string | null>(null);

  readonly #relay: RelayConnection;
  readonly #keyring: KeyRing;

  constructor(harness: Harness) {
    this.#relay = harness.relay;
    this.#keyring = harness.keyring;
    this.jwt = new JwtCheckForm(harness.keyring, harness.screen(JwtTools).signer);
    this.resource = new ResourceCheckForm(harness.keyring);
  }

  /** The built-in lab as the JWT check's target (this browser's key registered with it). */
  async useLab(): Promise<void> {
    this.error = await this.jwt.useLab(this.#relay);
  }

  /** check.start for the chosen kind; null with `error` set when the form lacks something. */
  async #start(): Promise<Extract<ClientMessage, { type: 'check.start' }> | null> {
    const id = this.#relay.nextId();
    try {
      if (this.kind === 'jwt') {
        this.busy = 'Signing the assertions in this browser…';
        return { type: 'check.start', id, kind: 'jwt', jwt: await this.jwt.request(this.caPem) };
      }
      if (this.kind === 'resource') return { type: 'check.start', id, kind: 'resource', resource: await this.resource.request(this.caPem) };
    } catch (err) {
      this.error = err instanceof FormProblem ? err.message : `The check could not be prepared: ${describeError(err)}`;
      return null;
    } finally {
      this.busy = null;
    }
    const check = await this.#request();
    return check ? { type: 'check.start', id, check } : null;
  }

  /** Roots of the workshop whose key can leave the browser (the relay signs each case with it). */
  get roots(): StoredItem[] {
    return this.#keyring.stored.items.filter((i) => i.kind === 'root-ca' && i.certificatePem && i.keys.privateKey.extractable);
  }

  /** Intermediates the chosen root issued. */
  get intermediates(): StoredItem[] {
    return this.#keyring.stored.items.filter((i) => i.kind === 'intermediate-ca' && i.issuerId === this.rootId && i.certificatePem && i.keys.privateKey.extractable);
  }

  /** Makes a test root and intermediate in this browser (kept with the workshop's items) and picks them. */
  async makeTestCa(): Promise<void> {
    this.busy = 'Making a test root and intermediate in this browser…';
    this.error = null;
    try {
      const tag = Math.random().toString(16).slice(2, 8);
      const base = { algorithm: 'P-256', organization: 'mTLS Harness Check', purpose: 'ca', extractable: true, validity: CA_VALIDITY, subjectAltNames: '', eku: 'clientAuth' } as const;
      const root = await makeItem({ ...base, kind: 'root-ca', commonName: `Check Root ${tag}`, issuer: null });
      await this.#keyring.addStored(root);
      const intermediate = await makeItem({ ...base, kind: 'intermediate-ca', commonName: `Check Intermediate ${tag}`, issuer: root });
      await this.#keyring.addStored(intermediate);
      this.rootId = root.id;
      this.intermediateId = intermediate.id;
      this.kit = null;
    } catch (err) {
      this.error = `The test CA could not be made: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      this.busy = null;
    }
  }

  /** The request as the relay takes it; the CA keys leave the browser only here, for this check. */
  async #request(): Promise<MtlsCheckRequest | null> {
    const root = this.#keyring.stored.get(this.rootId);
    const intermediate = this.#keyring.stored.get(this.intermediateId);
    if (!root || !intermediate) {
      this.error = 'Choose the test CA first: a root and an intermediate it issued (or make them here).';
      return null;
    }
    if (!this.ruleValue.trim()) {
      this.error = `Give the ${this.ruleKind === 'cn' ? 'CN' : 'DNS name'} the server's rule must require.`;
      return null;
    }
    const { exportPkcs8Pem } = await loadPki();
    return {
      url: this.url.trim(),
      ca: {
        rootCertificatePem: root.certificatePem!,
        rootPrivateKeyPem: await exportPkcs8Pem(root.keys.privateKey),
        intermediateCertificatePem: intermediate.certificatePem!,
        intermediatePrivateKeyPem: await exportPkcs8Pem(intermediate.keys.privateKey),
      },
      rule: this.ruleKind === 'cn' ? { cnEquals: this.ruleValue.trim() } : { sanDnsEquals: this.ruleValue.trim() },
      verifyDepth: Number(this.verifyDepth),
      ...(this.caPem.trim() ? { caPem: this.caPem } : {}),
    };
  }

  /** What the partner installs on the server for this CA, rule and depth. */
  async loadKit(): Promise<void> {
    this.error = null;
    const check = await this.#request();
    if (!check) return;
    this.busy = 'Preparing the files to install…';
    try {
      const reply = await this.#relay.request({ type: 'check.kit', id: this.#relay.nextId(), check: { ...check, url: check.url || 'https://staging.example/' } });
      this.kit = reply.kit;
    } catch (err) {
      this.error = describeError(err);
    } finally {
      this.busy = null;
    }
  }

  async run(): Promise<void> {
    if (this.running) return;
    this.error = null;
    this.running = true;
    const start = await this.#start();
    if (!start) {
      this.running = false;
      return;
    }
    this.rows = [];
    this.report = null;
    this.shownKind = this.kind;
    try {
      let settle!: () => void;
      const ended = new Promise<void>((resolve) => (settle = resolve));
      this.checkId = await this.#relay.startCheck(start, {
        onEvent: (event) => {
          if (event.type === 'check.started') this.rows = event.cases.map((info) => ({ info, steps: [], result: null }));
          else if (event.type === 'check.step') {
            const row = this.rows.find((r) => r.info.caseId === event.caseId);
            if (!row) return;
            const i = row.steps.findIndex((s) => s.id === event.step.id);
            if (i === -1) row.steps.push(event.step);
            else row.steps[i] = event.step;
          } else if (event.type === 'check.case') {
            const row = this.rows.find((r) => r.info.caseId === event.caseId);
            if (row) row.result = event.result;
          } else {
            this.report = event.report;
            settle();
          }
        },
        onLost: (reason) => {
          this.error = reason;
          settle();
        },
      });
      await ended;
    } catch (err) {
      this.error = describeError(err);
    } finally {
      this.running = false;
    }
  }

  cancel(): void {
    if (this.checkId && this.running) this.#relay.cancelRun(this.checkId);
  }
}
