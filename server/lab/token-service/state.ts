// Everything the lab authorization server remembers, in one object the endpoints share: the
// clients it knows, the codes and refresh tokens it issued, the jtis it saw or revoked, who
// registered which client, and where it listens.
import type { Jwks } from '../../../shared/jwt/keys.ts';
import { LAB_TOKEN_DEFAULTS } from './constants.ts';
import type { LabKeys } from './keys.ts';
import type { Tenant } from './tenants.ts';

export type LabAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt' | 'private_key_jwt' | 'tls_client_auth' | 'self_signed_tls_client_auth' | 'none';

export interface LabClient {
  clientId: string;
  method: LabAuthMethod;
  secret?: string;
  jwks?: Jwks;
  grants: Set<string>;
  /** Access tokens carry cnf x5t#S256 of the certificate used at the token endpoint. */
  boundTokens?: boolean;
}

export interface CodeEntry {
  clientId: string;
  tenant: Tenant;
  redirectUri: string;
  challenge?: string;
  scope: string;
  nonce?: string;
  expiresAt: number;
  used: boolean;
}

export interface RefreshEntry {
  clientId: string;
  tenant: Tenant;
  scope: string;
  family: string;
  cnf?: string;
  active: boolean;
}

/** A bounded map that forgets its oldest entries. */
export class Store<V> extends Map<string, V> {
  override set(key: string, value: V): this {
    if (this.size >= LAB_TOKEN_DEFAULTS.maxEntries) this.delete(this.keys().next().value as string);
    return super.set(key, value);
  }
}

export class LabState {
  readonly clients = new Map<string, LabClient>();
  readonly codes = new Store<CodeEntry>();
  readonly refreshTokens = new Store<RefreshEntry>();
  readonly seenJti = new Store<number>();
  readonly revokedJti = new Store<number>();
  /** Clients made by register(): who registered each, and the timer that forgets it. */
  readonly registrations = new Map<string, { owner: string; timer: NodeJS.Timeout | undefined }>();
  /** The clients each registrant made. */
  readonly owned = new Map<string, Set<string>>();

  constructor(
    readonly keys: LabKeys,
    /** https://host:port of the token endpoint, the default tenant's issuer. */
    readonly origin: string,
    /** http://host:port of the authorization endpoint. */
    readonly authorizeOrigin: string,
  ) {}

  issuerOf(t: Tenant): string {
    return `${this.origin}${t.prefix}`;
  }

  addClient(c: LabClient): void {
    this.clients.set(c.clientId, c);
  }

  /** Marks every refresh token of a grant used: a replayed code or token, or a revocation, takes the whole grant. */
  revokeFamily(family: string): void {
    for (const [k, v] of this.refreshTokens) if (v.family === family) this.refreshTokens.set(k, { ...v, active: false });
  }
}
