import { ValidationError } from './errors';

/**
 * RDB `save` rules as `[seconds, changes]` pairs; none for `""` or an empty string. Each rule is a
 * pair of whole numbers, seconds at least 1.
 *
 * @throws ValidationError naming `propPath` when the rules are malformed
 */
export function parseSaveRules(propPath: string, rules: string): Array<[number, number]> {
  const trimmed = rules.trim();
  if (trimmed === '' || trimmed === '""') return [];
  const numbers = trimmed.split(/\s+/);
  const valid = numbers.length % 2 === 0 && numbers.every((n, i) => /^\d+$/.test(n) && (i % 2 === 1 || Number(n) > 0));
  if (!valid) {
    throw new ValidationError(propPath, rules, 'must be pairs of whole numbers "seconds changes" (seconds at least 1), such as "3600 1 300 100"');
  }
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < numbers.length; i += 2) pairs.push([Number(numbers[i]), Number(numbers[i + 1])]);
  return pairs;
}
