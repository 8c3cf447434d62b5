import { Testing } from 'cdktf';
import { describeInteg, needsBinaries } from './support/binaries';
import { auth, command, infoFields } from './support/clients';
import { nodeContainers } from './support/docker-bundle';
import { allHealthy, primaryBySentinels, sentinelsSettled } from './support/docker-group';
import { loopbackAddresses } from './support/plans';
import { waitFor } from './support/processes';
import { TerraformContainers } from './support/terraform-json';
import { CacheEngine, RedisEngineVersion } from '../../src/core/engine';
import { INTERNAL_USERS } from '../../src/core/validation';
import { ReplicationGroup } from '../../src/docker';
import { dockerStack } from '../docker/synth';

/**
 * A second `terraform apply` of a Docker fleet whose AUTH token changed. The token is a variable the
 * node containers' uploads read, so every node container's upload changes, and provider 3.6.2
 * replaces them all at once (support/terraform-json.ts `apply`: SIGTERM, SIGKILL after destroy_grace_seconds, the
 * container's files gone but its named volume, the new uploads written). The sentinels' own files on
 * their volumes were written under the old token: the group must still fail over, keep its data, and
 * accept only the new token everywhere.
 * Addresses 127.0.0.221-226, the six containers in the JSON's order (test/integ/README.md).
 */
jest.setTimeout(240_000);

const OLD_TOKEN = 'Orders-Old_Token-1234';
const NEW_TOKEN = 'Orders-New_Token-5678';
const ADMIN_TOKEN = 'Orders-Admin_Token-9012';
const KEYS = 200;

function synthesize(): string {
  const stack = dockerStack();
  new ReplicationGroup(stack, 'Orders', { engine: CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 }), replicasPerShard: 2, publishPorts: false });
  return Testing.synth(stack);
}

const variables = (token: string) => ({ variables: { orders_auth_token: token, orders_admin_token: ADMIN_TOKEN } });
const admin = { username: INTERNAL_USERS.admin, password: ADMIN_TOKEN };

describeInteg('Docker flavor: a second terraform apply with a new AUTH token', () => {
  needsBinaries(['redis-server', 'redis-cli']);
  const json = synthesize();
  let fleet: TerraformContainers;
  const dataNodes = () => fleet.labelled('cachefleet.service', 'redis');
  const sentinels = () => fleet.labelled('cachefleet.service', 'sentinel');


  /** WAIT 2 on `primary` until both replicas acknowledged what it was sent (each try well within the client's timeout). */
  async function bothReplicasHave(primary: string, token: string): Promise<void> {
    await waitFor(`both replicas of ${primary} to acknowledge its writes`, async () =>
      Number(await command(primary, 6379, { username: 'app', password: token }, 'WAIT', 2, 2_000)) === 2, { timeoutMs: 60_000, intervalMs: 250 });
  }

  beforeAll(async () => {
    fleet = TerraformContainers.prepare(json, variables(OLD_TOKEN), loopbackAddresses(221, 6), 'second-apply');
    for (const container of fleet.containers) fleet.start(container.name);
    await allHealthy(fleet);
    await sentinelsSettled(fleet, 'orders', OLD_TOKEN, 2);
  });

  afterAll(async () => fleet?.dispose());

  test('every container is replaced; the data stays; the new token works everywhere and the old one nowhere; Sentinel still fails over', async () => {
    const app = (password: string) => ({ username: 'app', password });
    const primary = await primaryBySentinels(fleet, 'orders', OLD_TOKEN);
    for (let i = 1; i <= KEYS; i++) await command(primary, 6379, app(OLD_TOKEN), 'SET', `order:${i}`, `value-${i}`);
    await bothReplicasHave(primary, OLD_TOKEN);

    // The tokens are uploads of the node containers: all six are replaced. The bundle container
    // carries no secret and stays.
    const replaced = await fleet.apply(json, variables(NEW_TOKEN));
    expect(replaced.sort()).toEqual(nodeContainers(fleet).map((c) => c.name).sort());
    expect(replaced).toHaveLength(6);
    await allHealthy(fleet);
    await sentinelsSettled(fleet, 'orders', NEW_TOKEN, 2);

    // The data survived on the volumes, on every node.
    for (const node of dataNodes()) {
      await waitFor(`${node.name} to hold every key`, async () => Number(await command(node.address, 6379, app(NEW_TOKEN), 'DBSIZE')) === KEYS, { timeoutMs: 30_000 });
      expect(await command(node.address, 6379, app(NEW_TOKEN), 'GET', `order:${KEYS}`)).toBe(`value-${KEYS}`);
    }
    // The old token is refused by every data node and every sentinel; the new one is taken.
    for (const node of dataNodes()) await expect(auth(node.address, 6379, OLD_TOKEN, 'app')).rejects.toThrow(/WRONGPASS/);
    for (const sentinel of sentinels()) {
      await expect(auth(sentinel.address, 26379, OLD_TOKEN)).rejects.toThrow(/WRONGPASS|invalid/i);
      await expect(auth(sentinel.address, 26379, NEW_TOKEN)).resolves.toBe('OK');
    }

    // A failover: the sentinels reach the data nodes with the new internal password and move the group.
    const before = await primaryBySentinels(fleet, 'orders', NEW_TOKEN);
    // A sentinel refuses (NOGOODSLAVE) until its last look at the replicas is recent enough: ask
    // again; INPROG is an answer too (a failover already started, maybe by an earlier ask).
    await waitFor('a sentinel to start a failover', async () =>
      (await command(sentinels()[0].address, 26379, admin, 'SENTINEL', 'FAILOVER', 'orders')
        .catch((error: Error) => (/INPROG/.test(error.message) ? 'OK' : Promise.reject(error)))) === 'OK', { timeoutMs: 30_000, intervalMs: 500 });
    const after = await waitFor('the sentinels to name another primary', async () => {
      const named = await primaryBySentinels(fleet, 'orders', NEW_TOKEN).catch(() => undefined);
      return named && named !== before ? named : undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    await waitFor(`${after} to be the primary of two replicas`, async () => {
      const info = infoFields(String(await command(after, 6379, app(NEW_TOKEN), 'INFO', 'replication')));
      return info.role === 'master' && info.connected_slaves === '2';
    }, { timeoutMs: 60_000, intervalMs: 250 });
    await command(after, 6379, app(NEW_TOKEN), 'SET', 'after-failover', 'yes');
    await bothReplicasHave(after, NEW_TOKEN);
  });
});
