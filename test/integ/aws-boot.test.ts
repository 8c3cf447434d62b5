import * as fs from 'fs';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ADMIN_PASSWORD, APP_TOKEN, boot, BootedFleet, Slot, STACK, withUnitLogs } from './support/aws-instance';
import { publishedMetrics, withMovingCpu } from './support/aws-metrics';
import { describeInteg, needsBinaries } from './support/binaries';
import { auth, cli, command, infoFields, memcachedRequest, sentinelReplicas } from './support/clients';
import { runCommand, waitFor } from './support/processes';
import { CacheCluster, ReplicationGroup } from '../../src/aws';
import { CacheEngine, MemcachedEngineVersion, ValkeyEngineVersion } from '../../src/core/engine';
import { ParameterGroup } from '../../src/core/parameters/parameter-group';
import { INTERNAL_USERS } from '../../src/core/validation';

/**
 * Template-driven behaviour test of the AWS flavor. From the synthesized template,
 * the user data is resolved with a strict resolver and the boot path runs unchanged (aws platform)
 * under a temporary root per instance, with stand-ins on PATH for what cannot run here (dnf, the
 * container runtime, mount/mkfs/blkid/mountpoint, ip, systemctl) and an instance-metadata stand-in on
 * 127.0.0.1 that requires IMDSv2 tokens. The AWS calls go through the real AWS CLI to moto behind
 * our strict layer (support/aws-emulator.ts); the assertions read the account's state there. The engines it starts are real. Data nodes: 127.0.0.91-99.
 * The harness and its stand-ins are in support/aws-instance.ts and support/aws-standins/.
 */

const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });
const APP = { username: 'app', password: APP_TOKEN };
/** The admin user: CONFIG is not the application's. */
const ADMIN = { username: INTERNAL_USERS.admin, password: ADMIN_PASSWORD };

/** The primary the sentinels of the 1 + 2 group name (asked at 127.0.0.92: node-0's may be down). */
async function primaryBySentinels(): Promise<string> {
  const reply = await cli('valkey-cli', '127.0.0.92', 26379, ['SENTINEL', 'get-master-addr-by-name', 'sessions'], { password: APP_TOKEN });
  return reply.stdout.split('\n')[0];
}

/** The image reference a slot's engine wrapper runs (install-engine wrote it at boot). */
function wrapperImage(slot: Slot): string {
  const wrapper = fs.readFileSync(path.join(slot.root, 'opt/cachefleet-bin/valkey-server'), 'utf8');
  return /^exec docker run .* '?(\S+@sha256:[0-9a-f]{64})'? '?valkey-server'?/m.exec(wrapper)?.[1] ?? `no pinned image in: ${wrapper}`;
}

/** The values the fleet's image parameter took, oldest first. */
async function imageParameterHistory(fleet: BootedFleet, slot: Slot): Promise<string[]> {
  const reply = await fleet.aws.api('ssm', 'get_parameter_history', { Name: slot.tags['cachefleet:image-parameter'] });
  return reply.Parameters.map((p: { Value: string }) => p.Value);
}

/** The registry moves the image's tag to another build, as a rebuild upstream does. */
function moveTag(fleet: BootedFleet, image: string): void {
  const file = path.join(fleet.standin, 'registry', 'tags', image.replace(/[/:@]/g, '_'));
  expect(fs.existsSync(file)).toBe(true);
  fs.writeFileSync(file, `${'e'.repeat(64)}\n`);
}

describeInteg('AWS flavor: a 1 + 2 Valkey ReplicationGroup booted from its synthesized template', () => {
  needsBinaries(['valkey-server', 'valkey-cli', 'curl', 'python3', 'setsid']);
  let fleet: BootedFleet;
  const addresses = ['127.0.0.91', '127.0.0.92', '127.0.0.93'];

  beforeAll(async () => {
    fleet = new BootedFleet('rg', (stack, vpc) => new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, replicasPerShard: 2, nodeAddressOffset: 91 }));
    await fleet.start();
    for (const slot of fleet.slots) await boot(fleet, slot);
  }, 600_000);

  afterAll(async () => fleet?.dispose(), 30_000);

  test('the slots boot in template order (replicas first); each holds its volume and interface, and signalled success once', async () => {
    // Replicas first, the primary last: a replica of a group being created is ready before its primary exists.
    expect(fleet.slots.map((slot) => slot.name)).toEqual(['node-2', 'node-1', 'node-0']);
    for (const slot of fleet.slots) {
      expect({ slot: slot.name, volume: await fleet.attachment(slot.tags['cachefleet:volume-id']) }).toEqual({ slot: slot.name, volume: { instanceId: slot.instanceId, state: 'attached' } });
      expect({ slot: slot.name, eni: await fleet.attachment(slot.tags['cachefleet:interface-id']) }).toEqual({ slot: slot.name, eni: { instanceId: slot.instanceId, state: 'attached' } });
      // The filesystem was made once, on the volume's device, and mounted where the engine keeps its data.
      const own = fleet.calls().filter((call) => call.includes(`[${slot.name}]`)).map((call) => call.replace(/ \[[^\]]+\]/, ''));
      const device = `nvme-Amazon_Elastic_Block_Store_${slot.tags['cachefleet:volume-id'].replace(/-/g, '')}`;
      expect(own.filter((call) => call.startsWith('mkfs'))).toEqual([expect.stringContaining(device)]);
      expect(own.filter((call) => call.startsWith('mount'))).toEqual([expect.stringMatching(new RegExp(`${device}\\S* .*/var/lib/cachefleet$`))]);
      // CloudFormation took exactly one signal per group: SUCCESS, from the instance that booted.
      expect(fleet.signals(slot).map((signal) => [signal.status, signal.uniqueId, signal.accepted])).toEqual([['SUCCESS', slot.instanceId, true]]);
      expect(fleet.aws.awaitingSignals(STACK, slot.groupId)).toBe(false);
      expect(await fleet.health(slot.instanceId!)).toMatch(/^healthy$/i);
    }
    // The image's tag was pinned once, by the first node to boot; every node runs that digest.
    const tag = valkey.installation.containerImage;
    const history = await imageParameterHistory(fleet, fleet.slots[0]);
    expect(history).toEqual([tag, expect.stringMatching(new RegExp(`^${tag.replace(/:[^:]+$/, '').replace(/\./g, '\\.')}@sha256:[0-9a-f]{64}$`))]);
    expect(fleet.slots.map(wrapperImage)).toEqual(fleet.slots.map(() => history[1]));
    // The primary record stays on node-0 through the boot.
    expect(await fleet.recordValues(fleet.slot('node-0').tags['cachefleet:primary-record'])).toEqual([addresses[0]]);
    // The readers end on the replicas once both are in sync. A reconcile that a Sentinel event starts
    // while a replica still syncs (a busy machine) points them at the primary meanwhile, a valid path;
    // the next reconcile (its timer's run: the stand-in runs no timers) puts them on the replicas.
    await waitFor('both replicas online at the primary', async () =>
      (await cli('valkey-cli', addresses[0], 6379, ['INFO', 'replication'], APP)).stdout.match(/state=online/g)?.length === 2, { timeoutMs: 60_000, intervalMs: 250 });
    const reconcile = await fleet.runUnit(fleet.slot('node-0'), 'cachefleet-reconcile.service');
    expect({ code: reconcile.code, stderr: reconcile.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(await fleet.recordValues(fleet.slot('node-0').tags['cachefleet:reader-record'])).toEqual([addresses[1], addresses[2]]);
  });

  test('the real engines form the group: a primary with two replicas, three sentinels agree', async () => {
    const info = await cli('valkey-cli', addresses[0], 6379, ['INFO', 'replication'], APP);
    expect(info.stdout).toMatch(/role:master/);
    await waitFor('two replicas connected', async () => /connected_slaves:2/.test((await cli('valkey-cli', addresses[0], 6379, ['INFO', 'replication'], APP)).stdout));
    // The primary booted last: its replicas' links come up and the sentinels discover one another
    // (hello messages every 2 s) right after.
    for (const replica of addresses.slice(1)) {
      await waitFor(`${replica}'s link up`, async () => /master_link_status:up/.test((await cli('valkey-cli', replica, 6379, ['INFO', 'replication'], APP)).stdout));
    }
    await waitFor('3 usable sentinels', async () => /^OK 3 usable Sentinels/.test((await cli('valkey-cli', addresses[1], 26379, ['SENTINEL', 'CKQUORUM', 'sessions'], { password: APP_TOKEN })).stdout));
    // Sentinel promotes only a replica whose last INFO shows its link up: the replicas waited for
    // their primary, so wait until every sentinel has heard them since (at most its 10 s INFO period).
    for (const sentinel of addresses) {
      await waitFor(`sentinel ${sentinel} sees both replicas in sync`, async () => {
        const replicas = sentinelReplicas((await cli('valkey-cli', sentinel, 26379, ['SENTINEL', 'REPLICAS', 'sessions'], { password: APP_TOKEN })).stdout);
        return replicas.length === 2 && replicas.every((r) => r['master-link-status'] === 'ok' && r['master-link-down-time'] === '0');
      }, { timeoutMs: 40_000, intervalMs: 500 });
    }
    await command(addresses[0], 6379, APP, 'SET', 'boot-key', 'boot-value');
    await waitFor('the write on the replicas', async () => (await command(addresses[2], 6379, APP, 'GET', 'boot-key')) === 'boot-value');
  });

  test('AUTH is required', async () => {
    await expect(command(addresses[0], 6379, {}, 'PING')).rejects.toThrow(/NOAUTH/);
    await expect(auth(addresses[0], 6379, 'wrong-token-0123456789', 'app')).rejects.toThrow(/WRONGPASS/);
    expect(await auth(addresses[0], 6379, APP_TOKEN, 'app')).toBe('OK');
  });

  test('the metrics unit (the agent\'s metrics, every minute) samples each run and sends every 5th run\'s batch: what the metricXxx methods read', async () => {
    const slot = fleet.slot('node-1');
    for (let run = 1; run <= 5; run++) {
      const result = await withMovingCpu(fleet, slot, () => fleet.runUnit(slot, 'cachefleet-metrics.service'));
      expect({ run, code: result.code, stderr: result.stderr }).toEqual({ run, code: 0, stderr: expect.not.stringMatching(/error|failed/) });
      // One CloudWatch call per batch: nothing reaches it before the 5th sample.
      if (run < 5) expect(await publishedMetrics(fleet)).toEqual([]);
    }
    const fleetId = slot.tags['cachefleet:fleet'];
    const metrics = await publishedMetrics(fleet);
    for (const name of ['CPUUtilization', 'CurrConnections', 'DatabaseMemoryUsagePercentage', 'ReplicationLag']) {
      // moto counts a query by Fleet alone over both dimension sets: the node's set has the exact count.
      expect(metrics).toContainEqual(expect.objectContaining({ name, dimensions: `Fleet=${fleetId}` }));
      expect(metrics).toContainEqual({ name, dimensions: `Fleet=${fleetId},Node=node-1`, datapoints: 5 });
    }
  });

  test('kill -9 of the primary: Sentinel fails over, the host acts on the hook\'s event and moves the primary and reader records', async () => {
    const record = fleet.slot('node-0').tags['cachefleet:primary-record'];
    const reader = fleet.slot('node-0').tags['cachefleet:reader-record'];
    expect(await fleet.record(record)).toBe(addresses[0]);
    expect(await fleet.recordValues(reader)).toEqual([addresses[1], addresses[2]]);
    await fleet.terminate(fleet.slot('node-0'), 'cachefleet-redis.service');
    // The silence (down-after, 5 s), then the vote. Two sentinels that start their election in the
    // same instant may split the vote; Sentinel then waits twice its failover-timeout (10 s) before
    // the next try, a valid path that takes about 26 s (seen here under load).
    await withUnitLogs(fleet, () => waitFor('a new primary named by the sentinels', async () => {
      const ip = await primaryBySentinels();
      return ip !== addresses[0] ? ip : undefined;
    }, { timeoutMs: 45_000, intervalMs: 200 }));
    // Within seconds, not the reconcile timer's period (the stand-in runs no timers): the engines run
    // in containers without the agent, so only the host's failover path unit can have moved it.
    // Each AWS CLI call starts Python (seconds on a busy machine): the event path makes a few.
    await withUnitLogs(fleet, () => waitFor('the primary record on the new primary', async () => await fleet.record(record) === await primaryBySentinels(), { timeoutMs: 45_000, intervalMs: 250 }));
    expect(await fleet.record(record)).not.toBe(addresses[0]);
    // The hook runs inside the container: it only records the event, it calls nothing.
    const hook = fs.readFileSync(path.join(fleet.slot('node-1').root, 'run/cachefleet/on-failover'), 'utf8');
    // It writes the event aside and renames it: the host's unit never reads half of one.
    expect(hook.split('\n').filter((line) => line && !line.startsWith('#'))).toEqual([
      'umask 077',
      expect.stringMatching(/^event='[^']+\/run\/cachefleet\/failover-event'$/),
      'printf \'%s\\n\' "$*" >"$event.$$" && exec mv -f "$event.$$" "$event"',
    ]);
    // The reader record: the healthy replicas only, neither the primary nor the dead node. (On a busy
    // machine Sentinel may legitimately fail over twice: compare with its current answer.)
    await withUnitLogs(fleet, () => waitFor('the reader record on the remaining replica', async () => {
      const primary = await primaryBySentinels();
      return (await fleet.recordValues(reader)).join(' ') === addresses.filter((address) => address !== addresses[0] && address !== primary).join(' ');
    }, { timeoutMs: 45_000, intervalMs: 250 }));
  }, 150_000);

  test('the replaced node comes back with its address and data volume, as a replica; SENTINEL REPLICAS is clean', async () => {
    const slot = fleet.slot('node-0');
    const record = slot.tags['cachefleet:primary-record'];
    // The two remaining sentinels agree on the primary before node-0 is replaced: a replacement that
    // boots while they still disagree finds no majority and follows its live file.
    const primary = await waitFor('the remaining sentinels to agree on the primary', async () => {
      const named = await Promise.all([addresses[1], addresses[2]].map(async (address) =>
        (await cli('valkey-cli', address, 26379, ['SENTINEL', 'get-master-addr-by-name', 'sessions'], { password: APP_TOKEN })).stdout.split('\n')[0]));
      return named[0] === named[1] && named[0] !== addresses[0] ? named[0] : undefined;
    }, { timeoutMs: 30_000, intervalMs: 250 });
    const old = slot.instanceId;
    const pinned = wrapperImage(slot);
    // Upstream rebuilt the tag since the fleet was created: the replacement still runs the fleet's build.
    moveTag(fleet, valkey.installation.containerImage);
    await fleet.terminate(slot);
    await boot(fleet, slot);
    expect(wrapperImage(slot)).toBe(pinned);
    // A new instance holds the slot's volume and interface; the old one is gone.
    expect(slot.instanceId).not.toBe(old);
    expect(await fleet.attachment(slot.tags['cachefleet:volume-id'])).toEqual({ instanceId: slot.instanceId, state: 'attached' });
    expect(await fleet.attachment(slot.tags['cachefleet:interface-id'])).toEqual({ instanceId: slot.instanceId, state: 'attached' });
    expect(fleet.calls().filter((call) => call.startsWith('mkfs [node-0]'))).toHaveLength(1); // the volume kept its filesystem
    expect(fleet.calls().filter((call) => call.startsWith('mount [node-0]'))).toHaveLength(2);
    const role = await cli('valkey-cli', addresses[0], 6379, ['ROLE'], APP);
    expect(role.stdout.split('\n')[0]).toBe('slave');
    expect(await command(addresses[0], 6379, APP, 'GET', 'boot-key')).toBe('boot-value');
    await waitFor('SENTINEL REPLICAS clean', async () => {
      const reply = await cli('valkey-cli', primary === addresses[1] ? addresses[2] : addresses[1], 26379, ['SENTINEL', 'REPLICAS', 'sessions'], { password: APP_TOKEN });
      const replicas = sentinelReplicas(reply.stdout);
      const clean = replicas.length === 2 && replicas.every((r) => r.flags === 'slave' && r['master-link-status'] === 'ok' && r.ip !== primary);
      return clean && replicas.some((r) => r.ip === addresses[0]) ? true : undefined;
    }, { timeoutMs: 40_000, intervalMs: 500 });
    expect(await fleet.record(record)).toBe(primary); // the boot did not move it back
    // The reconcile timer's unit (or a run Sentinel's events started before) puts the replaced node
    // back into the reader record once it is in sync.
    const reconcile = await fleet.runUnit(fleet.slot('node-1'), 'cachefleet-reconcile.service');
    expect({ code: reconcile.code, stderr: reconcile.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(await fleet.recordValues(slot.tags['cachefleet:reader-record'])).toEqual(addresses.filter((address) => address !== primary).sort());
  }, 150_000);

  test('a live parameter change: the user data stays, the association CONFIG SETs it on every node, one at a time, without a restart', async () => {
    const build = (stack: Stack, vpc: ec2.IVpc) => new ReplicationGroup(stack, 'Sessions', {
      vpc,
      engine: valkey,
      replicasPerShard: 2,
      nodeAddressOffset: 91,
      parameterGroup: new ParameterGroup(stack, 'Params', { engine: valkey, parameters: { 'maxmemory-policy': 'allkeys-lru', 'timeout': '300' } }),
    });
    const { resources, resolver } = await fleet.synthesize(build, 'cdk.out.2');
    const lt = Object.values(resources).find((r: any) => r.Type === 'AWS::EC2::LaunchTemplate');
    expect(resolver.resolve(lt.Properties.LaunchTemplateData.UserData)).toBe(fleet.userData); // no instance is replaced
    const runIds = await Promise.all(addresses.map(async (address) => infoFields(String(await command(address, 6379, APP, 'INFO', 'server'))).run_id));
    for (const slot of fleet.slots) {
      const result = await fleet.runAssociation(slot, resources, resolver);
      expect({ slot: slot.name, code: result.code, stderr: result.stderr }).toEqual({ slot: slot.name, code: 0, stderr: expect.any(String) });
    }
    for (const [i, address] of addresses.entries()) {
      expect(await command(address, 6379, ADMIN, 'CONFIG', 'GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru']);
      expect(await command(address, 6379, ADMIN, 'CONFIG', 'GET', 'timeout')).toEqual(['timeout', '300']);
      expect(infoFields(String(await command(address, 6379, APP, 'INFO', 'server'))).run_id).toBe(runIds[i]);
    }
    // The new bundle is installed where the services read it at their next start.
    expect(fs.readFileSync(path.join(fleet.slot('node-1').root, 'opt/cachefleet/config/live-parameters'), 'utf8')).toContain('maxmemory-policy\tallkeys-lru\n');
    // Applied again, nothing changes: the same values, the same processes.
    const again = await fleet.runAssociation(fleet.slot('node-1'), resources, resolver);
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(await command(addresses[1], 6379, ADMIN, 'CONFIG', 'GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru']);
    expect(await command(addresses[1], 6379, ADMIN, 'CONFIG', 'GET', 'timeout')).toEqual(['timeout', '300']);
    expect(infoFields(String(await command(addresses[1], 6379, APP, 'INFO', 'server'))).run_id).toBe(runIds[1]);
  }, 120_000);

  test('a terminating replica: its lifecycle unit runs pre-stop and completes the group\'s termination hook, once', async () => {
    const primary = await primaryBySentinels();
    const slot = fleet.slots.find((candidate) => addresses[Number(candidate.name.split('-')[1])] !== primary)!;
    fleet.beginTermination(slot);
    // The unit polls the instance metadata every 5 s.
    await waitFor('the lifecycle action completed', () => fleet.aws.lifecycleCompletions.length > 0, { timeoutMs: 30_000, intervalMs: 250 });
    expect(fleet.aws.lifecycleCompletions).toEqual([{ autoScalingGroupName: `${STACK}-${slot.groupId}`, lifecycleHookName: 'cachefleet-pre-stop', instanceId: slot.instanceId, result: 'CONTINUE' }]);
    expect(await primaryBySentinels()).toBe(primary); // a replica hands nothing over
  }, 45_000);

  test('a replica whose engine dies leaves the reader record within seconds: Sentinel\'s event starts the reconciliation (the model runs no timer)', async () => {
    const primary = await primaryBySentinels();
    const reader = fleet.slot('node-0').tags['cachefleet:reader-record'];
    const replicas = await fleet.recordValues(reader);
    const victim = replicas.find((address) => address !== primary)!;
    expect(victim).toBeDefined();
    await fleet.terminate(fleet.slot(`node-${addresses.indexOf(victim)}`), 'cachefleet-redis.service');
    // Sentinel's down-after (5 s), its notification hook, the host's path unit, one reconciliation.
    const after = await waitFor('the reader record without the dead replica', async () => {
      const values = await fleet.recordValues(reader);
      return values.length > 0 && !values.includes(victim) ? values : undefined;
    }, { timeoutMs: 45_000, intervalMs: 250 });
    expect(after).not.toContain(victim);
    expect(await fleet.record(fleet.slot('node-0').tags['cachefleet:primary-record'])).toBe(primary);
  }, 60_000);
});

describeInteg('AWS flavor: a Memcached CacheCluster booted from its synthesized template', () => {
  needsBinaries(['memcached', 'curl', 'python3', 'setsid']);
  let fleet: BootedFleet;

  beforeAll(async () => {
    fleet = new BootedFleet('mc', (stack, vpc) => new CacheCluster(stack, 'Pages', {
      vpc, engine: CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 }), numCacheNodes: 3, nodeAddressOffset: 95,
    }));
    await fleet.start();
    for (const slot of fleet.slots) await boot(fleet, slot);
  }, 180_000);

  afterAll(async () => fleet?.dispose(), 30_000);

  test('each node installs memcached, holds its interface and no volume, signals; serves on its address', async () => {
    for (const slot of fleet.slots) {
      const own = fleet.calls().filter((call) => call.includes(`[${slot.name}]`)).map((call) => call.replace(/ \[[^\]]+\]/, ''));
      expect(own[0]).toBe('dnf install -y memcached');
      expect(own.filter((call) => /mkfs|mount/.test(call))).toEqual([]);
      expect(slot.tags['cachefleet:volume-id']).toBeUndefined();
      expect(await fleet.attachment(slot.tags['cachefleet:interface-id'])).toEqual({ instanceId: slot.instanceId, state: 'attached' });
      expect(fleet.signals(slot).map((signal) => [signal.status, signal.uniqueId, signal.accepted])).toEqual([['SUCCESS', slot.instanceId, true]]);
      // node-<n> is host 95 + n: each node serves on its own address, and only there.
      const address = `127.0.0.${95 + Number(slot.name.split('-')[1])}`;
      expect(await memcachedRequest(address, 11211, `set ${slot.name} 0 0 1\r\nv\r\n`)).toBe('STORED\r\n');
      expect(await memcachedRequest(address, 11211, `get ${slot.name}\r\n`)).toBe(`VALUE ${slot.name} 0 1\r\nv\r\nEND\r\n`);
    }
    expect(await memcachedRequest('127.0.0.95', 11211, 'get node-1\r\n')).toBe('END\r\n');
  });

  test('the metrics unit on a Memcached node sends CPU, connections and memory (5 samples, one call), what CacheCluster\'s metricXxx methods read', async () => {
    const slot = fleet.slot('node-0');
    for (let run = 1; run <= 5; run++) {
      const result = await withMovingCpu(fleet, slot, () => fleet.runUnit(slot, 'cachefleet-metrics.service'));
      expect({ run, code: result.code, stderr: result.stderr }).toEqual({ run, code: 0, stderr: expect.not.stringMatching(/error|failed/) });
    }
    const metrics = await publishedMetrics(fleet);
    for (const name of ['CPUUtilization', 'CurrConnections', 'DatabaseMemoryUsagePercentage']) {
      expect(metrics).toContainEqual(expect.objectContaining({ name, dimensions: `Fleet=${slot.tags['cachefleet:fleet']}` }));
      expect(metrics).toContainEqual({ name, dimensions: `Fleet=${slot.tags['cachefleet:fleet']},Node=node-0`, datapoints: 5 });
    }
    expect(metrics.filter((metric) => metric.name === 'ReplicationLag')).toEqual([]);
  });
});

/** CloudFormation got one FAILURE for the group from the slot's instance, and the group will replace it. */
async function expectFailedBoot(fleet: BootedFleet, slot: BootedFleet['slots'][number]): Promise<void> {
  expect(fleet.signals(slot).map((signal) => [signal.status, signal.uniqueId, signal.accepted])).toEqual([['FAILURE', slot.instanceId, true]]);
  expect(await fleet.health(slot.instanceId!)).toMatch(/^unhealthy$/i);
}

describeInteg('AWS flavor: a failing AWS call', () => {
  needsBinaries(['curl', 'python3']);
  let fleet: BootedFleet;

  beforeAll(async () => {
    fleet = new BootedFleet('fail', (stack, vpc) => new CacheCluster(stack, 'Single', { vpc, engine: valkey, nodeAddressOffset: 99 }));
    await fleet.start();
  });

  afterAll(async () => fleet?.dispose(), 30_000);

  test('is retried, then ends the boot with a clear message, a failure signal and the instance marked Unhealthy', async () => {
    fleet.aws.inject('secretsmanager GetSecretValue', { code: 'ThrottlingException', message: 'Rate exceeded' });
    const slot = fleet.slots[0];
    const result = await fleet.launch(slot, { CACHEFLEET_RETRIES: '3' });
    expect(result.code).not.toBe(0);
    // The call was tried again (at least the 3 attempts asked for reached the account) before the boot gave up.
    expect(fleet.aws.calls.filter((call) => call === 'secretsmanager GetSecretValue').length).toBeGreaterThanOrEqual(3);
    // The message names the call and the account's answer.
    expect(result.stderr).toMatch(/secretsmanager get-secret-value/);
    expect(result.stderr).toMatch(/ThrottlingException/);
    await expectFailedBoot(fleet, slot);
    // Each AWS CLI call starts Python, and the CLI backs off on throttling by itself: on a busy
    // machine three failing attempts after the image's pinning take well over a minute.
  }, 240_000);
});

describeInteg('AWS flavor: an image tag the registry does not hold', () => {
  needsBinaries(['curl', 'python3']);
  // A version no one published: the registry holds no such tag (support/aws-instance.ts's PUBLISHED_IMAGES).
  const unpublished = CacheEngine.valkey({ version: ValkeyEngineVersion.of('8.0.99', '8.0') });
  const image = unpublished.installation.containerImage;
  let fleet: BootedFleet;

  beforeAll(async () => {
    fleet = new BootedFleet('unpublished', (stack, vpc) => new CacheCluster(stack, 'Single', { vpc, engine: unpublished, nodeAddressOffset: 98 }));
    await fleet.start();
  });

  afterAll(async () => fleet?.dispose(), 30_000);

  test('its pull is refused (manifest unknown): the boot ends with a failure signal and the instance marked Unhealthy', async () => {
    const slot = fleet.slots[0];
    const result = await fleet.launch(slot, { CACHEFLEET_RETRIES: '2' });
    expect(result.code).not.toBe(0);
    await expectFailedBoot(fleet, slot);
    // It stopped at the tag's pull: nothing was pinned, no container ran.
    expect(fleet.calls().filter((call) => call.startsWith(`docker [${slot.name}] run `))).toEqual([]);
    expect(await imageParameterHistory(fleet, slot)).toEqual([image]);
    // The docker client the node installed answers as Docker does for a registry's `manifest unknown`; a published tag it pulls.
    const pull = (reference: string) => runCommand(path.join(fleet.standin, 'bin', 'docker'), ['pull', reference], {
      env: { PATH: process.env.PATH, STANDIN: fleet.standin, CACHEFLEET_ROOT: slot.root, CACHEFLEET_SLOT: slot.name },
    });
    expect(await pull(image)).toMatchObject({ code: 1, stderr: `Error response from daemon: manifest for ${image} not found: manifest unknown: manifest unknown\n` });
    expect(await pull(valkey.installation.containerImage)).toMatchObject({ code: 0, stdout: `${valkey.installation.containerImage}\n` });
  }, 120_000);
});
