// Does a client chain reach one of the CA names a server said it accepts (its
// CertificateRequest)? The probe's pre-flight and a flow's HTTP call both ask.
import type { X509Certificate } from 'node:crypto';
import { oneLineDn } from './dial.ts';

/** Attribute set of a DN, order- and case-insensitive: "CN=A, O=B" and "O=B\nCN=A" compare equal. */
function dnKey(dn: string): string {
  return dn.split(/\n|,\s*(?=[A-Za-z][\w.]*\s*=)/).map((part) => {
    const i = part.indexOf('=');
    return `${part.slice(0, i).trim().toLowerCase()}=${part.slice(i + 1).trim().toLowerCase()}`;
  }).sort().join('|');
}

/** Does the client chain reach one of the CA names the server said it accepts? */
export function describeAcceptance(chain: X509Certificate[], acceptableCAs: string[]): { reaches: boolean; chainNames: string[] } {
  const acceptable = new Set(acceptableCAs.map(dnKey));
  const names = chain.flatMap((c) => [c.subject, c.issuer]);
  return { reaches: names.some((n) => acceptable.has(dnKey(n))), chainNames: [...new Set(names.map(oneLineDn))] };
}
