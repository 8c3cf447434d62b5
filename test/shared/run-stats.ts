/**
 * Figures and targets shared by the fault suite (test/faults) and the benchmarks (test/bench). Each
 * keeps the JSON shape of its own results file; only the arithmetic lives here.
 */

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('the median of no samples');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Rounds to `digits` decimals, so that the JSON and the tables show the same figure. */
export function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** How a figure is compared with its limit. */
export type Comparison = '>=' | '<=';

/** Whether `value comparison limit` holds; a missing figure (undefined, NaN) never meets a target. */
export function meetsTarget(value: number | undefined, comparison: Comparison, limit: number): boolean {
  if (value === undefined || Number.isNaN(value)) return false;
  return comparison === '>=' ? value >= limit : value <= limit;
}
