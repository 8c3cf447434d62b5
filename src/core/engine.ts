import { ValidationError } from './errors';

/**
 * The engine kinds a fleet can run.
 */
export enum EngineType {
  /** Redis OSS. */
  REDIS = 'redis',
  /** Valkey, the Linux Foundation fork of Redis. */
  VALKEY = 'valkey',
  /** Memcached. */
  MEMCACHED = 'memcached',
}

/**
 * How a node gets one engine version.
 */
export interface EngineInstallation {
  /**
   * The Amazon Linux 2023 package that provides this version, installed with `dnf`.
   *
   * @default - no Amazon Linux 2023 package provides this version: the node runs `containerImage`
   */
  readonly amazonLinuxPackage?: string;

  /**
   * The prefix of the server and client binaries the Amazon Linux 2023 package installs
   * (`redis6` installs `redis6-server`, `redis6-cli`).
   *
   * @default - the engine's own names (`redis`, `valkey`, `memcached`)
   */
  readonly amazonLinuxBinaryPrefix?: string;

  /**
   * The official container image, pinned to a tag; containers always run it, and EC2 nodes run it
   * (with podman) when no Amazon Linux 2023 package exists.
   */
  readonly containerImage: string;
}

/**
 * What every engine version knows: its full version, its major line and how a node gets it.
 */
export abstract class EngineVersion {
  /**
   * @param fullVersion the full version, such as `7.2.7`
   * @param majorVersion the major.minor line, such as `7.2`
   */
  protected constructor(
    /** The full version, such as `7.2.7`. */
    public readonly fullVersion: string,
    /** The major.minor line, such as `7.2`. */
    public readonly majorVersion: string,
    /** How a node gets this version. */
    public readonly installation: EngineInstallation,
  ) {
    // The family (redis7, valkey8…) follows the major line: it must be the full version's own.
    if (typeof fullVersion !== 'string' || !/^\d+\.\d+\.\d+$/.test(fullVersion)) {
      throw new ValidationError('fullVersion', fullVersion, 'must be a full version such as "7.2.8" (major.minor.patch)');
    }
    if (majorVersion !== fullVersion.split('.').slice(0, 2).join('.')) {
      throw new ValidationError('majorVersion', majorVersion, `must be the major.minor line of ${fullVersion} (${fullVersion.split('.').slice(0, 2).join('.')})`);
    }
  }
}

/** Refuses a version of another engine (the version classes look alike to TypeScript). */
function requireVersion(version: unknown, isOfEngine: boolean, className: string, example: string): void {
  if (!isOfEngine) {
    throw new ValidationError('version', version, `must be a ${className} (${className}.${example} or ${className}.of(...))`);
  }
}

/**
 * A Redis OSS version.
 */
export class RedisEngineVersion extends EngineVersion {
  /** Redis 6.2 (Amazon Linux 2023 package `redis6`). */
  public static readonly VER_6_2 = new RedisEngineVersion('6.2.17', '6.2', {
    amazonLinuxPackage: 'redis6',
    amazonLinuxBinaryPrefix: 'redis6',
    containerImage: 'redis:6.2.17',
  });

  /** Redis 7.0. */
  public static readonly VER_7_0 = new RedisEngineVersion('7.0.15', '7.0', { containerImage: 'redis:7.0.15' });

  /** Redis 7.2. */
  public static readonly VER_7_2 = new RedisEngineVersion('7.2.7', '7.2', { containerImage: 'redis:7.2.7' });

  /**
   * A Redis version not listed here yet.
   *
   * @param fullVersion the full version, such as `7.2.8`
   * @param majorVersion the major.minor line, such as `7.2`
   * @param containerImage the pinned image that provides it
   * @default containerImage `redis:<fullVersion>`
   */
  public static of(fullVersion: string, majorVersion: string, containerImage?: string): RedisEngineVersion {
    return new RedisEngineVersion(fullVersion, majorVersion, { containerImage: containerImage ?? `redis:${fullVersion}` });
  }

  private constructor(fullVersion: string, majorVersion: string, installation: EngineInstallation) {
    super(fullVersion, majorVersion, installation);
  }
}

/**
 * A Valkey version.
 */
export class ValkeyEngineVersion extends EngineVersion {
  /** Valkey 7.2. */
  public static readonly VER_7_2 = new ValkeyEngineVersion('7.2.9', '7.2', { containerImage: 'valkey/valkey:7.2.9' });

  /** Valkey 8.0. */
  public static readonly VER_8_0 = new ValkeyEngineVersion('8.0.2', '8.0', { containerImage: 'valkey/valkey:8.0.2' });

  /** Valkey 8.1. */
  public static readonly VER_8_1 = new ValkeyEngineVersion('8.1.1', '8.1', { containerImage: 'valkey/valkey:8.1.1' });

  /**
   * A Valkey version not listed here yet.
   *
   * @param fullVersion the full version, such as `8.1.2`
   * @param majorVersion the major.minor line, such as `8.1`
   * @param containerImage the pinned image that provides it
   * @default containerImage `valkey/valkey:<fullVersion>`
   */
  public static of(fullVersion: string, majorVersion: string, containerImage?: string): ValkeyEngineVersion {
    return new ValkeyEngineVersion(fullVersion, majorVersion, {
      containerImage: containerImage ?? `valkey/valkey:${fullVersion}`,
    });
  }

  private constructor(fullVersion: string, majorVersion: string, installation: EngineInstallation) {
    super(fullVersion, majorVersion, installation);
  }
}

/**
 * A Memcached version.
 */
export class MemcachedEngineVersion extends EngineVersion {
  /** Memcached 1.6 (Amazon Linux 2023 package `memcached`). */
  public static readonly VER_1_6 = new MemcachedEngineVersion('1.6.38', '1.6', {
    amazonLinuxPackage: 'memcached',
    containerImage: 'memcached:1.6.38',
  });

  /**
   * A Memcached version not listed here yet.
   *
   * @param fullVersion the full version, such as `1.6.39`
   * @param majorVersion the major.minor line, such as `1.6`
   * @param containerImage the pinned image that provides it
   * @default containerImage `memcached:<fullVersion>`
   */
  public static of(fullVersion: string, majorVersion: string, containerImage?: string): MemcachedEngineVersion {
    return new MemcachedEngineVersion(fullVersion, majorVersion, {
      containerImage: containerImage ?? `memcached:${fullVersion}`,
    });
  }

  private constructor(fullVersion: string, majorVersion: string, installation: EngineInstallation) {
    super(fullVersion, majorVersion, installation);
  }
}

/** Properties of a Redis engine. */
export interface RedisEngineProps {
  /** The Redis version. */
  readonly version: RedisEngineVersion;
}

/** Properties of a Valkey engine. */
export interface ValkeyEngineProps {
  /** The Valkey version. */
  readonly version: ValkeyEngineVersion;
}

/** Properties of a Memcached engine. */
export interface MemcachedEngineProps {
  /** The Memcached version. */
  readonly version: MemcachedEngineVersion;
}

/**
 * A cache engine and its version: what a fleet runs.
 */
export class CacheEngine {
  /** A Redis OSS engine. */
  public static redis(props: RedisEngineProps): CacheEngine {
    requireVersion(props?.version, props?.version instanceof RedisEngineVersion, 'RedisEngineVersion', 'VER_7_2');
    return new CacheEngine(EngineType.REDIS, props.version);
  }

  /** A Valkey engine. */
  public static valkey(props: ValkeyEngineProps): CacheEngine {
    requireVersion(props?.version, props?.version instanceof ValkeyEngineVersion, 'ValkeyEngineVersion', 'VER_8_0');
    return new CacheEngine(EngineType.VALKEY, props.version);
  }

  /** A Memcached engine. */
  public static memcached(props: MemcachedEngineProps): CacheEngine {
    requireVersion(props?.version, props?.version instanceof MemcachedEngineVersion, 'MemcachedEngineVersion', 'VER_1_6');
    return new CacheEngine(EngineType.MEMCACHED, props.version);
  }

  /** The engine kind. */
  public readonly engineType: EngineType;
  /** The full version, such as `8.0.2`. */
  public readonly engineVersion: string;
  /** The major.minor line, such as `8.0`. */
  public readonly majorVersion: string;
  /** The parameter group family, such as `valkey8`, `redis7` or `memcached1.6`. */
  public readonly parameterGroupFamily: string;
  /** The port nodes listen on unless told otherwise. */
  public readonly defaultPort: number;
  /** How a node gets this version. */
  public readonly installation: EngineInstallation;

  private constructor(engineType: EngineType, version: EngineVersion) {
    this.engineType = engineType;
    this.engineVersion = version.fullVersion;
    this.majorVersion = version.majorVersion;
    this.installation = version.installation;
    this.defaultPort = engineType === EngineType.MEMCACHED ? 11211 : 6379;
    this.parameterGroupFamily = parameterGroupFamilyOf(engineType, version.majorVersion);
  }

  /** Whether the engine replicates and fails over (Redis and Valkey do, Memcached does not). */
  public get supportsReplication(): boolean {
    return this.engineType !== EngineType.MEMCACHED;
  }
}

/**
 * ElastiCache's family names: `redis6.x` for Redis 6, `redis7` / `valkey7` / `valkey8` from 7 on,
 * `memcached1.6` (major.minor) for Memcached.
 */
function parameterGroupFamilyOf(engineType: EngineType, majorVersion: string): string {
  const major = majorVersion.split('.')[0];
  if (engineType === EngineType.MEMCACHED) return `memcached${majorVersion}`;
  if (engineType === EngineType.REDIS && major === '6') return 'redis6.x';
  return `${engineType}${major}`;
}
