// Prints the fleets the Docker example synthesized: reads every cdktf.out/stacks/*/cdk.tf.json
// (run `npx cdktf synth` here first) and lists each container's fleet, slot, service, image,
// address in its network, port, published host port, limits and volumes; for a cluster-mode group,
// each shard's hash slots and nodes (from its `<fleet>_shards` output).
import * as fs from 'fs';
import * as path from 'path';

interface TerraformJson {
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  variable?: Record<string, { sensitive?: boolean }>;
  output?: Record<string, { sensitive?: boolean; value?: unknown }>;
}

const outDir = process.argv[2] ?? path.join(__dirname, 'cdktf.out', 'stacks');
if (!fs.existsSync(outDir)) {
  console.error(`no synthesized stacks in ${outDir}: run \`npx cdktf synth\` in examples/docker first`);
  process.exit(1);
}

for (const stack of fs.readdirSync(outDir).sort()) {
  const file = path.join(outDir, stack, 'cdk.tf.json');
  if (!fs.existsSync(file)) continue;
  const tf = JSON.parse(fs.readFileSync(file, 'utf8')) as TerraformJson;
  const images = tf.resource?.docker_image ?? {};
  const networks = tf.resource?.docker_network ?? {};
  const containers = tf.resource?.docker_container ?? {};
  const volumes = tf.resource?.docker_volume ?? {};

  console.log(`\nstack ${stack} (${file})`);
  console.table(
    Object.values(networks).map((network: any) => ({ network: network.name, subnet: network.ipam_config?.[0]?.subnet, driver: network.driver })),
  );
  console.table(
    Object.values(containers).map((container: any) => {
      const label = (name: string) => container.labels?.find((l: any) => l.label === name)?.value;
      const port = container.ports?.[0];
      const network = container.networks_advanced?.[0];
      return {
        'container': container.name,
        'service': label('cachefleet.service'),
        'image': imageName(container.image, images),
        'address': network?.ipv4_address ?? `(network ${container.network_mode})`,
        'port': port?.internal ?? '-',
        'host': port ? `${port.ip}:${port.external ?? '(picked by Docker)'}` : '(not published)',
        'memory MiB': container.memory,
        'restart': container.restart,
        'volumes': (container.volumes ?? []).map((v: any) => (v.volume_name ? volumeName(v.volume_name, volumes) : `host ${v.host_path}`)).join(', ') || 'none',
      };
    }),
  );
  for (const [name, output] of Object.entries(tf.output ?? {}).filter(([outputName]) => outputName.endsWith('_shards'))) {
    printShards(name.slice(0, -'_shards'.length), output.value, tf.output?.[name.replace(/_shards$/, '_host_address_map')]?.value);
  }
  const variables = Object.entries(tf.variable ?? {}).map(([name, v]) => `${name}${v.sensitive ? ' (sensitive)' : ''}`);
  console.log(`variables: ${variables.join(', ') || 'none'}`);
  const outputs = Object.entries(tf.output ?? {}).map(([name, o]) => `${name}${o.sensitive ? ' (sensitive)' : ''}`);
  console.log(`outputs: ${outputs.join(', ')}`);
}

/** `${docker_volume.<id>.name}` -> the volume's name. */
function volumeName(reference: string, volumes: Record<string, Record<string, unknown>>): string {
  const match = /^\$\{docker_volume\.([^.]+)\.name\}$/.exec(reference);
  const volume = match ? volumes[match[1]] : undefined;
  return volume ? String(volume.name) : reference;
}

/** `${docker_image.<id>.image_id}` -> the image's name (the pinned tag). */
function imageName(reference: string, images: Record<string, Record<string, unknown>>): string {
  const match = /^\$\{docker_image\.([^.]+)\.image_id\}$/.exec(reference);
  const image = match ? images[match[1]] : undefined;
  return image ? String(image.name) : reference;
}

interface ShardOutput {
  shard: number;
  hash_slots: string;
  node_endpoints: string[];
}

/**
 * A cluster-mode group's shards: the hash slots each serves when balanced, its nodes (the one that
 * starts as its primary first) and where the host publishes them. A Docker host is one zone: the
 * nodes of a shard are apart only as containers are.
 */
function printShards(fleet: string, value: unknown, hostAddressMap: unknown): void {
  const shards = value as ShardOutput[];
  const published = (hostAddressMap ?? {}) as Record<string, string>;
  console.log(`\ncluster ${fleet}: ${shards.length} shards (one zone: the Docker host)`);
  console.table(shards.flatMap((shard) => shard.node_endpoints.map((node, i) => ({
    'shard': shard.shard,
    'hash slots': shard.hash_slots,
    'node': node,
    'starts as': i === 0 ? 'primary' : 'replica',
    'host': published[node] ?? '(not published)',
  }))));
}
