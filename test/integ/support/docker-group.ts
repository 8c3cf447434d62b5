import { command, pairs } from './clients';
import { waitFor } from './processes';
import { TerraformContainers } from './terraform-json';

/**
 * What the Docker-flavor tests ask of a replication group run by `TerraformContainers`: every
 * container healthy, the primary the sentinels name, and the sentinels settled.
 */

/**
 * Every container is healthy, as Docker tells it: its health check passes, or, for a container
 * without one, it runs (a container that exited fails at once, with the logs).
 */
export async function allHealthy(fleet: TerraformContainers): Promise<void> {
  await Promise.all(fleet.containers.map(async (c) => {
    // waitFor retries on errors: an exit is returned, and thrown here, so that it fails at once.
    const outcome = await waitFor(`${c.name}'s health check`, async () => {
      const p = fleet.process(c.name);
      if (!p.running) return { exited: p.status };
      if (!c.healthcheck) return { exited: undefined };
      return (await fleet.health(c.name)).code === 0 && { exited: undefined };
    }, { timeoutMs: 60_000, intervalMs: 250 });
    if (outcome.exited !== undefined) throw new Error(`${c.name} exited (${outcome.exited})`);
  })).catch((error) => {
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
