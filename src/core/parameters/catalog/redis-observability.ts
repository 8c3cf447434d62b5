import { engineParameter } from './parameter-spec';
import { integer, LLONG_MAX, percentiles, yesNo } from './value-types';

/** Redis and Valkey parameters about the slow log and latency statistics. */

export const slowlogLogSlowerThan = engineParameter({
  name: 'slowlog-log-slower-than',
  type: integer(-1n, LLONG_MAX),
  defaultValue: '10000',
  description: 'Microseconds of execution above which a command enters the slow log (0: every command, -1: none).',
});

export const slowlogMaxLen = engineParameter({
  name: 'slowlog-max-len',
  type: integer(0n, LLONG_MAX),
  defaultValue: '128',
  description: 'Entries the slow log keeps.',
});

export const latencyMonitorThreshold = engineParameter({
  name: 'latency-monitor-threshold',
  type: integer(0n, LLONG_MAX),
  defaultValue: '0',
  description: 'Milliseconds above which an event is recorded by the latency monitor (0: off).',
});

export const latencyTracking = engineParameter({
  name: 'latency-tracking',
  type: yesNo(),
  defaultValue: 'no',
  since: '7.0',
  defaultDiffers: { engineDefault: 'yes', reason: "ElastiCache's default: no per-command latency histograms unless asked for" },
  description: 'Tracks per-command latency histograms, shown by INFO latencystats and LATENCY HISTOGRAM.',
});

export const latencyTrackingInfoPercentiles = engineParameter({
  name: 'latency-tracking-info-percentiles',
  type: percentiles(),
  defaultValue: '50 99 99.9',
  since: '7.0',
  description: 'The percentiles INFO latencystats reports.',
});

/** The observability parameters of every Redis and Valkey family, in rendering order. */
export const REDIS_OBSERVABILITY_PARAMETERS = [
  slowlogLogSlowerThan,
  slowlogMaxLen,
  latencyMonitorThreshold,
  latencyTracking,
  latencyTrackingInfoPercentiles,
];
