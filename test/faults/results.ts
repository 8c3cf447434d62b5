/**
 * The shape of results/faults.json: what one fault run measured, on which machine, against which
 * targets. The README's reliability tables and the failover chart are rendered from it, so every
 * figure a reader sees has a field here.
 */

/** The machine the run measured on (figures from another machine are not comparable). */
export interface MachineInfo {
  /** `os.cpus()[0].model`. */
  readonly cpuModel: string;
  /** `os.cpus().length`. */
  readonly cpuCount: number;
  /** `os.totalmem()`, MiB. */
  readonly memoryMiB: number;
  /** `os.type()` and `os.release()`. */
  readonly os: string;
  /** `process.version`. */
  readonly node: string;
  /** The first line of `redis-server --version`. */
  readonly redisServer: string;
  /** The first line of `valkey-server --version`, when the run used Valkey. */
  readonly valkeyServer?: string;
  /** The first line of `memcached -V`. */
  readonly memcached: string;
  /**
   * `os.loadavg()` (1, 5, 15 min) when the run started and when it ended: other work on the
   * machine delays the sentinels' timers and shows in the figures.
   */
  readonly loadAverage: { readonly start: number[]; readonly end: number[] };
}

/** A figure's target and whether the run met it. */
export interface Target {
  /** What is compared, in words (`p50 <= 3 s`). */
  readonly description: string;
  /** The limit, in the figure's unit. */
  readonly limit: number;
  /** Whether the measured figure is within the limit. */
  readonly pass: boolean;
}

/** One kill -9 of the primary under a steady writer. */
export interface FailoverTrial {
  /** 1-based. */
  readonly trial: number;
  /** The primary that was killed, address:port. */
  readonly killed: string;
  /** The primary the sentinels promoted, address:port. */
  readonly promoted: string;
  /**
   * The primary once the old one had rejoined: `promoted`, unless the sentinels failed over a
   * second time (a false detection right after the first failover).
   */
  readonly primaryAfterRejoin: string;
  /**
   * From the kill until a write through Sentinel discovery succeeded, seconds (only writes sent
   * after the killed process had ended count).
   */
  readonly failoverSeconds: number;
  /** Writes confirmed by `WAIT 1` (>= 1 replica) before the kill. */
  readonly acknowledgedBeforeKill: number;
  /** Of those, how many were missing on the primary once the old one had rejoined. */
  readonly acknowledgedLost: number;
  /** Whether the old primary, restarted, came back as a replica of the current primary, seen by every sentinel. */
  readonly rejoinedAsReplica: boolean;
  /** From the restart until it had rejoined (process start, load, sync, seen by every sentinel), seconds. */
  readonly rejoinSeconds?: number;
  /** When it did not rejoin within 30 s: what was last seen instead. */
  readonly rejoinProblem?: string;
  /** The writer's achieved rate before the kill, writes per second. */
  readonly writesPerSecond: number;
  /** How the node's agent exited after its engine died (the engine's status: 137 for kill -9). */
  readonly agentExit: number | string;
}

/** A failure-detection setting a fleet ran with. */
export interface DetectionSetting {
  /** The `failureDetection` prop: `STALL_TOLERANT` (the default) or `FAST`. */
  readonly detection: string;
  /** Sentinel's down-after-milliseconds under that setting. */
  readonly downAfterMillis: number;
}

/** The crash (kill -9 of the engine) checks of one engine under one detection setting. */
export interface FailoverResult extends DetectionSetting {
  /** `Redis 7.0`, `Valkey 8.0`. */
  readonly engine: string;
  /** What the running data nodes report (INFO server): `redis 7.0.15`, `valkey 8.0.1`. */
  readonly server: string;
  readonly trials: FailoverTrial[];
  /** Median failover time, seconds. */
  readonly p50Seconds: number;
  /** Longest failover time, seconds. */
  readonly maxSeconds: number;
  /** Acknowledged writes lost over all trials. */
  readonly acknowledgedLost: number;
  /** Acknowledged writes over all trials. */
  readonly acknowledged: number;
  /** Trials whose old primary rejoined as a replica. */
  readonly rejoined: number;
  /** Trials in which the sentinels failed over a second time (primaryAfterRejoin !== promoted). */
  readonly secondFailovers: number;
  readonly targets: {
    readonly p50: Target;
    readonly max: Target;
    readonly acknowledgedLost: Target;
    readonly rejoined: Target;
  };
}

/** One `DEBUG SLEEP` of the primary. */
export interface StallTrial {
  readonly trial: number;
  /** The primary that stalled, address:port. */
  readonly primary: string;
  /** How long the stall lasted as its client saw it (the command's round trip), seconds. */
  readonly stallSeconds: number;
  /** Whether any sentinel flagged the primary down (s_down / o_down) during or after the stall. */
  readonly flaggedDown: boolean;
  /** Whether the sentinels failed over (a sentinel's config epoch grew, or they named another primary). */
  readonly failedOver: boolean;
  /** The primary the sentinels named afterwards. */
  readonly primaryAfter: string;
}

/** Event-loop stalls of the primary under one detection setting. */
export interface StallResult extends DetectionSetting {
  readonly engine: string;
  /** The stall asked for (`DEBUG SLEEP <n>`), seconds. */
  readonly stallSeconds: number;
  readonly trials: StallTrial[];
  /** Trials that ended in a failover. */
  readonly failovers: number;
  readonly targets: {
    /** The default setting only: no failover (`FAST` fails over on stalls by design; its figure is reported). */
    readonly failovers?: Target;
  };
}

/** One loss of the primary's host. */
export interface HostLossTrial {
  readonly trial: number;
  /**
   * `processes`: kill -9 of every process of the primary's node (agent and engine) and of a
   * sentinel, as on an EC2 slot that runs one beside the engine; `traffic`: every packet to and from
   * the primary's address dropped (iptables).
   */
  readonly kind: 'processes' | 'traffic';
  readonly lost: string;
  /** The primary the sentinels promoted. */
  readonly promoted: string;
  /** From the loss until a write through Sentinel discovery succeeded, seconds. */
  readonly failoverSeconds: number;
}

/** Host loss under one detection setting. */
export interface HostLossResult extends DetectionSetting {
  readonly engine: string;
  readonly trials: HostLossTrial[];
  readonly p50Seconds: number;
  readonly maxSeconds: number;
  readonly targets: {
    /** Every trial within down-after + 3 s. */
    readonly max: Target;
  };
}

/** One partition of the primary from its replicas and sentinels, one writer still reaching it. */
export interface SplitBrainRun {
  /** `min-replicas-to-write` on the data nodes during the run (1: the shipped default, 0: off). */
  readonly minReplicasToWrite: number;
  /** `min-replicas-max-lag`, seconds. */
  readonly minReplicasMaxLag: number;
  /** How long the partition was held, seconds. */
  readonly partitionSeconds: number;
  /**
   * From the partition until the isolated primary first refused a write with `NOREPLICAS`;
   * undefined if it never did (a timeout or another error is not a refusal).
   */
  readonly refusedAfterSeconds?: number;
  /** The isolated primary's first refusal (`NOREPLICAS …`), verbatim. */
  readonly refusal?: string;
  /** From the partition until the isolated primary's last acknowledged write, seconds. */
  readonly lastAcceptedAfterSeconds: number;
  /** Writes the isolated primary acknowledged after the partition began. */
  readonly acknowledgedDuringPartition: number;
  /** Writes it acknowledged (before or during the partition) that were missing once it healed. */
  readonly acknowledgedLost: number;
  /** Writes attempted during the partition. */
  readonly attemptedDuringPartition: number;
  /** From the partition until the sentinels named another primary, seconds. */
  readonly newPrimaryAfterSeconds?: number;
  /** Whether the old primary was a replica of the current primary within 60 s of the partition healing. */
  readonly oldPrimaryDemoted: boolean;
  /** When it was not: what was last seen instead. */
  readonly demotionProblem?: string;
}

/** The split-brain comparison: the shipped default and min-replicas off. */
export interface SplitBrainResult {
  readonly engine: string;
  readonly withMinReplicas: SplitBrainRun;
  readonly withoutMinReplicas: SplitBrainRun;
  readonly targets: {
    /** The isolated side refuses a write with NOREPLICAS within the limit (with min-replicas on); never refusing misses it. */
    readonly refusal: Target;
  };
}

/** kill -9 and restart of a node with an append-only file. */
export interface AofRun {
  /** `everysec` or `always`. */
  readonly appendfsync: string;
  /** Writes acknowledged before the kill. */
  readonly acknowledged: number;
  /** Of those, missing after the restart. */
  readonly lost: number;
  /** The writer's rate before the kill, writes per second. */
  readonly writesPerSecond: number;
  readonly target: Target;
}

/** Memcached: one node of three killed, keys spread over the nodes by the client. */
export interface MemcachedResult {
  readonly nodes: number;
  readonly keys: number;
  /** Reads that missed after the kill. */
  readonly misses: number;
  /** misses / keys. */
  readonly missShare: number;
  /** The share the killed node held (its keys / keys). */
  readonly expectedShare: number;
  /** Reads from the surviving nodes that did not return the value written. */
  readonly survivorsWrong: number;
  readonly targets: {
    /** The misses are exactly the keys the killed node held (`limit` 0 on the difference of the counts). */
    readonly missShare: Target;
    readonly survivorsWrong: Target;
  };
}

/** results/faults.json. */
export interface FaultResults {
  /** The file's format; bumped when a field changes meaning. */
  readonly schemaVersion: 2;
  /** ISO 8601, when the run started. */
  readonly date: string;
  /** Wall time of the whole run, seconds. */
  readonly durationSeconds: number;
  /** `full` (npm run faults) or `short` (the jest suite). */
  readonly mode: 'full' | 'short';
  readonly machine: MachineInfo;
  /** The shipped defaults the fleets ran with. */
  readonly defaults: {
    /** The `failureDetection` default. */
    readonly failureDetection: string;
    /** Sentinel's down-after under the default setting. */
    readonly sentinelDownAfterMillis: number;
    readonly sentinelFailoverTimeoutMillis: number;
    readonly sentinelQuorum: number;
    readonly minReplicasToWrite: number;
    readonly minReplicasMaxLagSeconds: number;
    readonly persistence: string;
  };
  /** Every detection setting the run covered, the default first. */
  readonly detectionSettings: DetectionSetting[];
  /** Crash checks, per engine and setting. */
  readonly failover: FailoverResult[];
  readonly stall: StallResult[];
  readonly hostLoss: HostLossResult[];
  /** With the default setting. */
  readonly splitBrain: SplitBrainResult[];
  readonly aof: AofRun[];
  readonly memcached: MemcachedResult;
  /** Every target of the run met. */
  readonly pass: boolean;
}
