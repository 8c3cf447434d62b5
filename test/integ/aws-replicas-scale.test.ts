import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { APP_TOKEN, boot, BootedFleet, Slot, withUnitLogs } from './support/aws-instance';
import { describeInteg, needsBinaries } from './support/binaries';
import { cli, command, sentinelReplicas } from './support/clients';
import { waitFor } from './support/processes';
import { ReplicationGroup } from '../../src/aws';
import { CacheEngine, ValkeyEngineVersion } from '../../src/core/engine';

/**
 * Template-driven behaviour test of a deploy that lowers a Sentinel group's `replicasPerShard`: a
 * Valkey 8.0 ReplicationGroup of 1 + 2 (a sentinel on each data node) booted from its synthesized
 * template (support/aws-instance.ts), then deployed with 1 + 1, as CloudFormation runs the update:
 * the sentinel-only slot it adds boots first, the association runs on every node (the removed one's
 * included: the new bundle has no slot for it), then the cleanup deletes the removed node's group
 * through its termination hook. The sentinels that stay must forget the removed replica and its
 * sentinel: a dead sentinel they still counted would raise the majority a failover needs. Subnet
 * 127.0.8.0/24, the group's block from host 100: node-k on .100 + k, sentinel-0 on .106.
 */

const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });
const SUBNET = '127.0.8.0/24';
const OFFSET = 100;
const build = (replicasPerShard: number) => (stack: Stack, vpc: ec2.IVpc) => new ReplicationGroup(stack, 'Sessions', {
  vpc, engine: valkey, replicasPerShard, nodeAddressOffset: OFFSET,
});
const address = (host: number) => `127.0.8.${OFFSET + host}`;
const sentinel = (at: string, ...args: string[]) => cli('valkey-cli', at, 26379, ['SENTINEL', ...args, 'sessions'], { password: APP_TOKEN });
const APP = { username: 'app', password: APP_TOKEN };

/** What one sentinel knows: its peers (by `SENTINEL SENTINELS`), the replicas and whether any of them is down. */
async function knownBy(at: string) {
  const peers = sentinelReplicas((await sentinel(at, 'SENTINELS')).stdout).map((s) => `${s.ip}:${s.port}${/s_down|disconnected/.test(s.flags) ? ' down' : ''}`).sort();
  const replicas = sentinelReplicas((await sentinel(at, 'REPLICAS')).stdout).map((r) => `${r.ip}:${r.port}${/s_down|disconnected/.test(r.flags) ? ' down' : ''}`).sort();
  return { peers, replicas };
}

describeInteg('AWS flavor: a deploy that lowers replicasPerShard of a Sentinel group (1 + 2 → 1 + 1)', () => {
  needsBinaries(['valkey-server', 'valkey-cli', 'curl', 'python3', 'setsid']);
  let fleet: BootedFleet;

  beforeAll(async () => {
    fleet = new BootedFleet('replicas-scale', build(2), { subnetCidr: SUBNET });
    await fleet.start();
    for (const slot of fleet.slots) await boot(fleet, slot);
    await waitFor('3 usable sentinels', async () => /^OK 3 usable Sentinels/.test((await sentinel(address(0), 'CKQUORUM')).stdout), { timeoutMs: 60_000, intervalMs: 500 });
    // The primary takes writes once its replicas are in sync (min-replicas-to-write).
    await waitFor('a write the primary takes', async () => (await command(address(0), 6379, APP, 'SET', 'kept', 'value')) === 'OK', { timeoutMs: 60_000, intervalMs: 500 });
  }, 600_000);

  afterAll(async () => fleet?.dispose(), 60_000);

  test('the removed node leaves; the sentinels that stay forget it and its sentinel in turn; a failover still finds a majority', async () => {
    const update = await fleet.update(build(1), 'cdk.out.1');
    expect({ added: update.addedSlots.map((slot) => slot.name), removed: update.removedSlots.map((slot) => slot.name) }).toEqual({ added: ['sentinel-0'], removed: ['node-2'] });
    for (const slot of update.addedSlots) await boot(fleet, slot);
    // The association on every node, the removed one first: its apply keeps its bundle and succeeds.
    for (const slot of [...update.removedSlots, ...fleet.slots.filter((s) => !update.removedSlots.includes(s))]) {
      const result = await fleet.runAssociation(slot, update.resources, update.resolver);
      expect({ slot: slot.name, code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ slot: slot.name, code: 0, stderr: '' });
    }
    await withUnitLogs(fleet, () => fleet.removeSlots(update.removedSlots));
    const sentinels = [address(0), address(1), address(6)];
    const bySlot = new Map(fleet.slots.map((slot) => [slot.tags['cachefleet:slot'], slot] as [string, Slot]));
    const sentinelSlots = ['node-0', 'node-1', 'sentinel-0'].map((name) => bySlot.get(name)!);
    // Each sentinel's reconcile timer (every 60 s; here run back to back): each resets in its own
    // minute (its place among the sentinels), so within three minutes all have forgotten.
    const expected = (self: string) => ({ peers: sentinels.filter((s) => s !== self).map((s) => `${s}:26379`).sort(), replicas: [`${address(1)}:6379`] });
    await withUnitLogs(fleet, () => waitFor('every sentinel knows only the group that stays', async () => {
      for (const slot of sentinelSlots) {
        const run = await fleet.runUnit(slot, 'cachefleet-reconcile.service');
        if (run.code !== 0) throw new Error(`${slot.name}'s reconcile failed: ${run.stderr}`);
      }
      for (const at of sentinels) {
        if (JSON.stringify(await knownBy(at)) !== JSON.stringify(expected(at))) return false;
      }
      return true;
    }, { timeoutMs: 240_000, intervalMs: 1_000 }));
    // The majority a failover needs is that of the three sentinels that stay: with node-0's whole
    // instance gone (its engine and its sentinel), the two others still promote node-1.
    await fleet.terminate(bySlot.get('node-0')!, undefined, 'running');
    await waitFor('the sentinels promote node-1', async () => (await sentinel(address(1), 'get-master-addr-by-name')).stdout.split('\n')[0] === address(1), { timeoutMs: 90_000, intervalMs: 500 });
    expect(await command(address(1), 6379, APP, 'GET', 'kept')).toBe('value');
  }, 900_000);
});
