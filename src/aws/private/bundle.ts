import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NODE_SCRIPTS, nodeScript } from './boot-scripts';
import { agentScript } from '../../core/agent-script';
import { bundleDigest, renderBundle } from '../../core/render';
import { FleetPlan } from '../../core/topology';

/** The bundle's directory of the rendered configuration (the agent's `CACHEFLEET_CONFIG_DIR`). */
export const BUNDLE_CONFIG_DIR = 'config';

/** The node agent's path in the bundle. */
export const BUNDLE_AGENT = 'cachefleet-node';

/**
 * Every file the group ships to its nodes, by path in the bundle: the node agent at the top, the aws
 * node scripts at their paths below `src/agent/` (`aws/boot.sh`, `lib/common.sh`, ...), and the
 * rendered configuration under `config/`.
 */
export function bundleFiles(plan: FleetPlan): Record<string, string> {
  const files: Record<string, string> = { [BUNDLE_AGENT]: agentScript() };
  for (const name of NODE_SCRIPTS) files[name] = nodeScript(name);
  for (const [name, text] of Object.entries(renderBundle(plan))) files[`${BUNDLE_CONFIG_DIR}/${name}`] = text;
  return files;
}

/**
 * Writes the bundle into a directory named after its content (the asset's source): the same
 * bundle always gives the same directory and the same asset hash.
 */
export function writeBundleDirectory(plan: FleetPlan): string {
  const files = bundleFiles(plan);
  const dir = path.join(os.tmpdir(), 'cachefleet-bundles', bundleDigest(files).slice(0, 32));
  if (!fs.existsSync(dir)) {
    const staging = `${dir}.${process.pid}.${Date.now()}`;
    for (const [name, text] of Object.entries(files)) {
      const file = path.join(staging, name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text, { mode: isProgram(name) ? 0o755 : 0o644 });
    }
    try {
      fs.renameSync(staging, dir);
    } catch (error) {
      fs.rmSync(staging, { recursive: true, force: true });
      if (!fs.existsSync(dir)) throw error;
    }
  }
  return dir;
}

/** Whether a bundle file is run rather than read: the agent and the aws scripts (lib/ is sourced). */
function isProgram(name: string): boolean {
  return name === BUNDLE_AGENT || /^aws\/[^/]+\.sh$/.test(name);
}
