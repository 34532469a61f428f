// Thresholds of the certificate workshop, in one place.
export const PKI_DEFAULTS = {
  /** A certificate with fewer days left than this gets `expires_soon`. */
  expiryWarningDays: 90, // days
  /** Longest chain followed when building one (guards against loops in crafted sets). */
  maxChainLength: 10, // certificates
  /** Password-based decryption limits: a crafted file must not make the inspector spin. */
  maxPbkdf2Iterations: 10_000_000, // PBKDF2 rounds, native in WebCrypto
  maxPkcs12KdfIterations: 200_000, // PKCS#12 KDF rounds, run in JavaScript (legacy PBE and the MAC)
} as const;
