import { createContext } from 'svelte';
import { KeyRing } from '../keys/keyring.svelte.ts';
import type { RelayAddress } from '../relay/address.ts';
import { RelayConnection } from '../relay/connection.svelte.ts';
import { RunHistory } from '../runs/history.svelte.ts';
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

/**
 * A screen's state: a class whose constructor takes the Harness. Its module belongs to the
 * screen, so a screen loaded on first use (App.svelte's PAGES) brings its state class along.
 */
export type ScreenState<T> = new (harness: Harness) => T;

/**
 * Everything the screens share: the relay, the key ring, the run history and which view is
 * open; and each screen's state, made on first use by `screen()` and kept for the page's life,
 * so leaving a screen and coming back loses nothing.
 */
export class Harness {
  readonly relay: RelayConnection;
  readonly keyring = new KeyRing();
  /** The last runs of this browser and opened transcripts; every run is recorded here. */
  readonly history: RunHistory;
  view = $state<ViewId>('probe');
  readonly #screens = new Map<ScreenState<unknown>, unknown>();

  constructor(address: RelayAddress, storage: Storage | null = null) {
    this.relay = new RelayConnection(address);
    this.history = new RunHistory(storage);
    this.history.record(this.relay);
  }

  /** The one `State` of this page (a screen's, or one screens share such as JwtTools), made on first use. */
  screen<T>(State: ScreenState<T>): T {
    if (!this.#screens.has(State)) this.#screens.set(State, new State(this));
    return this.#screens.get(State) as T;
  }

  /** Follows the URL hash so Back and bookmarks work; call once from the root component. */
  followHash(location: Location): () => void {
    const sync = () => {
      // A share link carries a transcript after `#`: open it on the Runs screen.
      if (location.hash.startsWith(`#${SHARE_PREFIX}`)) {
        const link = location.hash;
        this.view = 'runs';
        void import('../runs/runs.svelte.ts').then(({ RunsView }) => this.screen(RunsView).openLink(link));
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
