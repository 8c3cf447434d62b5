import { Credentials, command } from './clients';
import { Fleet } from './fleet';
import { RedisFamilyEngine } from './plans';
import { processStats } from './processes';
import { CacheEngine } from '../../../src/core/engine';
import { ClusterMode } from '../../../src/core/fleet-options';
import { FleetPlan, planFleet } from '../../../src/core/topology';
import { validateReplicationGroupOptions } from '../../../src/core/validation';

/**
 * What the cluster-mode behaviour tests read of a running Redis / Valkey Cluster: its plan (core's,
 * from validated props), each node's view (`CLUSTER NODES`), and the engine process under a node's
 * agent.
 */

/** A cluster-mode group's plan: `shards` × (1 + `replicasPerShard`), slot host numbers from 127.0.2.<first>. */
export function clusterPlan(name: string, engine: CacheEngine, first: number, shards = 3, replicasPerShard = 1): FleetPlan {
  const fleet = validateReplicationGroupOptions({ engine, clusterMode: ClusterMode.ENABLED, shards, replicasPerShard });
  return planFleet({
    name,
    fleet,
    zoneCount: 3,
    addressOf: (position) => {
      const host = first + position.hostNumber;
      if (host > 254) throw new Error(`slot ${position.index} would be 127.0.2.${host}`);
      return `127.0.2.${host}`;
    },
  });
}

/** One line of `CLUSTER NODES`. */
export interface ClusterNode {
  readonly id: string;
  /** `<ip>:<port>` as announced (the bus port and hostname left out). */
  readonly address: string;
  readonly flags: string[];
  /** The master's id for a replica, else `-`. */
  readonly master: string;
  readonly configEpoch: number;
  readonly link: string;
  /** Slot ranges as `[first, last]`, migrations left out. */
  readonly slots: Array<[number, number]>;
}

/** Parses `CLUSTER NODES`. */
export function parseClusterNodes(text: string): ClusterNode[] {
  return text.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
    const [id, address, flags, master, , , epoch, link, ...slots] = line.split(' ');
    return {
      id,
      address: address.replace(/@.*/, ''),
      flags: flags.split(','),
      master,
      configEpoch: Number(epoch),
      link,
      slots: slots.filter((s) => !s.startsWith('[')).map((s) => {
        const [from, to] = s.split('-').map(Number);
        return [from, to ?? from] as [number, number];
      }),
    };
  });
}

/** A node's view of the cluster. */
export async function clusterNodes(address: string, port: number, credentials: Credentials): Promise<ClusterNode[]> {
  return parseClusterNodes(String(await command(address, port, credentials, 'CLUSTER', 'NODES')));
}

/** `CLUSTER INFO` as fields. */
export async function clusterInfo(address: string, port: number, credentials: Credentials): Promise<Record<string, string>> {
  const text = String(await command(address, port, credentials, 'CLUSTER', 'INFO'));
  return Object.fromEntries(text.split('\r\n').filter((line) => line.includes(':')).map((line) => line.split(':', 2) as [string, string]));
}

/** The planned addresses of a shard, its planned primary first. */
export function shardAddresses(plan: FleetPlan, shard: number): string[] {
  return plan.cluster!.shards[shard].slotNames.map((name) => plan.slots.find((slot) => slot.name === name)!.address);
}

/**
 * A stable summary of a view: per planned address, its id, role, master's address, config epoch and
 * slots. Equal summaries: the same node ids, the same topology, the same slot map.
 */
export function topology(nodes: ClusterNode[]): Record<string, { id: string; role: string; master: string; epoch: number; slots: string }> {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const summary: Record<string, { id: string; role: string; master: string; epoch: number; slots: string }> = {};
  for (const node of [...nodes].sort((a, b) => a.address.localeCompare(b.address))) {
    summary[node.address] = {
      id: node.id,
      role: node.flags.includes('master') ? 'master' : 'replica',
      master: node.master === '-' ? '-' : byId.get(node.master)?.address ?? node.master,
      epoch: node.configEpoch,
      slots: node.slots.map(([a, b]) => `${a}-${b}`).join(','),
    };
  }
  return summary;
}

/** The process id of the engine (`<prefix>-server`) a node's agent runs: a member of the agent's process group. */
export function enginePid(fleet: Fleet, slot: string, family: RedisFamilyEngine): number {
  const group = fleet.process(slot, 'redis').pid;
  const engine = processStats().find((p) => p.pgrp === group && p.comm === family.server && p.state !== 'Z');
  if (!engine) throw new Error(`no ${family.server} runs under ${slot}'s agent (process group ${group})`);
  return engine.pid;
}
