/** The q-th percentile (0..100) of `sorted` (ascending), nearest-rank; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((q / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? Number.NaN;
}

/** The q-th percentile of unsorted `values` (copied, then sorted). */
export const percentileOf = (values: readonly number[], q: number): number =>
  percentile(
    [...values].sort((a, b) => a - b),
    q,
  );
