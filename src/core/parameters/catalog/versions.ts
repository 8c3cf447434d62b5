/** Engine versions as major.minor, compared numerically (`7.10` is after `7.2`). */

/** The major.minor part of a version: `7.0.15` → `7.0`. */
export function majorMinor(version: string): string {
  const [major, minor] = version.split('.');
  return `${Number(major)}.${Number(minor ?? 0)}`;
}

/** Negative when `a` is older than `b`, 0 when they are the same major.minor, positive when newer. */
export function compareVersions(a: string, b: string): number {
  const [aMajor, aMinor] = majorMinor(a).split('.').map(Number);
  const [bMajor, bMinor] = majorMinor(b).split('.').map(Number);
  return aMajor !== bMajor ? aMajor - bMajor : aMinor - bMinor;
}
