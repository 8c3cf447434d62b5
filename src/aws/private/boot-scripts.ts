/**
 * The scripts an EC2 node runs. They are shell files under `src/agent/` (shipped beside the compiled
 * library, like the node agent): `aws/*.sh` and the helpers they source, `lib/common.sh`. The group's
 * bundle carries them at the same paths; the user data carries only the fetch program
 * (`aws/fetch.sh`), which fetches the bundle and runs `aws/boot.sh`.
 *
 * Every path and address comes from a variable with the production default, so that a test can run
 * the same scripts under a temporary root against local stand-ins (`CACHEFLEET_ROOT`,
 * `CACHEFLEET_METADATA_URL`).
 */

import * as fs from 'fs';
import * as path from 'path';
import { agentScriptPath } from '../../core/agent-script';

/** The namespace the nodes publish their metrics in (the agent's `metrics`, METRICS_NAMESPACE there). */
export const METRICS_NAMESPACE = 'CacheFleet';

/**
 * Where the node keeps its running bundle (`dir` in aws/fetch.sh): the agent, and the environment
 * file `agent.env` its systemd units run it with (aws/boot.sh, aws/units.sh).
 */
export const INSTALLED_BUNDLE = '/opt/cachefleet';

/** The name of the termination lifecycle hook whose action the node completes after `pre-stop` (`aws/lifecycle.sh`). */
export const PRE_STOP_HOOK_NAME = 'cachefleet-pre-stop';

/** The metrics the agent's `metrics` publishes (every minute's sample, sent in batches): the names the construct reads. */
export const NODE_METRICS = {
  cpuUtilization: 'CPUUtilization',
  currConnections: 'CurrConnections',
  memoryUsagePercentage: 'DatabaseMemoryUsagePercentage',
  replicationLag: 'ReplicationLag',
  /** 1 while the last scheduled backup a node attempted failed, 0 once one succeeded (nodes that took one). */
  backupFailed: 'BackupFailed',
} as const;

/**
 * The node scripts the bundle ships beside the agent, by path below `src/agent/` (and in the bundle):
 * the aws scripts and the libraries the agent sources from beside itself (`lib/cluster-slots.sh`:
 * a cluster-mode group's resharding; `lib/backup.sh`: backups and restore).
 */
export const NODE_SCRIPTS = ['lib/common.sh', 'lib/cluster-slots.sh', 'lib/backup.sh', 'aws/boot.sh', 'aws/units.sh', 'aws/apply.sh', 'aws/lifecycle.sh'] as const;

/** The user data's program, by path below `src/agent/`: it runs before any bundle exists. */
export const FETCH_SCRIPT = 'aws/fetch.sh';

/** The directory of the node's shell files: the agent's. */
export function nodeScriptsDirectory(): string {
  return path.dirname(agentScriptPath());
}

/** The text of a node script, by its path below `src/agent/`. */
export function nodeScript(name: string): string {
  return fs.readFileSync(path.join(nodeScriptsDirectory(), name), 'utf8');
}

/** What the user data's fetch program is given. */
export interface FetchScriptValues {
  /** The name of the group's SSM parameter that holds the bundle's S3 location. */
  readonly bundleParameterName: string;
  /** The stack the boot signals. */
  readonly stackName: string;
  /**
   * A hash of the bundle's restart-relevant text: a change that only a restart applies changes the
   * user data, so the slots are replaced one at a time; a live change does not.
   */
  readonly restartFingerprint: string;
  /** Seconds the deploy waits for the boot's signal: the boot's readiness wait ends before. */
  readonly signalTimeoutSeconds: number;
}

/**
 * The user data's program: a few variable lines (and the restart fingerprint), then `lib/common.sh` and `aws/fetch.sh` as they are
 * (the fetch program cannot source what it has not fetched yet). The same for every slot of a group.
 */
export function fetchScript(values: FetchScriptValues): string {
  const body = (name: string) => nodeScript(name).replace(/^#!.*\n/, '');
  return [
    '#!/bin/bash',
    '# cachefleet-fetch: the values of this group, then lib/common.sh and aws/fetch.sh of cachefleet.',
    `CACHEFLEET_BUNDLE_PARAMETER='${values.bundleParameterName}'`,
    `CACHEFLEET_CFN_STACK='${values.stackName}'`,
    `CACHEFLEET_SIGNAL_TIMEOUT=${values.signalTimeoutSeconds}`,
    `# Configuration needing a restart: ${values.restartFingerprint}`,
    body('lib/common.sh'),
    body(FETCH_SCRIPT),
  ].join('\n');
}
