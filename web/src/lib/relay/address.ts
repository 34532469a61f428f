import { WS_PATH } from '../../../../shared/protocol/index.ts';

/** Where the relay is and the access token it printed. */
export interface RelayAddress {
  /** WebSocket URL including the token, e.g. ws://127.0.0.1:8080/ws?token=… */
  wsUrl: string;
  /** Same URL over HTTP, used to ask the relay why an upgrade failed. */
  httpUrl: string;
  /** Empty when the page was opened without one. */
  token: string;
}

const TOKEN_KEY = 'harness.relayToken';

/**
 * Reads the relay address from the page URL. The relay serves the app itself, so by default
 * the WebSocket is on the same origin; `?relay=ws://host:port` points a dev server elsewhere.
 *
 * The token is moved out of the address bar into this tab's sessionStorage so that it does not
 * sit on screen (projectors, screenshots) yet a reload of the same tab still connects.
 */
export function readRelayAddress(location: Location, history: History, storage: Storage | null): RelayAddress {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  let token = fromUrl ?? storage?.getItem(TOKEN_KEY) ?? '';
  if (fromUrl !== null) {
    token = fromUrl;
    storage?.setItem(TOKEN_KEY, fromUrl);
    params.delete('token');
    const rest = params.toString();
    history.replaceState(history.state, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
  }

  const override = params.get('relay');
  const wsBase = override
    ? override.replace(/\/+$/, '')
    : `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}`;
  const httpBase = wsBase.replace(/^ws(s?):/, 'http$1:');
  const query = token ? `?token=${encodeURIComponent(token)}` : '';
  return { wsUrl: `${wsBase}${WS_PATH}${query}`, httpUrl: `${httpBase}${WS_PATH}${query}`, token };
}
