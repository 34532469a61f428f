// The certificate engine the workshop drives: shared/pki's inspector, rotation check, PKCS#12
// writer and JWK export. Like the key ring's PKI (keys/pki.ts) it is loaded on first use, so
// neither the first page load nor the workshop's first paint waits for it.
import { loadPki } from '../keys/pki.ts';

type Modules = typeof import('./engine-modules.ts');
type Engine = Modules & { pki: Awaited<ReturnType<typeof loadPki>> };

let loading: Promise<Engine> | undefined;

export function loadEngine(): Promise<Engine> {
  loading ??= Promise.all([loadPki(), import('./engine-modules.ts')]).then(([pki, modules]) => ({ ...modules, pki }));
  return loading;
}
