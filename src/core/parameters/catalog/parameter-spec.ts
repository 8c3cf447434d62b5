import { ValueType } from './value-types';

/**
 * Where a parameter's value goes:
 * - `engine`: a directive of redis.conf / an argument of memcached;
 * - `agent`: read by cachefleet's node agent (`reserved-memory-percent`), never given to the engine;
 * - `none`: an ElastiCache name kept so that copied parameter groups still validate; only the value
 *   that matches what a self-managed node does anyway is accepted, and nothing is rendered;
 * - `prop`: decided by a construct prop (`cluster-enabled` by `clusterMode`); the planner refuses a
 *   group whose value disagrees with the prop, and the renderers write the prop's value.
 */
export type ParameterTarget = 'engine' | 'agent' | 'none' | 'prop';

/** When a new value takes effect: `live` through `CONFIG SET` (no restart), or at the next `restart`. */
export type ApplyMode = 'live' | 'restart';

/** Why cachefleet's default is not the server's built-in one. */
export interface DefaultDifference {
  /** The server's built-in default, in the catalog's notation (bytes for sizes). */
  readonly engineDefault: string;
  /** Why cachefleet differs. */
  readonly reason: string;
}

/**
 * One of several parameters that together make one multi-argument directive: ElastiCache's nine
 * `client-output-buffer-limit-<class>-<part>` parameters are Redis's
 * `client-output-buffer-limit <class> <hard> <soft> <seconds>` lines.
 */
export interface DirectivePart {
  /** The directive, such as `client-output-buffer-limit`. */
  readonly directive: string;
  /** The line's first argument, such as `normal`, `replica` or `pubsub`. */
  readonly group: string;
  /** The argument's position after the group (0 = first). */
  readonly position: number;
}

/** How a Memcached parameter becomes a command-line argument (one token, as memcached.args holds them). */
export type MemcachedArgument =
  /** `--<option>=<value>`. */
  | { readonly kind: 'option'; readonly option: string }
  /** `--<flag>` when the value is 1, nothing when 0. */
  | { readonly kind: 'flag'; readonly flag: string }
  /** `--extended=<name>=<value>`. */
  | { readonly kind: 'extended'; readonly name: string }
  /** `--extended=<name>` when 1, `--extended=no_<name>` when 0 (when `hasOff`), else nothing. */
  | { readonly kind: 'extended-switch'; readonly name: string; readonly hasOff: boolean };

/** Where memcached's `stats settings` shows a Memcached parameter, for the catalog test. */
export type MemcachedStats =
  | {
    /** The `STAT` name. */
    readonly key: string;
    /** The shown value for each catalog value, when they differ (`cas_disabled` 1 shows `cas_enabled no`). */
    readonly values?: { readonly [value: string]: string };
    /** What the shown value is multiplied by (memcached shows kilobyte settings in bytes). */
    readonly multiplier?: number;
  }
  | {
    /** Why `stats settings` does not show it. */
    readonly notReported: string;
  };

/** How a Memcached parameter reaches memcached. */
export interface MemcachedMapping {
  readonly argument: MemcachedArgument;
  readonly stats: MemcachedStats;
}

/** One parameter of a family's catalog. */
export interface ParameterSpec {
  /** The name, as in an ElastiCache parameter group (and a redis.conf directive, for Redis and Valkey). */
  readonly name: string;
  /** What values it takes. */
  readonly type: ValueType;
  /**
   * cachefleet's default: ElastiCache's where ElastiCache exposes the parameter, else the engine's.
   * In the engine's form (sizes in bytes).
   */
  readonly defaultValue: string;
  /** Whether a change applies live or needs a restart. */
  readonly apply: ApplyMode;
  /** Where the value goes. */
  readonly target: ParameterTarget;
  /** What it does, in one line. */
  readonly description: string;
  /**
   * The engine's major.minor version the directive appeared in, when later than its family's first
   * version: older servers refuse the directive, so it is neither rendered nor accepted for them.
   */
  readonly since?: string;
  /** Set when the default is deliberately not the server's built-in default. */
  readonly defaultDiffers?: DefaultDifference;
  /** How ElastiCache treats the parameter, where cachefleet does otherwise or the name is ElastiCache's own. */
  readonly elastiCache?: string;
  /** Set when the value is one argument of a multi-argument directive. */
  readonly part?: DirectivePart;
  /** How a Memcached parameter becomes an argument. */
  readonly memcached?: MemcachedMapping;
  /**
   * Values of other parameters that a value of this one implies, for those the user does not set
   * (memcached's `no_modern` switches several features off at once).
   */
  readonly presets?: { readonly [value: string]: { readonly [name: string]: string } };
}

/**
 * Checks parameters against each other once each is valid on its own (with the defaults of those
 * not set). A problem involves several parameters: it says, for each, how to put it when that one
 * is blamed (the one just set, else the first the user set).
 */
export type CrossCheck = (values: ReadonlyMap<string, string>) => CrossCheckProblem | undefined;

/** For each parameter involved in a problem: its value and what would be allowed, given the others. */
export interface CrossCheckProblem {
  readonly [name: string]: { readonly value: string; readonly allowed: string };
}

/** The parameters of one parameter group family. */
export interface FamilyCatalog {
  /** ElastiCache's family name: `redis7`, `valkey8`, `memcached1.6`… */
  readonly family: string;
  /** The engine's name in messages: `Redis`, `Valkey`, `Memcached`. */
  readonly engineName: string;
  /** The family's first engine version (major.minor): entries `since` a later one are gated. */
  readonly firstVersion: string;
  /** The parameters, in the order they are rendered. */
  readonly entries: readonly ParameterSpec[];
  /**
   * Names refused with a reason (what would be allowed completes "`parameters.<name>` …"):
   * directives cachefleet sets itself, ElastiCache-only parameters it cannot honour, renamed ones.
   */
  readonly refusals: { readonly [name: string]: string };
  /** Checks between parameters. */
  readonly crossChecks: readonly CrossCheck[];
}

/** The same parameter with another default (a family whose engine or ElastiCache defaults differ). */
export function withDefault(spec: ParameterSpec, defaultValue: string, defaultDiffers?: DefaultDifference): ParameterSpec {
  return { ...spec, defaultValue, defaultDiffers };
}

/** The same parameter under the name an older engine knew it by (`hash-max-ziplist-entries`). */
export function underOldName(spec: ParameterSpec, oldName: string): ParameterSpec {
  return { ...spec, name: oldName, since: undefined };
}

/** The same parameter with another value type (an older engine allows fewer values). */
export function withType(spec: ParameterSpec, type: ValueType): ParameterSpec {
  return { ...spec, type };
}

/** Refusals telling that each old name was renamed: `{ 'min-slaves-to-write': 'was renamed … ' }`. */
export function renamedRefusals(renames: { readonly [oldName: string]: string }): { [name: string]: string } {
  const refusals: { [name: string]: string } = {};
  for (const [oldName, newName] of Object.entries(renames)) {
    refusals[oldName] = `was renamed \`${newName}\`: set that name instead`;
  }
  return refusals;
}

/** A parameter given to the engine; most Redis settings apply live, so `apply` defaults to `live`. */
export function engineParameter(spec: Omit<ParameterSpec, 'target' | 'apply'> & { readonly apply?: ApplyMode }): ParameterSpec {
  return { ...spec, target: 'engine', apply: spec.apply ?? 'live' };
}
