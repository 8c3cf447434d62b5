// Prints the fleets of a synthesized CDK app, read from its cloud assembly (cdk.out): each node's
// slot, zone, fixed address and services, the fleet's engine and ports, its endpoints, and for a
// cluster-mode group its shards with their hash slots.
//
//   npx ts-node --project ../tsconfig.json summary.ts [cdk.out]
import * as fs from 'fs';
import * as path from 'path';

/** One node as the template and its bundle describe it. */
export interface NodeSummary {
  readonly slot: string;
  readonly zone: string;
  readonly address: string;
  readonly services: string;
  /** The shard the node belongs to (0 with cluster mode disabled). */
  readonly shard: number;
}

/** One shard of a cluster-mode group: its index and the hash slots it serves when balanced. */
export interface ShardSummary {
  readonly index: number;
  readonly firstHashSlot: number;
  readonly lastHashSlot: number;
}

/** One fleet. */
export interface FleetSummary {
  readonly stack: string;
  readonly fleet: string;
  readonly engine: string;
  readonly kind: string;
  readonly port: string;
  readonly sentinelPort: string;
  /** The cluster bus port of a cluster-mode group (empty otherwise). */
  readonly clusterBusPort: string;
  /** The shards of a cluster-mode group (empty otherwise). */
  readonly shards: ShardSummary[];
  readonly nodes: NodeSummary[];
  readonly endpoints: Record<string, string>;
}

type Resources = Record<string, { Type: string; Properties?: any }>;

/** A resource's tags: a list of `{ Key, Value }` or (SSM parameters) a map. */
function tagsOf(resource: { Properties?: any }): Record<string, unknown> {
  const tags = resource.Properties?.Tags ?? [];
  if (!Array.isArray(tags)) return tags;
  return Object.fromEntries(tags.map((tag: { Key: string; Value: unknown }) => [tag.Key, tag.Value]));
}

function refOf(value: unknown): string {
  if (value && typeof value === 'object' && 'Ref' in value) return (value as { Ref: string }).Ref;
  throw new Error(`expected a Ref, got ${JSON.stringify(value)}`);
}

/** `NAME='value'` lines of an env file of the bundle. */
function readEnv(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z_]+)='(.*)'$/.exec(line);
    if (match) env[match[1]] = match[2].replace(/'\\''/g, "'");
  }
  return env;
}

/** The bundle directory in the assembly of the SSM parameter that holds a fleet's bundle location. */
function bundleDir(outdir: string, parameter: { Properties?: any }): string {
  const value = JSON.stringify(parameter.Properties.Value);
  const hash = /([0-9a-f]{64})\.zip/.exec(value);
  if (!hash) throw new Error(`cannot find the bundle asset in ${value}`);
  return path.join(outdir, `asset.${hash[1]}`);
}

/** The bundle's `CF_CLUSTER_SHARDS`: `<shard>:<first>-<last>` words. */
function parseShards(text: string): ShardSummary[] {
  return text.split(' ').filter((word) => word !== '').map((word) => {
    const match = /^(\d+):(\d+)-(\d+)$/.exec(word);
    if (!match) throw new Error(`cannot read the shard ${JSON.stringify(word)} of CF_CLUSTER_SHARDS`);
    return { index: Number(match[1]), firstHashSlot: Number(match[2]), lastHashSlot: Number(match[3]) };
  });
}

/** Every fleet of every stack in the assembly. */
export function summarize(outdir: string): FleetSummary[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
  const fleets: FleetSummary[] = [];
  for (const [stackName, artifact] of Object.entries<any>(manifest.artifacts)) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const template = JSON.parse(fs.readFileSync(path.join(outdir, artifact.properties.templateFile), 'utf8'));
    const resources: Resources = template.Resources;
    const groups = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::AutoScaling::AutoScalingGroup' && tagsOf(r)['cachefleet:slot']);
    const byFleet = new Map<string, Array<[string, Resources[string]]>>();
    for (const entry of groups) {
      const fleet = String(tagsOf(entry[1])['cachefleet:fleet']);
      byFleet.set(fleet, [...(byFleet.get(fleet) ?? []), entry]);
    }
    for (const [fleet, members] of byFleet) {
      const parameter = Object.values(resources).find((r) => r.Type === 'AWS::SSM::Parameter' && tagsOf(r)['cachefleet:fleet'] === fleet);
      if (!parameter) throw new Error(`fleet ${fleet}: no bundle parameter`);
      const dir = bundleDir(outdir, parameter);
      const env = readEnv(path.join(dir, 'config', 'fleet.env'));
      const nodes = members.map(([, group]) => {
        const tags = tagsOf(group);
        const slot = String(tags['cachefleet:slot']);
        const slotEnv = readEnv(path.join(dir, 'config', 'slots', `${slot}.env`));
        const eni = resources[refOf(tags['cachefleet:interface-id'])];
        const subnet = resources[refOf(eni.Properties.SubnetId)];
        if (eni.Properties.PrivateIpAddress !== slotEnv.CF_ADDRESS) {
          throw new Error(`${slot}: the interface has ${eni.Properties.PrivateIpAddress}, the bundle ${slotEnv.CF_ADDRESS}`);
        }
        return {
          slot,
          zone: String(subnet.Properties.AvailabilityZone),
          address: String(eni.Properties.PrivateIpAddress),
          services: slotEnv.CF_SERVICES,
          shard: Number(slotEnv.CF_SHARD),
        };
      }).sort((a, b) => a.slot.localeCompare(b.slot, 'en', { numeric: true }));
      const prefix = Object.keys(template.Outputs ?? {}).filter((id) => JSON.stringify(template.Outputs[id].Description ?? '').includes(`cachefleet ${fleet}:`));
      const endpoints = Object.fromEntries(prefix.map((id) => {
        const output = template.Outputs[id];
        const name = String(output.Description).replace(`cachefleet ${fleet}: `, '');
        return [name, typeof output.Value === 'string' ? output.Value : '(resolved at deploy: ' + JSON.stringify(output.Value) + ')'];
      }));
      fleets.push({
        stack: stackName,
        fleet,
        engine: `${env.CF_ENGINE} ${env.CF_ENGINE_VERSION}`,
        kind: env.CF_KIND,
        port: env.CF_PORT,
        sentinelPort: env.CF_SENTINEL_PORT,
        clusterBusPort: env.CF_CLUSTER_BUS_PORT,
        shards: parseShards(env.CF_CLUSTER_SHARDS),
        nodes,
        endpoints,
      });
    }
  }
  return fleets;
}

/** The summary as text. */
export function formatSummary(fleets: FleetSummary[]): string {
  const lines: string[] = [];
  for (const fleet of fleets) {
    const zones = new Set(fleet.nodes.map((node) => node.zone));
    const extraPort = fleet.sentinelPort ? `, sentinel ${fleet.sentinelPort}` : fleet.clusterBusPort ? `, cluster bus ${fleet.clusterBusPort}` : '';
    const shards = fleet.shards.length > 0 ? `${fleet.shards.length} shards, ` : '';
    lines.push(`${fleet.stack} / ${fleet.fleet}: ${fleet.engine} (${fleet.kind}), ${shards}${fleet.nodes.length} nodes over ${zones.size} AZs, port ${fleet.port}${extraPort}`);
    const width = Math.max(11, ...fleet.nodes.map((node) => node.slot.length));
    const nodeLine = (node: NodeSummary, indent: string) => `${indent}${node.slot.padEnd(width)} ${node.zone.padEnd(11)} ${node.address.padEnd(15)} ${node.services}`;
    if (fleet.shards.length > 0) {
      for (const shard of fleet.shards) {
        const members = fleet.nodes.filter((node) => node.shard === shard.index);
        lines.push(`  shard ${shard.index}: hash slots ${shard.firstHashSlot}-${shard.lastHashSlot}, ${members.length} nodes in ${[...new Set(members.map((node) => node.zone))].join(', ')}`);
        for (const node of members) lines.push(nodeLine(node, '    '));
      }
    } else {
      for (const node of fleet.nodes) lines.push(nodeLine(node, '  '));
    }
    for (const [name, value] of Object.entries(fleet.endpoints)) {
      if (name === 'AuthSecretArn') continue;
      lines.push(`  ${name}: ${value.split(',').join(', ')}`);
    }
  }
  return lines.join('\n');
}

if (require.main === module) {
  const outdir = process.argv[2] ?? path.join(__dirname, 'cdk.out');
  const fleets = summarize(outdir);
  if (fleets.length === 0) {
    console.error(`no cachefleet fleet in ${outdir}`);
    process.exit(1);
  }
  console.log(formatSummary(fleets));
}
