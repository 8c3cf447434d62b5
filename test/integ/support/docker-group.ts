import { command, pairs } from './clients';
import { waitFor } from './processes';
import { TerraformContainers } from './terraform-json';

/**
 * What the Docker-flavor tests ask of a replication group run by `TerraformContainers`: every
 * container healthy, the primary the sentinels name, and the sentinels settled.
 */

/** Every container's health check passes (a container that exited fails at once, with the logs). */
export async function allHealthy(fleet: TerraformContainers): Promise<void> {
  await Promise.all(fleet.containers.map((c) => waitFor(`${c.name}'s health check`, async () => {
    if (!fleet.process(c.name).running) throw new Error(`${c.name} exited (${fleet.process(c.name).status})`);
    return (await fleet.health(c.name)).code === 0;
  }, { timeoutMs: 60_000, intervalMs: 250 }))).catch((error) => {
    throw new Error(`${error.message}\n${fleet.logs()}`);
  });
}

function sentinels(fleet: TerraformContainers) {
  return fleet.labelled('cachefleet.service', 'sentinel');
}

/** The primary's address every sentinel names, asked with `token`; throws when they disagree. */
export async function primaryBySentinels(fleet: TerraformContainers, master: string, token: string): Promise<string> {
  const named = await Promise.all(sentinels(fleet).map(async (s) =>
    (await command(s.address, 26379, { password: token }, 'SENTINEL', 'get-master-addr-by-name', master) as string[]).join(':')));
  if (new Set(named).size !== 1) throw new Error(`the sentinels disagree: ${named.join(', ')}`);
  return named[0].split(':')[0];
}

/** Every sentinel knows its peers and sees `replicas` replicas, each in sync. */
export async function sentinelsSettled(fleet: TerraformContainers, master: string, token: string, replicas: number): Promise<void> {
  const peers = String(sentinels(fleet).length - 1);
  await waitFor(`every sentinel to know its peers and see ${replicas} replicas in sync`, async () => {
    for (const s of sentinels(fleet)) {
      const known = pairs(await command(s.address, 26379, { password: token }, 'SENTINEL', 'MASTER', master));
      if (known['num-other-sentinels'] !== peers || known['num-slaves'] !== String(replicas)) return false;
      const seen = (await command(s.address, 26379, { password: token }, 'SENTINEL', 'REPLICAS', master) as unknown[]).map(pairs);
      if (!seen.every((r) => r['master-link-status'] === 'ok' && !/s_down|disconnected/.test(r.flags))) return false;
    }
    return true;
  }, { timeoutMs: 60_000, intervalMs: 500 });
}
