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

/** The lines of the agent that source AGENT_COMMON from beside it, between these markers. */
const COMMON_BEGIN = '# cachefleet:common.sh begin\n';
const COMMON_END = '# cachefleet:common.sh end\n';

/**
 * The node agent as the flavors ship it: `src/agent/cachefleet-node` with the text of
 * `lib/common.sh` in place of the lines that source it, so that the one file a bundle carries is the
 * whole program wherever it is copied (and a change of the helpers is a change of the agent: the
 * Docker flavor's restart key follows it). Run from the source tree, the agent sources the file.
 */
export function agentScript(): string {
  const source = fs.readFileSync(agentScriptPath(), 'utf8');
  const begin = source.indexOf(COMMON_BEGIN);
  const end = source.indexOf(COMMON_END);
  if (begin < 0 || end < begin) throw new Error(`cachefleet's node agent has no ${COMMON_BEGIN.trim()} ... ${COMMON_END.trim()} block to carry ${AGENT_COMMON} in`);
  const common = agentFile(AGENT_COMMON).replace(/^# shellcheck shell=sh\n/, '');
  return `${source.slice(0, begin)}# ${AGENT_COMMON} of cachefleet, as the agent ships:\n${common}# end of ${AGENT_COMMON}\n${source.slice(end + COMMON_END.length)}`;
}
