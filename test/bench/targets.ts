import { TargetResult } from './results';
import { meetsTarget, round } from '../shared/run-stats';

/** A target met when `value comparison limit` (the value rounded as the JSON shows it). */
export function target(id: string, description: string, value: number, comparison: TargetResult['comparison'], limit: number): TargetResult {
  const rounded = round(value);
  return { id, description, value: rounded, comparison, limit, pass: meetsTarget(rounded, comparison, limit) };
}
