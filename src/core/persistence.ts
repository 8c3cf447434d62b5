import { parseSaveRules } from './save-rules';

/**
 * How data nodes persist their dataset to disk.
 */
export enum PersistenceMode {
  /** Nothing is written to disk: a restarted node starts empty and resynchronizes. */
  NONE = 'none',
  /** Point-in-time RDB snapshots by `save` rules. */
  RDB = 'rdb',
  /** An append-only file, fsynced as `appendfsync` says. */
  AOF = 'aof',
}

/**
 * Options for RDB snapshots.
 */
export interface RdbPersistenceOptions {
  /**
   * The `save` rules: each `seconds changes` pair triggers a snapshot.
   *
   * @default '3600 1 300 100 60 10000' (Redis's own default rules)
   */
  readonly saveRules?: string;
}

/**
 * The persistence of a Redis or Valkey fleet.
 */
export class Persistence {
  /** No persistence: a node that restarts comes back empty and resynchronizes from its primary. */
  public static none(): Persistence {
    return new Persistence(PersistenceMode.NONE, '""', undefined);
  }

  /** RDB snapshots. */
  public static rdb(options: RdbPersistenceOptions = {}): Persistence {
    const saveRules = options.saveRules ?? '3600 1 300 100 60 10000';
    parseSaveRules('saveRules', saveRules);
    return new Persistence(PersistenceMode.RDB, saveRules, undefined);
  }

  /**
   * An append-only file fsynced every second: at most about one second of writes is lost when a
   * machine loses power; none when only the process dies.
   */
  public static aofEverySecond(): Persistence {
    return new Persistence(PersistenceMode.AOF, '""', 'everysec');
  }

  /** An append-only file fsynced on every write: no acknowledged write is lost, at a throughput cost. */
  public static aofAlways(): Persistence {
    return new Persistence(PersistenceMode.AOF, '""', 'always');
  }

  private constructor(
    /** The persistence mode. */
    public readonly mode: PersistenceMode,
    /** The `save` rules (`""` for none). */
    public readonly saveRules: string,
    /** The `appendfsync` policy when the mode is AOF. */
    public readonly appendFsync: string | undefined,
  ) {}
}
