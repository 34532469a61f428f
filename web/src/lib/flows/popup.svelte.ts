// The authorization popup of an authorization code flow. The window is opened while the click
// (or Ctrl+Enter) that starts the run is still being handled — a popup opened later, when the
// relay's `authorize` step arrives, would be blocked — and pointed at the authorization URL
// when the relay sends it. The provider redirects the popup to the relay, whose page closes it.

const POPUP = {
  name: 'harness-authorization',
  features: 'popup,width=600,height=720',
} as const;

/**
 * The relay's "redirect ignored" page posts its path on this channel (server/response-headers.ts):
 * the app cannot read the popup itself once it has been to the provider (its opener policy
 * severs the handle).
 */
export const CALLBACK_CHANNEL = 'harness-callback';

type PopupStatus = 'waiting' | 'open' | 'blocked' | 'closed';

export class AuthorizationPopup {
  url = $state<string | null>(null);
  status = $state<PopupStatus>('waiting');
  #win: Window | null;

  /** Call synchronously from the user's action. */
  constructor() {
    this.#win = window.open('', POPUP.name, POPUP.features);
    if (!this.#win) {
      this.status = 'blocked';
      return;
    }
    try {
      // The provider's pages get no handle on this app.
      this.#win.opener = null;
      const doc = this.#win.document;
      doc.title = 'Harness: authorization';
      doc.body.style.cssText = 'font:16px system-ui,sans-serif;margin:3rem;color:#333';
      doc.body.textContent = 'Waiting for the relay to build the authorization request…';
    } catch {
      // A window of that name already shows another origin: it is navigated all the same.
    }
  }

  /** The relay's authorize step arrived: show the provider's sign-in page. */
  navigate(url: string): void {
    this.url = url;
    if (this.#win && !this.#win.closed) {
      this.#win.location.href = url;
      this.status = 'open';
    } else {
      this.status = 'blocked';
    }
  }

  /** Opens the URL again from a click (after a blocked popup or a closed window). */
  reopen(): void {
    if (!this.url) return;
    this.#win = window.open(this.url, POPUP.name, POPUP.features);
    this.status = this.#win ? 'open' : 'blocked';
  }

  /** The run ended: a window still waiting or still on the sign-in page has nothing left to do. */
  finish(): void {
    if (this.#win && !this.#win.closed) this.#win.close();
    this.#win = null;
    this.status = 'closed';
  }
}
