// Plans two example fleets with cachefleet's core and prints what they are: the slots, their
// zones, addresses, ports and services, and the configuration files each node is given.
// The AWS and Docker examples will synthesize these same fleets as CloudFormation and Terraform.
import { Construct } from 'constructs';
import { CacheEngine, MemcachedEngineVersion, ValkeyEngineVersion } from '../src';
import { ParameterGroup } from '../src/core/parameters/parameter-group';
import { renderBundle } from '../src/core/render/bundle';
import { FleetPlan, planFleet, SlotPosition } from '../src/core/topology';
import { validateCacheClusterOptions, validateReplicationGroupOptions } from '../src/core/validation';

const zones = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];
/** Each fleet takes its own range of fixed addresses in every zone's subnet (10.0.<zone>.0/24). */
const addressesFrom = (first: number) => (slot: SlotPosition) => `10.0.${slot.zoneIndex}.${first + slot.indexInZone}`;
const root = new Construct(undefined as unknown as Construct, 'Examples');

const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });
const sessions = planFleet({
  name: 'sessions',
  zoneCount: zones.length,
  addressOf: addressesFrom(200),
  fleet: validateReplicationGroupOptions({
    engine: valkey,
    replicasPerShard: 2,
    parameterGroup: new ParameterGroup(root, 'SessionParams', {
      engine: valkey,
      parameters: { 'maxmemory-policy': 'allkeys-lru' },
    }),
  }),
});
const pages = planFleet({
  name: 'pages',
  zoneCount: zones.length,
  addressOf: addressesFrom(220),
  fleet: validateCacheClusterOptions({ engine: CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 }), numCacheNodes: 3 }),
});

for (const plan of [sessions, pages]) describe(plan);

function describe(plan: FleetPlan): void {
  console.log(`\n${plan.name}: ${plan.engine.engineType} ${plan.engine.engineVersion} (${plan.kind}), port ${plan.port}`);
  console.table(
    plan.slots.map((slot) => ({
      slot: slot.name,
      role: slot.role,
      zone: zones[slot.zoneIndex],
      address: slot.address,
      ports: [slot.enginePort, slot.sentinelPort].filter((port) => port !== undefined).join(', '),
      services: slot.services.join(' + '),
    })),
  );
  if (plan.sentinel) {
    console.log(`sentinels: ${plan.sentinel.endpoints.join(', ')} (quorum ${plan.sentinel.quorum}, detection ${plan.sentinel.downAfterMillis} ms)`);
  }
  console.log(`persistence: ${plan.persistence.mode}; configuration bundle: ${Object.keys(renderBundle(plan)).join(', ')}`);
}
