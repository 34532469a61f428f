// For tests: is a function's time linear in its input? Two shared cores under other load make
// an absolute budget alone flaky, so a run passes within the budget, or when an 8× larger input
// costs less than 24× (linear grows 8×, with garbage-collection steps on top; the quadratic
// backtracking this guards against, 64×).

function bestOf5(fn: () => unknown): number {
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** Undefined when `fn` on `make(size)` is linear by the rule above, else why not. */
export function notLinear(fn: (input: string) => unknown, make: (size: number) => string, size: number, budgetMs: number): string | undefined {
  const full = make(size);
  const large = bestOf5(() => fn(full));
  if (large < budgetMs) return undefined;
  const eighth = make(size / 8);
  const small = bestOf5(() => fn(eighth));
  // Tiny times are noise: a floor of 1 ms for the eighth.
  const ratio = large / Math.max(small, 1);
  return ratio < 24 ? undefined : `${large.toFixed(0)} ms for ${size} characters, ${small.toFixed(0)} ms for an eighth (×${ratio.toFixed(1)})`;
}
