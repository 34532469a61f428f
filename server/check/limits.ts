// Limits of the server check, in the style of server/defaults.ts: a name, a unit, validated.

export const CHECK_LIMITS = {
  /** Cases of one check probing the server at the same time. */
  checkConcurrency: 4, // probes
  /** Cases a user may add to one check. */
  maxCustomCases: 8, // cases
  /** Validity of the CRLs in the install kit; the server refuses every client once it passes. */
  checkCrlDays: 30, // days
  /**
   * How long a check's minted case certificates are reused for the same CA, rule and depth: a
   * partner re-runs the check after each change, and the same certificates (valid two days)
   * cost nothing to send again. The probe's own input check then hits its cache too.
   */
  casePlanTtlMs: 600_000, // ms
} as const;

export type CheckLimits = { -readonly [K in keyof typeof CHECK_LIMITS]: number };

export function validateCheckLimits(overrides: Partial<CheckLimits> = {}): CheckLimits {
  const limits: CheckLimits = { ...CHECK_LIMITS };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!Object.hasOwn(CHECK_LIMITS, key)) throw new TypeError(`check limits: ${key} is not a known limit`);
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new TypeError(`check limits: ${key} must be a positive integer, got ${String(value)}`);
    limits[key as keyof CheckLimits] = value;
  }
  return limits;
}
