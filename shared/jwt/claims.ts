// Claim templates for the three JWTs partners build, with the times taken from an explicit
// clock so the browser, the CLI and the tests make the same token from the same inputs.
import type { JwtClaims } from './decode.ts';

export const JWT_TEMPLATES = ['seed', 'jwt-bearer', 'client-assertion'] as const;
export type JwtTemplate = (typeof JWT_TEMPLATES)[number];

/** Lifetimes the templates use unless told otherwise, in seconds. All stay under the lint's 5-minute limit. */
export const TEMPLATE_LIFETIME_SEC: Record<JwtTemplate, number> = {
  seed: 60,
  'jwt-bearer': 120,
  'client-assertion': 60,
};

export interface TemplateInput {
  /** Epoch milliseconds of the signer's clock. */
  now: number;
  /** The client id (seed: iss; client assertion: iss and sub). */
  clientId?: string;
  /** The user or subject the token speaks for (seed and jwt-bearer: sub). */
  subject?: string;
  /** jwt-bearer: iss, when it is not the client id. */
  issuer?: string;
  /** The token endpoint (aud for jwt-bearer and client assertions). */
  audience?: string;
  lifetimeSec?: number;
  /** A fresh unique id; required by jwt-bearer and client-assertion. */
  jti?: string;
  /** Extra or overriding claims, applied last. */
  claims?: JwtClaims;
}

export class TemplateError extends TypeError {
  constructor(template: JwtTemplate, field: string) {
    super(`the ${template} template needs ${field}`);
    this.name = 'TemplateError';
  }
}

function need<T>(template: JwtTemplate, field: string, value: T | undefined): T {
  if (value === undefined || value === '') throw new TemplateError(template, field);
  return value;
}

/**
 * seed: the token a customer signs and exchanges at a token endpoint with `jwt_token`
 *   (iss = client id, sub = user id, iat, short exp).
 * jwt-bearer: an RFC 7523 §2.1 authorization grant (iss, sub, aud = token endpoint, exp, iat, jti).
 * client-assertion: private_key_jwt client authentication, RFC 7523 §2.2 (iss = sub = client id,
 *   aud = token endpoint, exp, iat, jti).
 */
export function templateClaims(template: JwtTemplate, input: TemplateInput): JwtClaims {
  const iat = Math.floor(input.now / 1000);
  const exp = iat + (input.lifetimeSec ?? TEMPLATE_LIFETIME_SEC[template]);
  let claims: JwtClaims;
  switch (template) {
    case 'seed':
      claims = { iss: need(template, 'clientId', input.clientId), sub: need(template, 'subject', input.subject), iat, exp };
      break;
    case 'jwt-bearer':
      claims = {
        iss: need(template, 'issuer or clientId', input.issuer ?? input.clientId),
        sub: need(template, 'subject', input.subject),
        aud: need(template, 'audience (the token endpoint)', input.audience),
        iat,
        exp,
        jti: need(template, 'jti', input.jti),
      };
      break;
    case 'client-assertion': {
      const clientId = need(template, 'clientId', input.clientId);
      claims = { iss: clientId, sub: clientId, aud: need(template, 'audience (the token endpoint)', input.audience), iat, exp, jti: need(template, 'jti', input.jti) };
      break;
    }
  }
  return { ...claims, ...input.claims };
}

/** A random JWT id (122 bits). */
export function newJti(): string {
  return crypto.randomUUID();
}
