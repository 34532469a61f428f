// The PKI code (@peculiar/x509 and its ASN.1 stack) is most of the app's weight and is not
// needed to show the page, so it is loaded the first time a key, CSR or certificate is handled.

type Pki = typeof import('../../../../shared/pki/issue.ts');

let loading: Promise<Pki> | undefined;

export function loadPki(): Promise<Pki> {
  loading ??= import('../../../../shared/pki/issue.ts');
  return loading;
}
