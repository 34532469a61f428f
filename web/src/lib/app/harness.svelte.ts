import { createContext } from 'svelte';
import { KeyRing } from '../keys/keyring.svelte.ts';
import { LabDemo } from '../lab/demo.svelte.ts';
import { ProbeSession } from '../probe/probe.svelte.ts';
import type { RelayAddress } from '../relay/address.ts';
import { RelayConnection } from '../relay/connection.svelte.ts';
import { RunHistory } from '../runs/history.svelte.ts';
import { RunsView } from '../runs/runs.svelte.ts';
import { CheckSession } from '../check/check.svelte.ts';
import { jwtTools } from '../jwt/tools.ts';
import { SHARE_PREFIX } from '../../../../shared/transcript/share-link.ts';

/** The screens in the left navigation. New tools (JWT builder, token flows…) add theirs here. */
export const VIEWS = [
  { id: 'keys', title: 'Keys & certs' },
  { id: 'workshop', title: 'Certificate workshop' },
  { id: 'probe', title: 'Probe' },
  { id: 'jwt', title: 'JWT builder' },
  { id: 'flows', title: 'Token flows' },
  { id: 'inbound', title: 'Inbound check' },
  { id: 'server-config', title: 'Server config' },
  { id: 'check', title: 'Server check' },
  { id: 'runs', title: 'Runs' },
  { id: 'lessons', title: 'Lessons' },
] as const;

export type ViewId = (typeof VIEWS)[number]['id'];

function viewFromHash(hash: string): ViewId | null {
  const id = hash.replace(/^#\/?/, '');
  return VIEWS.find((v) => v.id === id)?.id ?? null;
}

/** Everything the screens share: the relay, the key ring, the probe and which view is open. */
export class Harness {
  readonly relay: RelayConnection;
  readonly keyring = new KeyRing();
  readonly probe: ProbeSession;
  readonly demo: LabDemo;
  /** The last runs of this browser and opened transcripts; every run is recorded here. */
  readonly history: RunHistory;
  readonly runs: RunsView;
  view = $state<ViewId>('probe');
  #check: CheckSession | null = null;

  constructor(address: RelayAddress, storage: Storage | null = null) {
    this.relay = new RelayConnection(address);
    this.probe = new ProbeSession(this.relay, this.keyring);
    this.demo = new LabDemo(this.relay, this.keyring, this.probe);
    this.history = new RunHistory(storage);
    this.history.record(this.relay);
    this.runs = new RunsView(this.history);
  }

  /** The Server check screen's state, made when the screen first opens. */
  get check(): CheckSession {
    this.#check ??= new CheckSession(this.relay, this.keyring, jwtTools(this).signer);
    return this.#check;
  }

  /** Follows the URL hash so Back and bookmarks work; call once from the root component. */
  followHash(location: Location): () => void {
    const sync = () => {
      // A share link carries a transcript after `#`: open it on the Runs screen.
      if (location.hash.startsWith(`#${SHARE_PREFIX}`)) {
        this.view = 'runs';
        void this.runs.openLink(location.hash);
        history.replaceState(history.state, '', '#/runs');
        return;
      }
      const view = viewFromHash(location.hash);
      if (view) this.view = view;
    };
    sync();
    window.addEventListener('hashchange', sync);
    return () => window.removeEventListener('hashchange', sync);
  }

  show(view: ViewId): void {
    this.view = view;
    if (viewFromHash(window.location.hash) !== view) history.pushState(history.state, '', `#/${view}`);
  }
}

export const [getHarness, setHarness] = createContext<Harness>();
