import { Credentials, command } from '../integ/support/clients';

/**
 * What a cluster node says of the cluster (`CLUSTER NODES`), parsed: enough for the fault checks to
 * find a shard's primary and replicas, and to tell a settled cluster from one mid-change.
 */

/** One line of `CLUSTER NODES`. */
export interface ClusterNode {
  readonly id: string;
  /** `ip:port` the node announces. */
  readonly address: string;
  readonly flags: string[];
  /** The id of its master, for a replica. */
  readonly masterId?: string;
  /** The slot ranges it owns, `[first, last]`. */
  readonly slots: Array<[number, number]>;
  readonly connected: boolean;
}

export function parseClusterNodes(text: string): ClusterNode[] {
  return text.trim().split('\n').filter((line) => line.trim() !== '').map((line) => {
    const [id, endpoint, flags, master, , , , link, ...slots] = line.trim().split(' ');
    return {
      id,
      // `ip:port@cport[,hostname]`
      address: endpoint.split('@')[0],
      flags: flags.split(','),
      masterId: master === '-' ? undefined : master,
      // Migrating / importing markers (`[5-<-id]`) are not owned slots.
      slots: slots.filter((s) => !s.startsWith('[')).map((s) => {
        const [first, last] = s.split('-').map(Number);
        return [first, last ?? first] as [number, number];
      }),
      connected: link === 'connected',
    };
  });
}

export function isMaster(node: ClusterNode): boolean {
  return node.flags.includes('master') && !node.flags.includes('fail') && !node.flags.includes('fail?');
}

export function ownedSlotCount(node: ClusterNode): number {
  return node.slots.reduce((sum, [first, last]) => sum + last - first + 1, 0);
}

/** `CLUSTER NODES` as `host:port` sees it, as the admin user. */
export async function clusterNodes(address: string, credentials: Credentials): Promise<ClusterNode[]> {
  const [host, port] = address.split(':');
  return parseClusterNodes(String(await command(host, Number(port), credentials, 'CLUSTER', 'NODES')));
}

/** `CLUSTER INFO`'s fields, as `host:port` sees them. */
export async function clusterInfo(address: string, credentials: Credentials): Promise<Record<string, string>> {
  const [host, port] = address.split(':');
  const text = String(await command(host, Number(port), credentials, 'CLUSTER', 'INFO'));
  return Object.fromEntries(text.split('\r\n').filter((line) => line.includes(':')).map((line) => line.split(':', 2) as [string, string]));
}

/** The master that owns `slot`, as `address` sees the cluster. */
export async function ownerOf(address: string, credentials: Credentials, slot: number): Promise<ClusterNode | undefined> {
  const nodes = await clusterNodes(address, credentials);
  return nodes.find((node) => isMaster(node) && node.slots.some(([first, last]) => slot >= first && slot <= last));
}
