/**
 * The shape of results/bench.json, written by `npm run bench` (test/bench/run.ts) and read by the
 * renderer of the README's performance section. Absolute figures depend on the machine and its
 * load; the targets are ratios measured within one run.
 */

/** The file as a whole. */
export interface BenchResults {
  /** Bumped when a field changes meaning or disappears. */
  readonly schemaVersion: 1;
  /** When the run started (ISO 8601, UTC). */
  readonly date: string;
  /** How long the whole run took, seconds. */
  readonly durationSeconds: number;
  readonly machine: MachineInfo;
  readonly throughput: ThroughputResults;
  readonly synth: SynthResults;
  /** The node agent's own steady-state cost (aws platform) and its AWS calls (absent from runs made before it was measured). */
  readonly agentCost?: AgentCostResults;
  /** The Docker flavor's container health check (absent from runs made before it was measured). */
  readonly healthCheckCost?: HealthCheckCostResults;
  /**
   * Aggregate SET throughput of a 3-shard cluster against 1 shard (absent from runs made before it
   * was measured). `npm run bench -- cluster` measures it alone and keeps the rest of the file, so
   * it has its own date.
   */
  readonly cluster?: ClusterThroughputResults;
  /** Backup and restore on a group holding about 1 GB (absent from runs made before it was measured). */
  readonly backup?: BackupCostResults;
  /** Every target, in the order of the printed table. */
  readonly targets: TargetResult[];
  /** Whether every target holds and both synth variants gave the same resources (synth.sameResources). */
  readonly passed: boolean;
}

/** The machine the figures come from. */
export interface MachineInfo {
  /** `/etc/os-release`'s PRETTY_NAME, or `os.type()`. */
  readonly os: string;
  /** `os.release()` (the kernel). */
  readonly kernel: string;
  readonly arch: string;
  /** `os.cpus()[0].model`. */
  readonly cpuModel: string;
  /** `os.cpus().length`. */
  readonly cpuCount: number;
  /** `os.totalmem()`. */
  readonly totalMemoryBytes: number;
  /** `process.version`. */
  readonly nodeVersion: string;
  /** `redis-server --version`. */
  readonly redisServerVersion: string;
  /** `redis-benchmark --version`. */
  readonly redisBenchmarkVersion: string;
}

/** The Redis commands redis-benchmark runs (`-t set,get`). */
export type BenchCommand = 'SET' | 'GET';

/** Operations per second by command. */
export type OpsByCommand = Record<BenchCommand, number>;

/** Server throughput: redis-benchmark against differently configured servers, interleaved. */
export interface ThroughputResults {
  /** The load, with `<address>` and `<credentials>` standing for each server's. */
  readonly benchmarkCommand: string;
  /** Samples per configuration. */
  readonly rounds: number;
  /** The order of the first round; each later round starts one configuration later (A B C, B C A, …). */
  readonly roundOrder: string[];
  readonly configurations: ServerConfigurationResult[];
  readonly ratios: ThroughputRatio[];
}

/** One server configuration and its samples. */
export interface ServerConfigurationResult {
  /** `stock`, `generated`, `generated-aof`, `stock-aof`. */
  readonly id: string;
  readonly description: string;
  readonly address: string;
  readonly port: number;
  /** How the server was started (secrets masked). */
  readonly serverCommand: string;
  /** The benchmark's command line against this server (secrets masked). */
  readonly benchmarkCommand: string;
  /** Operations per second, one per round, in round order. */
  readonly samples: Record<BenchCommand, number[]>;
  /** Median of `samples`. */
  readonly median: OpsByCommand;
}

/** `numerator / denominator` of two configurations' medians. */
export interface ThroughputRatio {
  readonly id: string;
  readonly numerator: string;
  readonly denominator: string;
  readonly ratio: OpsByCommand;
}

/** Synthesis time of cachefleet's constructs and of the same resources written by hand. */
export interface SynthResults {
  /** How N nodes are laid out in fleets and stacks (the same for both variants). */
  readonly layout: string;
  /** What one sample times. */
  readonly method: string;
  readonly warmUpRuns: number;
  /** Samples per measurement. */
  readonly runs: number;
  readonly measurements: SynthMeasurement[];
  /** Whether both variants gave the same resources (count by type) at every size. */
  readonly sameResources: boolean;
}

/** One variant at one size. */
export interface SynthMeasurement {
  /** `cachefleet-100`, `hand-written-10`, … */
  readonly id: string;
  readonly variant: 'cachefleet' | 'hand-written';
  readonly nodes: number;
  readonly fleets: number;
  readonly stacks: number;
  /** CloudFormation resources across all stacks. */
  readonly resources: number;
  /** Resources by type across all stacks. */
  readonly resourcesByType: Record<string, number>;
  /** Milliseconds, one per run. */
  readonly samplesMs: number[];
  readonly medianMs: number;
}

/** The node agent's steady-state cost on the aws platform: an hour of a group's timer runs (test/bench/agent-cost.ts). */
export interface AgentCostResults {
  /** How it was measured. */
  readonly method: string;
  readonly simulatedMinutes: number;
  /** Nodes of the group (each runs every activity). */
  readonly nodes: number;
  readonly activities: AgentActivityCost[];
  /** The sum of the activities' CPU-seconds per hour per node (the target: at most 36, 1 % of a core). */
  readonly cpuSecondsPerHourPerNode: number;
  /** Every AWS CLI call of the group in the hour, by `<service> <operation>`. */
  readonly awsCallsByOperation: Record<string, number>;
  readonly awsCallsPerMinutePerFleet: number;
  readonly route53CallsPerMinutePerFleet: number;
  /** The fleet count the Route 53 quota is checked with. */
  readonly route53QuotaFleets: number;
  /** Route 53 requests per second that many fleets make at steady state. */
  readonly route53RequestsPerSecondWithQuotaFleets: number;
  /** Route 53's account quota, requests per second. */
  readonly route53QuotaRequestsPerSecond: number;
  /** The minutes of the hour for which CloudWatch holds the fleet's CPU (the batches arrived). */
  readonly cloudWatchMinutesWithFleetCpu: number;
}

/** One thing the agent does at steady state, on every node. */
export interface AgentActivityCost {
  readonly id: string;
  readonly description: string;
  readonly periodSeconds: number;
  /** Runs measured (all nodes). */
  readonly runs: number;
  /** CPU-seconds of those runs (user + system, with their descendants). */
  readonly cpuSeconds: number;
  readonly cpuSecondsPerHourPerNode: number;
}

/** A performance target (a ratio with its limit) and whether this run met it. */
export interface TargetResult {
  readonly id: string;
  readonly description: string;
  readonly value: number;
  readonly comparison: '>=' | '<=';
  readonly limit: number;
  readonly pass: boolean;
}

/** The Docker flavor's container health check: CPU per call and per hour per node (test/bench/health-check-cost.ts). */
export interface HealthCheckCostResults {
  /** How it was measured. */
  readonly method: string;
  /** Seconds between two checks of a container. */
  readonly intervalSeconds: number;
  readonly callsPerHour: number;
  readonly services: HealthCheckServiceCost[];
  /** The highest of the services' CPU-seconds per hour per node (the target: at most 36, 1 % of a core). */
  readonly maxCpuSecondsPerHourPerNode: number;
}

/** The health check of one kind of node, and the former check (wait-ready) for comparison. */
export interface HealthCheckServiceCost {
  /** primary, replica, sentinel or memcached. */
  readonly id: string;
  readonly calls: number;
  readonly cpuMillisecondsPerCall: number;
  readonly cpuSecondsPerHourPerNode: number;
  readonly formerCpuMillisecondsPerCall: number;
  readonly formerCpuSecondsPerHourPerNode: number;
}

/** A 3-shard Redis Cluster against a 1-shard one, same load, both planned, rendered and run by cachefleet (test/bench/cluster-throughput.ts). */
export interface ClusterThroughputResults {
  /** When this measurement started (ISO 8601, UTC); the file's `date` may be an earlier full run's. */
  readonly date: string;
  readonly durationSeconds: number;
  /** The cores the servers and the load generator shared: with fewer than shards + 1, they bound the ratio. */
  readonly cpuCount: number;
  /** The machine's 1-, 5- and 15-minute load averages when the measurement started and ended (other work may share it). */
  readonly loadAverage: { readonly start: number[]; readonly end: number[] };
  /** `Redis 7.0`. */
  readonly engine: string;
  /** Both fleets' persistence. */
  readonly persistence: string;
  /** Who formed the clusters. */
  readonly formedBy: string;
  /** redis-benchmark's load against both, the same but for `--cluster` and the address. */
  readonly load: string;
  /** Samples per configuration. */
  readonly rounds: number;
  /** The order of the first round; the next one starts with the other configuration. */
  readonly roundOrder: string[];
  readonly configurations: ClusterConfigurationResult[];
  /** Median SET ops/s of 3 shards / of 1 shard. No target: reported as measured. */
  readonly setRatio: number;
}

/** One cluster-mode fleet and its samples. */
export interface ClusterConfigurationResult {
  /** `one-shard` or `three-shards`. */
  readonly id: string;
  readonly description: string;
  readonly shards: number;
  /** The masters' addresses (port 6379). */
  readonly addresses: string[];
  /** Each shard's hash slots, `first-last`. */
  readonly slotRanges: string[];
  /** The benchmark's command line (the password masked). */
  readonly benchmarkCommand: string;
  /** SET operations per second, one per round. */
  readonly samplesSet: number[];
  readonly medianSet: number;
  /** SET calls each master served over the warm-up and the rounds (INFO commandstats), in `addresses` order. */
  readonly setCallsPerMaster: number[];
}

/** What a backup costs, how long a restore takes, and what a backup does to the primary's latency (test/bench/backup-cost.ts). */
export interface BackupCostResults {
  /** When this measurement started (ISO 8601, UTC). */
  readonly date: string;
  readonly durationSeconds: number;
  /** The cores every server, the agent and the clients shared. */
  readonly cpuCount: number;
  /** The machine's 1-, 5- and 15-minute load averages at the start and at the end. */
  readonly loadAverage: { readonly start: number[]; readonly end: number[] };
  /** `Redis 7.0`. */
  readonly engine: string;
  /** The group backed up. */
  readonly group: string;
  readonly dataset: BackupDataset;
  readonly backup: BackupTimings;
  readonly restore: RestoreTimings;
  readonly writer: WriterLatency;
  /** Every backup's manifest sourceRole (the warm-up, the rounds, the writer's), in order. */
  readonly sourceRoles: string[];
  /** How many of them were not taken from a replica (the target: none). */
  readonly backupsFromPrimary: number;
}

/** The data backed up. */
export interface BackupDataset {
  readonly keys: number;
  readonly valueBytes: number;
  /** The RDB's size (the manifest's). */
  readonly rdbBytes: number;
  /** The primary's used_memory once loaded. */
  readonly usedMemoryBytes: number;
  /** The keys aimed at (about 1 GB). */
  readonly targetKeys: number;
  /** Why fewer keys than aimed at, if so. */
  readonly limitedBy?: string;
  /** MemAvailable and the temporary filesystem's free bytes at the start, which sized the dataset. */
  readonly memoryAvailableBytes: number;
  readonly diskAvailableBytes: number;
  readonly loadedBy: string;
  readonly loadSeconds: number;
}

/** The agent's backup against a plain `redis-cli --rdb` copy from the same replica. */
export interface BackupTimings {
  readonly location: string;
  readonly agentCommand: string;
  /** The plain copy's command line (the password in REDISCLI_AUTH). */
  readonly plainCommand: string;
  readonly rounds: number;
  /** The order of the first round; the next one starts with the other. */
  readonly roundOrder: string[];
  readonly agent: BackupTiming[];
  /** The plain copy's seconds, one per round. */
  readonly plainSeconds: number[];
  readonly agentMedianSeconds: number;
  readonly plainMedianSeconds: number;
  /** agentMedianSeconds / plainMedianSeconds (the target: at most 1.2). */
  readonly ratio: number;
  /** `sha256sum` of the same RDB on its own: the agent's manifest reads the whole file once more. */
  readonly sha256sumSeconds: number;
  /** `cp` of the same RDB on its own: the agent copies it from its temporary directory into the location. */
  readonly cpSeconds: number;
}

/** One `cachefleet-node backup`. */
export interface BackupTiming {
  readonly round: number;
  readonly seconds: number;
  readonly bytes: number;
  readonly sourceNode: string;
  readonly sourceRole: string;
}

/** A new node seeded from the backup, and a stock server on a copy of the same RDB. */
export interface RestoreTimings {
  readonly method: string;
  readonly restoredNode: string;
  readonly stockServer: string;
  readonly rounds: number;
  readonly timings: RestoreTiming[];
  /** Median seconds until the restored node served every key and its agent said ready. */
  readonly medianReadySeconds: number;
  /** Median seconds until the restored node served every key. */
  readonly medianKeysServedSeconds: number;
  /** Median seconds until the stock server served every key. */
  readonly stockMedianSeconds: number;
}

export interface RestoreTiming {
  readonly kind: 'cachefleet' | 'stock';
  readonly round: number;
  /** Seconds from the start until DBSIZE was the dataset's. */
  readonly keysServedSeconds: number;
  /** Seconds from the start until also ready (the stock server: the same as keysServedSeconds). */
  readonly readySeconds: number;
}

/** The primary's SET latency with and without a backup from the replica. */
export interface WriterLatency {
  readonly method: string;
  readonly ratePerSecond: number;
  readonly rounds: number;
  readonly windows: WriterWindow[];
  /** Median of the windows' p99 without a backup, ms. */
  readonly p99NoneMs: number;
  /** Median of the windows' p99 during a backup, ms. */
  readonly p99BackupMs: number;
  /** p99BackupMs / p99NoneMs. */
  readonly p99Ratio: number;
  /** Median of the backup windows' p99 from the replica's fork on (the stream, the SHA-256, the copy), ms. */
  readonly activeP99BackupMs: number;
  /** activeP99BackupMs / p99NoneMs (the target: at most 1.5). */
  readonly activeP99Ratio: number;
}

export interface WriterWindow {
  readonly kind: 'none' | 'backup';
  readonly round: number;
  readonly seconds: number;
  readonly writes: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** A backup's window: the SETs sent from the replica's fork on, and their p99 (none when the fork was not seen). */
  readonly activeWrites?: number;
  readonly activeP99Ms?: number;
}
