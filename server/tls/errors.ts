// Errors raised while reading TLS bytes. They never leave the tap: the observer catches them and
// records them as a parse problem, so a peer that speaks something other than TLS (or a bug
// here) cannot break the connection being observed.
import { HarnessError } from '../../shared/errors.ts';

export type TlsTapErrorCode =
  /** The bytes are not TLS records at all (e.g. the peer answered in plain HTTP). */
  | 'not_tls'
  /** A length field points past the end of its container. */
  | 'truncated'
  /** A field holds a value TLS does not allow there. */
  | 'malformed'
  /** A message is larger than any real handshake needs; refused to bound memory. */
  | 'too_large'
  /** A protected record failed to decrypt with the secret from the keylog. */
  | 'decrypt_failed';

export class TlsTapError extends HarnessError<TlsTapErrorCode> {}
