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

/** The node agent itself, for flavors that ship it inline. */
export function agentScript(): string {
  return fs.readFileSync(agentScriptPath(), 'utf8');
}
