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
 * The registry the official images are pulled from: Amazon ECR Public, inside AWS, so that a boot or
 * a replacement does not depend on Docker Hub (its rate limits, its reachability from a VPC).
 * `docker/library/...` is ECR Public's copy of the Docker Official Images (same image digests).
 */
export const DEFAULT_CONTAINER_REGISTRY = 'public.ecr.aws';

/** A registry host, an optional port and path prefix: no scheme, no tag, no digest. */
const REGISTRY_PATTERN = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*$/;

/**
 * How a node gets one engine version.
 */
export interface EngineInstallation {
  /**
   * The Amazon Linux 2023 package that provides this version, installed with `dnf`.
   *
   * @default - no Amazon Linux 2023 package provides this version: the node runs `containerImage`
   * with AL2023's `docker` package
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
   * The system user an EC2 node runs the engine as: the Amazon Linux 2023 package's own user, or the
   * user the node creates (`useradd -r`) to run the image as, never root.
   *
   * @default - the engine's name (`redis`, `valkey`, `memcached`)
   */
  readonly engineUser?: string;

  /**
   * The official container image, pinned: `registry/repository:tag@sha256:digest` where a digest of the
   * tag could be verified. Containers always run it, and EC2 nodes run it (with AL2023's `docker`
   * package) when no Amazon Linux 2023 package provides the version.
   */
  readonly containerImage: string;

  /**
   * The `uid:gid` the official image runs the engine as (its entrypoint switches from root to it, or
   * its `USER`): the node runs the engine as this identity inside a container.
   */
  readonly containerUser: string;
}

/** The uid:gid of the `redis` and `valkey` users of the official images (their entrypoints switch to it). */
const REDIS_IMAGE_USER = '999:999';
/** The uid:gid of the `memcache` user the official memcached image runs as (`USER memcache`). */
const MEMCACHED_IMAGE_USER = '11211:11211';

/**
 * The engine image with another registry in place of the default one: a private mirror or an ECR
 * pull-through cache for VPCs without internet access (`123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecr-public`
 * serves `.../ecr-public/docker/library/redis:7.2.16@sha256:...`). The repository path, tag and digest are
 * kept, so the mirror serves the very same image.
 *
 * @param image the image reference, such as `public.ecr.aws/docker/library/redis:7.2.16@sha256:...`
 * @param registry the registry host and optional path prefix that replaces the image's registry
 * @param propPath the prop the registry came from, for the error message
 */
export function imageFromRegistry(image: string, registry: string, propPath = 'containerRegistry'): string {
  if (typeof registry !== 'string' || !REGISTRY_PATTERN.test(registry)) {
    throw new ValidationError(propPath, registry, 'must be a registry host with an optional port and path prefix, such as "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecr-public" (no scheme, tag or digest)');
  }
  const slash = image.indexOf('/');
  const first = slash < 0 ? '' : image.slice(0, slash);
  // A first path component with a dot or a colon (or `localhost`) names a registry; otherwise the
  // reference is Docker Hub's (`valkey/valkey:8.0.2`) and all of it is the repository path.
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  return `${registry}/${hasRegistry ? image.slice(slash + 1) : image}`;
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
  /**
   * Redis 6.2. EC2 nodes install Amazon Linux 2023's `redis6` package (its own 6.2 patch release, run
   * as the package's `redis` user); containers run the official image.
   */
  public static readonly VER_6_2 = new RedisEngineVersion('6.2.24', '6.2', {
    amazonLinuxPackage: 'redis6',
    amazonLinuxBinaryPrefix: 'redis6',
    engineUser: 'redis',
    containerImage: `${DEFAULT_CONTAINER_REGISTRY}/docker/library/redis:6.2.24@sha256:e7b96daa9a182b0a2639253fdab98244190ec2dca8a41da3fb31a147ef71a870`,
    containerUser: REDIS_IMAGE_USER,
  });

  /**
   * Redis 7.0 (the official image; Amazon Linux 2023 has no Redis 7 package). The 7.0 line is no
   * longer rebuilt upstream: its image is pinned to the tag only.
   */
  public static readonly VER_7_0 = new RedisEngineVersion('7.0.15', '7.0', {
    containerImage: `${DEFAULT_CONTAINER_REGISTRY}/docker/library/redis:7.0.15`,
    containerUser: REDIS_IMAGE_USER,
  });

  /** Redis 7.2 (the official image; Amazon Linux 2023 has no Redis 7 package). */
  public static readonly VER_7_2 = new RedisEngineVersion('7.2.16', '7.2', {
    containerImage: `${DEFAULT_CONTAINER_REGISTRY}/docker/library/redis:7.2.16@sha256:0637954999d01b7c9ce9167db2da50656e2590d3b884f1c600c5f63bb6e6773c`,
    containerUser: REDIS_IMAGE_USER,
  });

  /**
   * A Redis version not listed here yet. It runs from the image on every node.
   *
   * @param fullVersion the full version, such as `7.2.8`
   * @param majorVersion the major.minor line, such as `7.2`
   * @param containerImage the image that provides it; pin it by digest (`...:7.2.8@sha256:...`) so
   * that every node of a fleet runs the same build
   * @default containerImage `public.ecr.aws/docker/library/redis:<fullVersion>`
   */
  public static of(fullVersion: string, majorVersion: string, containerImage?: string): RedisEngineVersion {
    return new RedisEngineVersion(fullVersion, majorVersion, {
      containerImage: containerImage ?? `${DEFAULT_CONTAINER_REGISTRY}/docker/library/redis:${fullVersion}`,
      containerUser: REDIS_IMAGE_USER,
    });
  }

  private constructor(fullVersion: string, majorVersion: string, installation: EngineInstallation) {
    super(fullVersion, majorVersion, installation);
  }
}

/**
 * A Valkey version.
 */
export class ValkeyEngineVersion extends EngineVersion {
  // Amazon Linux 2023's `valkey` package follows Valkey's newest line (9.0 from release
  // 2023.11.20260427), so none of these lines is an AL2023 package: every node runs the Valkey
  // project's image from its ECR Public repository.

  /** Valkey 7.2 (the Valkey project's image). */
  public static readonly VER_7_2 = new ValkeyEngineVersion('7.2.9', '7.2', {
    containerImage: `${DEFAULT_CONTAINER_REGISTRY}/valkey/valkey:7.2.9`,
    containerUser: REDIS_IMAGE_USER,
  });

  /** Valkey 8.0 (the Valkey project's image). */
  public static readonly VER_8_0 = new ValkeyEngineVersion('8.0.2', '8.0', {
    containerImage: `${DEFAULT_CONTAINER_REGISTRY}/valkey/valkey:8.0.2`,
    containerUser: REDIS_IMAGE_USER,
  });

  /** Valkey 8.1 (the Valkey project's image). */
  public static readonly VER_8_1 = new ValkeyEngineVersion('8.1.1', '8.1', {
    containerImage: `${DEFAULT_CONTAINER_REGISTRY}/valkey/valkey:8.1.1`,
    containerUser: REDIS_IMAGE_USER,
  });

  /**
   * A Valkey version not listed here yet. It runs from the image on every node.
   *
   * @param fullVersion the full version, such as `8.1.2`
   * @param majorVersion the major.minor line, such as `8.1`
   * @param containerImage the image that provides it; pin it by digest (`...:8.1.2@sha256:...`) so
   * that every node of a fleet runs the same build
   * @default containerImage `public.ecr.aws/valkey/valkey:<fullVersion>`
   */
  public static of(fullVersion: string, majorVersion: string, containerImage?: string): ValkeyEngineVersion {
    return new ValkeyEngineVersion(fullVersion, majorVersion, {
      containerImage: containerImage ?? `${DEFAULT_CONTAINER_REGISTRY}/valkey/valkey:${fullVersion}`,
      containerUser: REDIS_IMAGE_USER,
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
  /**
   * Memcached 1.6. EC2 nodes install Amazon Linux 2023's `memcached` package (its own 1.6 patch
   * release, run as the package's `memcached` user); containers run the official image.
   */
  public static readonly VER_1_6 = new MemcachedEngineVersion('1.6.45', '1.6', {
    amazonLinuxPackage: 'memcached',
    engineUser: 'memcached',
    containerImage: `${DEFAULT_CONTAINER_REGISTRY}/docker/library/memcached:1.6.45@sha256:75c93cc91e76853da7c029e74d6e8dbd44774dd3713c93be8cd1971ad26120a4`,
    containerUser: MEMCACHED_IMAGE_USER,
  });

  /**
   * A Memcached version not listed here yet. It runs from the image on every node.
   *
   * @param fullVersion the full version, such as `1.6.39`
   * @param majorVersion the major.minor line, such as `1.6`
   * @param containerImage the image that provides it; pin it by digest (`...:1.6.39@sha256:...`) so
   * that every node of a fleet runs the same build
   * @default containerImage `public.ecr.aws/docker/library/memcached:<fullVersion>`
   */
  public static of(fullVersion: string, majorVersion: string, containerImage?: string): MemcachedEngineVersion {
    return new MemcachedEngineVersion(fullVersion, majorVersion, {
      containerImage: containerImage ?? `${DEFAULT_CONTAINER_REGISTRY}/docker/library/memcached:${fullVersion}`,
      containerUser: MEMCACHED_IMAGE_USER,
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

  /** The system user EC2 nodes run the engine as (never root). */
  public readonly engineUser: string;

  private readonly version: EngineVersion;

  private constructor(engineType: EngineType, version: EngineVersion, installation?: EngineInstallation) {
    this.engineType = engineType;
    this.version = version;
    this.engineVersion = version.fullVersion;
    this.majorVersion = version.majorVersion;
    this.installation = installation ?? version.installation;
    this.engineUser = this.installation.engineUser ?? engineType;
    this.defaultPort = engineType === EngineType.MEMCACHED ? 11211 : 6379;
    this.parameterGroupFamily = parameterGroupFamilyOf(engineType, version.majorVersion);
  }

  /**
   * The same engine, its image pulled from another registry: a private mirror or an ECR pull-through
   * cache, for VPCs without internet access. The repository path, tag and digest stay the same.
   *
   * @param registry the registry host and optional path prefix, such as
   * `123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecr-public`
   */
  public withContainerRegistry(registry: string): CacheEngine {
    return new CacheEngine(this.engineType, this.version, {
      ...this.installation,
      containerImage: imageFromRegistry(this.installation.containerImage, registry),
    });
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
