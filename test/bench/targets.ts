import { TargetResult } from './results';
import { round } from './stats';

/** A target met when `value comparison limit`. */
export function target(id: string, description: string, value: number, comparison: TargetResult['comparison'], limit: number): TargetResult {
  const rounded = round(value);
  return { id, description, value: rounded, comparison, limit, pass: comparison === '>=' ? rounded >= limit : rounded <= limit };
}
