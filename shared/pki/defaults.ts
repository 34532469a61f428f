// Thresholds of the certificate workshop, in one place.
export const PKI_DEFAULTS = {
  /** A certificate with fewer days left than this gets `expires_soon`. */
  expiryWarningDays: 90, // days
  /** Longest chain followed when building one (guards against loops in crafted sets). */
  maxChainLength: 10, // certificates
} as const;
