// The token-flows screen's state across visits: one form per flow kind, the run, and the lab
// clients made for this browser's keys (lab.register sends only public keys).
import type { FlowKind } from '../../../../shared/flows/flow-request.ts';
import { FLOW_KINDS } from '../../../../shared/flows/flow-request.ts';
import type { Scenario } from '../../../../shared/flows/scenario.ts';
import type { LabInfo, LabTarget } from '../../../../shared/protocol/index.ts';
import { exportJWK, importX509 } from 'jose';
import type { Harness } from '../app/harness.svelte.ts';
import type { Credential } from '../keys/credential.svelte.ts';
import { JwtTools } from '../jwt/tools.ts';
import type { BrowserAlg, LabRegistered } from '../jwt/signer.svelte.ts';
import { keyringSigningKey } from './keyring-signer.ts';
import { describeError } from '../relay/errors.ts';
import { resolveScenario } from '../scenarios/resolve.ts';
import { buildFlow } from './build.ts';
import { FlowFields, isLabClientId, labClientFor, type AuthChoice } from './fields.svelte.ts';
import { flowKindOf, loadFlow } from './scenario-load.ts';
import { FlowsSession } from './session.svelte.ts';

const CERT_ALG: Record<string, string> = { 'P-256': 'ES256', 'P-384': 'ES384', Ed25519: 'EdDSA' };

export class FlowsController {
  kind = $state<FlowKind>('jwt-exchange');
  readonly forms = Object.fromEntries(FLOW_KINDS.map((k) => [k, new FlowFields(k)])) as Record<FlowKind, FlowFields>;
  readonly session: FlowsSession;
  /** What talking to the lab is doing or why it failed, for the screen. */
  labBusy = $state<string | null>(null);
  /** The scenario last opened, while its flow kind is on screen: its expect block judges the runs. */
  opened = $state.raw<Scenario | null>(null);
  labError = $state<string | null>(null);

  readonly #harness: Harness;
  readonly jwt: JwtTools;
  #lab: LabInfo | null = null;

  constructor(harness: Harness) {
    this.#harness = harness;
    this.jwt = harness.screen(JwtTools);
    this.session = new FlowsSession(harness.relay, { signer: this.jwt.signer, keyring: harness.keyring });
  }

  get fields(): FlowFields {
    return this.forms[this.kind];
  }

  /** The relay's lab, as its welcome describes it; null without one. */
  get lab(): LabInfo | null {
    return this.#harness.relay.info?.lab ?? null;
  }

  get labTargets(): LabTarget[] {
    return this.lab?.targets ?? [];
  }

  /** Is this URL one of the lab's (same origin as a lab target)? */
  isLab(url: string): boolean {
    try {
      const origin = new URL(url).origin;
      return this.labTargets.some((t) => new URL(t.url).origin === origin);
    } catch {
      return false;
    }
  }

  /**
   * The relay's lab, on every welcome. A restarted relay has a new lab: new ports, and none of
   * the clients registered before. Fields still pointing at the old lab follow it.
   */
  labSeen(lab: LabInfo): void {
    const previous = this.#lab;
    this.#lab = lab;
    const changed = this.jwt.signer.noteLab(lab.targets.map((t) => t.url).join(' '));
    if (changed) this.#keyringClients.clear();
    if (previous && changed) {
      const moved = previous.targets
        .map((old) => ({ old: old.url.replace(/\/$/, ''), now: lab.targets.find((t) => t.id === old.id)?.url.replace(/\/$/, '') }))
        .filter((m): m is { old: string; now: string } => m.now !== undefined)
        .sort((a, b) => b.old.length - a.old.length);
      const follow = (url: string) => {
        const m = moved.find((x) => url === x.old || url.startsWith(`${x.old}/`));
        return m ? m.now + url.slice(m.old.length) : url;
      };
      for (const f of Object.values(this.forms)) {
        for (const key of ['issuer', 'tokenUrl', 'jwksUrl', 'authorizationUrl', 'callUrl', 'url'] as const) f[key] = follow(f[key]);
        if (f.clientId.startsWith(lab.registeredClientPrefix)) f.clientId = '';
        if (f.jwtIssuer.startsWith(lab.registeredClientPrefix)) f.jwtIssuer = '';
      }
    }
    void this.offerLabDefaults();
  }

  /** Every form points at the lab; the JWT flows get the lab client made for this browser's RS256 key. */
  async offerLabDefaults(): Promise<void> {
    const lab = this.lab;
    if (!lab?.targets.length) return;
    for (const f of Object.values(this.forms)) f.applyLabDefaults(lab);
    const exchange = this.forms['jwt-exchange'];
    const bearer = this.forms['jwt-bearer'];
    if (exchange.clientId && bearer.jwtIssuer) return;
    const reg = await this.browserClient(exchange.jwtAlg);
    if (!reg) return;
    if (!exchange.clientId) {
      exchange.clientId = reg.clientId;
      exchange.clientSecret = reg.clientSecret;
    }
    if (!bearer.jwtIssuer) bearer.jwtIssuer = reg.clientId;
  }

  /** The lab client for this browser's key of `alg`, registering it the first time. */
  async browserClient(alg: BrowserAlg) {
    const relay = this.#harness.relay;
    if (!relay.connected || !relay.info?.lab) return null;
    this.labBusy = 'Registering this browser’s public key with the lab…';
    this.labError = null;
    try {
      return await this.jwt.signer.registerWithLab(await this.jwt.signer.key(alg), relay);
    } catch (err) {
      this.labError = `The lab did not register the key: ${describeError(err)}`;
      return null;
    } finally {
      this.labBusy = null;
    }
  }

  /** Lab clients of key-ring keys, by credential id and algorithm (a restarted lab forgets them: `noteLab`). */
  #keyringClients = new Map<string, LabRegistered>();

  /** The lab client for a key-ring key signing `alg`, registering its public JWK the first time. */
  async keyringClient(credential: Credential, alg: BrowserAlg): Promise<LabRegistered | null> {
    const relay = this.#harness.relay;
    if (!relay.connected || !relay.info?.lab) return null;
    const known = this.#keyringClients.get(`${credential.id} ${alg}`);
    if (known) return known;
    this.labBusy = `Registering ${credential.label}'s public key with the lab…`;
    this.labError = null;
    try {
      const { publicJwk } = await keyringSigningKey(credential, alg);
      const reply = await relay.request({ type: 'lab.register', id: relay.nextId(), publicJwk });
      this.#keyringClients.set(`${credential.id} ${alg}`, reply);
      return reply;
    } catch (err) {
      this.labError = `The lab did not register ${credential.label}'s key: ${describeError(err)}`;
      return null;
    } finally {
      this.labBusy = null;
    }
  }

  /** The lab client of the key that signs this form's JWTs: a key-ring key, or this browser's. */
  async signingClient(f: FlowFields, alg: BrowserAlg): Promise<LabRegistered | null> {
    const credential = this.#harness.keyring.get(f.signingKeyId);
    return credential ? this.keyringClient(credential, alg) : this.browserClient(alg);
  }

  /** Another signing key: against the lab, the form follows that key's client. */
  async setSigningKey(f: FlowFields, id: string): Promise<void> {
    f.signingKeyId = id;
    if (!this.isLab(f.issuer || f.tokenUrl)) return;
    if (f.kind === 'jwt-exchange' || f.kind === 'jwt-bearer') {
      if (f.jwtSource === 'sign') await this.useBrowserClientForJwt(f);
    } else if (f.authMethod === 'private_key_jwt' && (!f.clientId || isLabClientId(this.lab, f.clientId))) {
      const alg = f.assertionAlg;
      const reg = await this.signingClient(f, alg);
      if (reg && this.#stillFor(f, 'private_key_jwt', alg, id)) f.clientId = reg.clientId;
    }
  }

  /**
   * Whether the form still asks for the client a registration was started for: a slower answer
   * (an RSA key is made first) must not overwrite the client of a later choice.
   */
  #stillFor(f: FlowFields, method: AuthChoice, alg: BrowserAlg, signingKeyId: string): boolean {
    return f.authMethod === method && f.assertionAlg === alg && f.signingKeyId === signingKeyId;
  }

  /** Uses the lab client of the signing key in a JWT form (client id, secret and iss). */
  async useBrowserClientForJwt(f: FlowFields): Promise<void> {
    const reg = await this.signingClient(f, f.jwtAlg);
    if (!reg) return;
    if (f.kind === 'jwt-exchange') {
      f.clientId = reg.clientId;
      f.clientSecret = reg.clientSecret;
    } else {
      f.jwtIssuer = reg.clientId;
    }
  }

  /**
   * A new client authentication method. Against the lab, the client id follows the method
   * (lab-basic, lab-post, the browser key's client, lab-mtls, the certificate's client, lab-public)
   * unless the user typed their own.
   */
  setAuthMethod(f: FlowFields, method: AuthChoice): Promise<void> {
    return this.#settling(this.#setAuthMethod(f, method));
  }

  async #setAuthMethod(f: FlowFields, method: AuthChoice): Promise<void> {
    f.authMethod = method;
    if (method === 'omit' || !this.isLab(f.issuer || f.tokenUrl) || (f.clientId && !isLabClientId(this.lab, f.clientId))) return;
    const lab = labClientFor(this.lab, method);
    if (lab) {
      f.clientId = lab.clientId;
      f.clientSecret = lab.secret ?? '';
    } else if (method === 'private_key_jwt') {
      f.clientSecret = '';
      const { assertionAlg, signingKeyId } = f;
      const reg = await this.signingClient(f, assertionAlg);
      if (reg && this.#stillFor(f, method, assertionAlg, signingKeyId)) f.clientId = reg.clientId;
    } else if (method === 'self_signed_tls_client_auth') {
      f.clientSecret = '';
      const credential = this.#harness.keyring.get(f.credentialId);
      if (credential) await this.registerCertificate(f, credential);
      else f.clientId = '';
    }
  }

  /** private_key_jwt against the lab with another algorithm: that key's client. */
  setAssertionAlg(f: FlowFields, alg: BrowserAlg): Promise<void> {
    return this.#settling(this.#setAssertionAlg(f, alg));
  }

  async #setAssertionAlg(f: FlowFields, alg: BrowserAlg): Promise<void> {
    f.assertionAlg = alg;
    if (f.authMethod === 'private_key_jwt' && this.isLab(f.issuer || f.tokenUrl) && (!f.clientId || isLabClientId(this.lab, f.clientId))) {
      const signingKeyId = f.signingKeyId;
      const reg = await this.signingClient(f, alg);
      if (reg && this.#stillFor(f, 'private_key_jwt', alg, signingKeyId)) f.clientId = reg.clientId;
    }
  }

  /** The client certificate changed: a self-signed method against the lab registers it. */
  setCredential(f: FlowFields, credentialId: string): Promise<void> {
    return this.#settling(this.#setCredential(f, credentialId));
  }

  async #setCredential(f: FlowFields, credentialId: string): Promise<void> {
    f.credentialId = credentialId;
    const credential = this.#harness.keyring.get(credentialId);
    if (f.authMethod === 'self_signed_tls_client_auth' && credential && this.isLab(f.issuer || f.tokenUrl) && (!f.clientId || isLabClientId(this.lab, f.clientId))) {
      await this.registerCertificate(f, credential);
    }
  }

  /** Registers a key-ring certificate with the lab for self_signed_tls_client_auth (its public key and x5c only). */
  async registerCertificate(f: FlowFields, credential: Credential): Promise<void> {
    const relay = this.#harness.relay;
    if (!credential.certificatePem || !relay.connected) return;
    this.labBusy = `Registering ${credential.label}'s certificate with the lab…`;
    this.labError = null;
    try {
      const alg = CERT_ALG[credential.keyAlgorithm] ?? 'RS256';
      const jwk = await exportJWK(await importX509(credential.certificatePem, alg, { extractable: true }));
      const x5c = [credential.certificatePem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '')];
      const reply = await relay.request({ type: 'lab.register', id: relay.nextId(), method: 'self_signed_tls_client_auth', publicJwk: { ...(jwk as { kty: string }), x5c } });
      f.clientId = reply.clientId;
    } catch (err) {
      this.labError = `The lab did not register the certificate: ${describeError(err)}`;
    } finally {
      this.labBusy = null;
    }
  }

  /**
   * A method, algorithm or certificate change that registers with the lab sets the client id
   * when the lab answers: a Run meanwhile would send the old client with the new key.
   */
  #pending = new Set<Promise<unknown>>();

  #settling<T>(p: Promise<T>): Promise<T> {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p)).catch(() => {});
    return p;
  }

  async run(): Promise<unknown> {
    // Only when something is pending: the authorization popup must open in the click itself.
    if (this.#pending.size) await Promise.allSettled([...this.#pending]);
    const before = this.session.refreshSources[0];
    const fields = this.fields;
    const timeline = await this.session.run(fields);
    const source = this.session.refreshSources[0];
    if (source && source !== before && fields.kind === 'authorization-code') this.offerRefreshSource(fields);
    return timeline;
  }

  /**
   * An Auth code run ended with a refresh token: the refresh-token form uses it unless the user
   * pasted one, with the same server and client (the token is bound to that client).
   */
  offerRefreshSource(from: FlowFields): void {
    const source = this.session.refreshSources[0];
    const r = this.forms['refresh-token'];
    if (!source || r.refreshToken.trim()) return;
    r.refreshTokenFrom = source.runId;
    r.issuer = from.issuer;
    r.tokenUrl = from.tokenUrl;
    r.authMethod = from.authMethod;
    r.clientId = from.clientId;
    r.clientSecret = from.clientSecret;
    r.credentialId = from.credentialId;
  }

  /** The current form as a request to save (JWTs signed now, so the file can describe them). */
  async buildForSave() {
    const built = await buildFlow(this.fields, { signer: this.jwt.signer, keyring: this.#harness.keyring });
    return built.ok ? ({ ok: true, request: { kind: 'flow', flow: built.flow } } as const) : built;
  }

  async open(scenario: Scenario): Promise<string[]> {
    const { request, notes } = resolveScenario(scenario, this.labTargets);
    const kind = flowKindOf(request);
    if (!kind) throw new Error(`flow.kind "${String(request.kind)}" is not a flow this screen runs`);
    this.kind = kind;
    const form = this.forms[kind];
    const all = await loadFlow(form, request, this.#harness.keyring, scenario, notes);
    this.opened = scenario;
    if (kind === 'refresh-token') {
      // A refresh token the file names but does not hold: the one the relay kept from this page's Auth code run.
      form.refreshTokenFrom = form.refreshToken ? '' : (this.session.refreshSources[0]?.runId ?? '');
      if (!form.refreshToken) {
        const i = all.findIndex((n) => n.startsWith('"refresh_token"'));
        const note = form.refreshTokenFrom
          ? 'The refresh token is the one the relay kept from this page\'s last Auth code run (it never reaches this page).'
          : 'The refresh token is not in the file: run Auth code + PKCE first (its refresh token is then offered here), or paste one.';
        if (i >= 0) all.splice(i, 1, note);
        else all.push(note);
      }
    }
    // A client the lab registers for the scenario's key: here, the one registered for this browser's key.
    if (Object.values(scenario.secrets).some((src) => 'lab' in src && src.lab.startsWith('registered-client:'))) {
      if (kind === 'jwt-exchange' || kind === 'jwt-bearer') await this.useBrowserClientForJwt(form);
      else if (form.authMethod === 'private_key_jwt') form.clientId = (await this.browserClient(form.assertionAlg))?.clientId ?? '';
    }
    return all;
  }
}
