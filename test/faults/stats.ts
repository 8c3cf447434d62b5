import { Target } from './results';
import { meetsTarget } from '../shared/run-stats';

export function maximum(values: readonly number[]): number {
  return values.length === 0 ? NaN : Math.max(...values);
}

/** A target met when `value <= limit` (undefined or NaN: not met). */
export function target(description: string, limit: number, value: number | undefined): Target {
  return { description, limit, pass: meetsTarget(value, '<=', limit) };
}

/** Seconds with two decimals, for tables and JSON. */
export function seconds(ms: number): number {
  return Math.round(ms / 10) / 100;
}
