import { Target } from './results';

/** The median (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function maximum(values: readonly number[]): number {
  return values.length === 0 ? NaN : Math.max(...values);
}

/** A target met when `value <= limit`. */
export function target(description: string, limit: number, value: number | undefined): Target {
  return { description, limit, pass: value !== undefined && !Number.isNaN(value) && value <= limit };
}

/** Seconds with two decimals, for tables and JSON. */
export function seconds(ms: number): number {
  return Math.round(ms / 10) / 100;
}
