import * as fs from 'fs';
import * as path from 'path';

/**
 * The node agent's path: beside core in the source tree (`src/agent`), and shipped as
 * `src/agent/cachefleet-node` next to the compiled `lib/` in the package.
 */
export function agentScriptPath(): string {
  const candidates = [
    path.join(__dirname, '..', 'agent', 'cachefleet-node'),
    path.join(__dirname, '..', '..', 'src', 'agent', 'cachefleet-node'),
  ];
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found) throw new Error(`cachefleet's node agent is missing from the package (looked in ${candidates.join(', ')})`);
  return found;
}

/** A file of the agent's directory (`src/agent/<relative>`), such as `docker/launch.sh`. */
export function agentFile(relative: string): string {
  return fs.readFileSync(path.join(path.dirname(agentScriptPath()), relative), 'utf8');
}

/** The helpers every node program shares, by path below the agent's directory. */
export const AGENT_COMMON = 'lib/common.sh';

/** Online resharding in cluster mode (cluster_rebalance, cluster_drain, cluster_forget_absent). */
export const AGENT_CLUSTER_SLOTS = 'lib/cluster-slots.sh';

/** Backups and restore (backup_take, backup_due, rotate_backups, restore_if_asked). */
export const AGENT_BACKUP = 'lib/backup.sh';

/** The libraries the agent sources, in order; each between markers `# cachefleet:<file name> begin` / `end`. */
export const AGENT_LIBRARIES = [AGENT_COMMON, AGENT_CLUSTER_SLOTS, AGENT_BACKUP] as const;

/** The markers around the lines of the agent that source `relative` from beside it. */
export function libraryMarkers(relative: string): { begin: string; end: string } {
  const name = path.basename(relative);
  return { begin: `# cachefleet:${name} begin\n`, end: `# cachefleet:${name} end\n` };
}

/**
 * The node agent as the flavors ship it: `src/agent/cachefleet-node` with the text of each of
 * AGENT_LIBRARIES in place of the lines that source it, so that the one file a bundle carries is the
 * whole program wherever it is copied (and a change of a library is a change of the agent: the
 * Docker flavor's restart key follows it). Run from the source tree, the agent sources the files.
 */
export function agentScript(): string {
  return AGENT_LIBRARIES.reduce((source, relative) => {
    const { begin, end } = libraryMarkers(relative);
    const from = source.indexOf(begin);
    const to = source.indexOf(end);
    if (from < 0 || to < from) throw new Error(`cachefleet's node agent has no ${begin.trim()} ... ${end.trim()} block to carry ${relative} in`);
    const text = agentFile(relative).replace(/^# shellcheck shell=sh\n/, '');
    return `${source.slice(0, from)}# ${relative} of cachefleet, as the agent ships:\n${text}# end of ${relative}\n${source.slice(to + end.length)}`;
  }, fs.readFileSync(agentScriptPath(), 'utf8'));
}
