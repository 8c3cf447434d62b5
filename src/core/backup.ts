import { ValidationError } from './errors';

/**
 * Backups of a Redis or Valkey fleet, as core plans them: one RDB per shard and a manifest, taken
 * once a day in a window, kept a number of days. Where they go (an S3 prefix, a host folder) and
 * where a restore reads from are the flavors' to say; the node agent takes and restores them
 * (`cachefleet-node backup`, `restore`).
 */
export interface BackupPlan {
  /** Days a scheduled backup is kept; 0 takes no scheduled backup. */
  readonly retentionDays: number;
  /** The daily window's first minute after 00:00 UTC. */
  readonly windowStartMinute: number;
  /** The window's length in minutes (60 or more; it may run past midnight). */
  readonly windowMinutes: number;
  /** The window as the prop gave it, `hh:mm-hh:mm`. */
  readonly window: string;
}

/** ElastiCache's backup props' limits, where they make sense for a self-managed fleet. */
export const BACKUP_LIMITS = {
  /** ElastiCache keeps backups at most 35 days; a fleet's own storage has no such cap. */
  maxRetentionDays: 36_500,
  /** ElastiCache refuses a window shorter than an hour; a backup of a large dataset needs it. */
  minWindowMinutes: 60,
  defaultWindow: '03:00-04:00',
} as const;

const WINDOW = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/;
const WINDOW_ALLOWED = `must be a daily UTC window \`hh:mm-hh:mm\` of at least ${BACKUP_LIMITS.minWindowMinutes} minutes (such as '${BACKUP_LIMITS.defaultWindow}')`;

/** Parses `snapshotWindow`: its start in minutes after midnight UTC and its length. */
export function parseSnapshotWindow(prop: string, window: string): { startMinute: number; minutes: number } {
  const match = WINDOW.exec(window);
  if (!match) throw new ValidationError(prop, window, WINDOW_ALLOWED);
  const [start, end] = [Number(match[1]) * 60 + Number(match[2]), Number(match[3]) * 60 + Number(match[4])];
  const minutes = (end - start + 24 * 60) % (24 * 60);
  if (minutes < BACKUP_LIMITS.minWindowMinutes) throw new ValidationError(prop, window, WINDOW_ALLOWED);
  return { startMinute: start, minutes };
}

/**
 * The backup plan of validated props; undefined when no backup is scheduled and no window given.
 */
export function planBackup(retentionDays: number | undefined, window: string | undefined): BackupPlan | undefined {
  if ((retentionDays ?? 0) === 0 && window === undefined) return undefined;
  const chosen = window ?? BACKUP_LIMITS.defaultWindow;
  const { startMinute, minutes } = parseSnapshotWindow('snapshotWindow', chosen);
  return { retentionDays: retentionDays ?? 0, windowStartMinute: startMinute, windowMinutes: minutes, window: chosen };
}
