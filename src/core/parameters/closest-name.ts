/**
 * The known name closest to a misspelt one, for "did you mean …?". Case, `_` and `-` are ignored
 * (`maxmemory_policy` finds `maxmemory-policy`, `max-item-size` finds `max_item_size`); beyond
 * that a name is close when at most a quarter of its characters differ (at least one may).
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const wanted = comparable(name);
  const limit = Math.max(1, Math.floor(wanted.length / 4));
  let best: { name: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, comparable(candidate));
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

function comparable(name: string): string {
  return name.toLowerCase().replace(/_/g, '-');
}

/** Levenshtein distance: the fewest insertions, deletions and substitutions from `a` to `b`. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
}
