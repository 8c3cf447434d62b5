import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { APPLY_SCRIPT, BOOT_SCRIPT, BUNDLE_LAYOUT, LIFECYCLE_SCRIPT, METRICS_SCRIPT } from './boot-scripts';
import { agentScript } from '../../core/agent-script';
import { renderBundle, restartRelevantText } from '../../core/render';
import { FleetPlan } from '../../core/topology';

/**
 * Every file the group ships to its nodes, by path in the bundle: the rendered configuration under
 * `config/`, the node agent and the aws boot scripts at the top.
 */
export function bundleFiles(plan: FleetPlan): Record<string, string> {
  const files: Record<string, string> = {
    [BUNDLE_LAYOUT.agent]: agentScript(),
    [BUNDLE_LAYOUT.boot]: BOOT_SCRIPT,
    [BUNDLE_LAYOUT.lifecycle]: LIFECYCLE_SCRIPT,
    [BUNDLE_LAYOUT.metrics]: METRICS_SCRIPT,
    [BUNDLE_LAYOUT.apply]: APPLY_SCRIPT,
  };
  for (const [name, text] of Object.entries(renderBundle(plan))) files[`${BUNDLE_LAYOUT.configDir}/${name}`] = text;
  return files;
}

/**
 * Writes the bundle into a directory named after its content (the asset's source): the same
 * bundle always gives the same directory and the same asset hash.
 */
export function writeBundleDirectory(plan: FleetPlan): string {
  const files = bundleFiles(plan);
  const hash = crypto.createHash('sha256');
  for (const name of Object.keys(files).sort()) hash.update(`${name}\0${files[name]}\0`);
  const dir = path.join(os.tmpdir(), 'cachefleet-bundles', hash.digest('hex').slice(0, 32));
  if (!fs.existsSync(dir)) {
    const staging = `${dir}.${process.pid}.${Date.now()}`;
    for (const [name, text] of Object.entries(files)) {
      const file = path.join(staging, name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text, { mode: name.includes('/') ? 0o644 : 0o755 });
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

/**
 * A short hash of what only a restart applies: the rendered configuration less its live parameters.
 * It is in the user data, so such a change replaces the slots one at a time and a live one does not.
 */
export function restartFingerprint(plan: FleetPlan): string {
  return crypto.createHash('sha256').update(restartRelevantText(plan, renderBundle(plan))).digest('hex').slice(0, 16);
}
