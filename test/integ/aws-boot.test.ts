import * as fs from 'fs';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { APP_TOKEN, boot, BootedFleet, STACK } from './support/aws-instance';
import { describeInteg, needsBinaries } from './support/binaries';
import { auth, cli, command, infoFields, memcachedRequest } from './support/clients';
import { waitFor } from './support/processes';
import { CacheCluster, ReplicationGroup } from '../../src/aws';
import { CacheEngine, MemcachedEngineVersion, ValkeyEngineVersion } from '../../src/core/engine';
import { ParameterGroup } from '../../src/core/parameters/parameter-group';

/**
 * Template-driven behaviour test of the AWS flavor. From the synthesized template,
 * the user data is resolved with a strict resolver and the boot path runs unchanged (aws platform)
 * under a temporary root per instance, with stand-ins on PATH for what cannot run here (dnf, podman,
 * aws, mount/mkfs/blkid/mountpoint, ip, systemctl, cfn-signal) and an instance-metadata stand-in on
 * 127.0.0.1 that requires IMDSv2 tokens. The engines it starts are real. Data nodes: 127.0.0.91-99.
 * The harness and its stand-ins are in support/aws-instance.ts and support/aws-standins/.
 */

const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });
const APP = { username: 'app', password: APP_TOKEN };

/** `SENTINEL REPLICAS` as valkey-cli prints it: one block of field / value lines per replica, each starting with `name`. */
function sentinelReplicas(stdout: string): Array<Record<string, string>> {
  const lines = stdout.split('\n').filter(Boolean);
  const replicas: Array<Record<string, string>> = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    if (lines[i] === 'name') replicas.push({});
    replicas[replicas.length - 1][lines[i]] = lines[i + 1];
  }
  return replicas;
}

/** The primary the sentinels of the 1 + 2 group name (asked at 127.0.0.92: node-0's may be down). */
async function primaryBySentinels(): Promise<string> {
  const reply = await cli('valkey-cli', '127.0.0.92', 26379, ['SENTINEL', 'get-master-addr-by-name', 'sessions'], { password: APP_TOKEN });
  return reply.stdout.split('\n')[0];
}

describeInteg('AWS flavor: a 1 + 2 Valkey ReplicationGroup booted from its synthesized template', () => {
  needsBinaries(['valkey-server', 'valkey-cli', 'curl', 'python3', 'setsid']);
  let fleet: BootedFleet;
  const addresses = ['127.0.0.91', '127.0.0.92', '127.0.0.93'];

  beforeAll(async () => {
    fleet = new BootedFleet('rg', (stack, vpc) => new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, replicasPerShard: 2, nodeAddressOffset: 91 }));
    await fleet.startMetadata();
    for (const slot of fleet.slots) await boot(fleet, slot);
  }, 600_000);

  afterAll(async () => fleet?.dispose(), 30_000);

  test('the slots boot in template order (replicas first), each making the expected AWS calls, and signal success', () => {
    // Replicas first, the primary last: a replica of a group being created is ready before its primary exists.
    expect(fleet.slots.map((slot) => slot.name)).toEqual(['node-2', 'node-1', 'node-0']);
    const calls = fleet.calls();
    for (const slot of fleet.slots) {
      const own = calls.filter((call) => call.includes(`[${slot.name}]`)).map((call) => call.replace(/ \[[^\]]+\]/, ''));
      const volume = slot.tags['cachefleet:volume-id'];
      const eni = slot.tags['cachefleet:interface-id'];
      const instance = `i-${slot.name.replace(/-/g, '')}1`;
      const expected = [
        'dnf install -y podman',
        'podman pull -q valkey/valkey:8.0.2',
        `aws ec2 describe-volumes --volume-ids ${volume} --query Volumes[0].Attachments[0].[InstanceId,State] --output text`,
        `aws ec2 attach-volume --volume-id ${volume} --instance-id ${instance} --device /dev/xvdf`,
        `aws ec2 describe-volumes --volume-ids ${volume} --query Volumes[0].Attachments[0].[InstanceId,State] --output text`,
        expect.stringMatching(/^mkfs -t xfs .*nvme-Amazon_Elastic_Block_Store_vol/),
        expect.stringMatching(/^mount .*nvme-Amazon_Elastic_Block_Store_vol\S* .*\/var\/lib\/cachefleet$/),
        `aws ec2 describe-network-interfaces --network-interface-ids ${eni} --query NetworkInterfaces[0].Attachment.[InstanceId,Status] --output text`,
        `aws ec2 attach-network-interface --network-interface-id ${eni} --instance-id ${instance} --device-index 1`,
        `aws ec2 describe-network-interfaces --network-interface-ids ${eni} --query NetworkInterfaces[0].Attachment.[InstanceId,Status] --output text`,
        'systemctl daemon-reload',
        'systemctl enable --now cachefleet-redis.service cachefleet-sentinel.service cachefleet-metrics.timer cachefleet-reconcile.timer cachefleet-failover.path cachefleet-lifecycle.service',
      ];
      expect(own.slice(0, expected.length)).toEqual(expected);
      // Then the services and the boot's wait-ready read the secrets (once per process and boot).
      expect(own).toContainEqual(`aws secretsmanager get-secret-value --secret-id ${slot.tags['cachefleet:app-secret-id']} --query SecretString --output text`);
      expect(own).toContainEqual(`aws secretsmanager get-secret-value --secret-id ${slot.tags['cachefleet:internal-secret-id']} --query SecretString --output text`);
      expect(own).toContainEqual(`cfn-signal -e 0 --stack ${STACK} --resource ${slot.groupId} --region eu-west-1`);
      expect(own.filter((call) => call.startsWith('cfn-signal'))).toHaveLength(1);
    }
    // Before a slot's own calls: the fetch of the bundle named by the group's parameter.
    expect(calls.filter((call) => call.startsWith('aws [boot] ssm get-parameter'))).toHaveLength(3);
    expect(calls.filter((call) => call.startsWith('aws [boot] s3 cp'))).toHaveLength(3);
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
      }, { timeoutMs: 20_000, intervalMs: 500 });
    }
    await command(addresses[0], 6379, APP, 'SET', 'boot-key', 'boot-value');
    await waitFor('the write on the replicas', async () => (await command(addresses[2], 6379, APP, 'GET', 'boot-key')) === 'boot-value');
  });

  test('AUTH is required', async () => {
    await expect(command(addresses[0], 6379, {}, 'PING')).rejects.toThrow(/NOAUTH/);
    await expect(auth(addresses[0], 6379, 'wrong-token-0123456789', 'app')).rejects.toThrow(/WRONGPASS/);
    expect(await auth(addresses[0], 6379, APP_TOKEN, 'app')).toBe('OK');
  });

  test('metrics.sh (the unit its timer runs) publishes what the metricXxx methods read', async () => {
    const slot = fleet.slot('node-1');
    const result = await fleet.runUnit(slot, 'cachefleet-metrics.service');
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.not.stringMatching(/error|failed/) });
    const put = fleet.calls().filter((call) => call.startsWith('aws [node-1] cloudwatch put-metric-data'));
    expect(put).toHaveLength(1);
    const fleetId = slot.tags['cachefleet:fleet'];
    for (const name of ['CPUUtilization', 'CurrConnections', 'DatabaseMemoryUsagePercentage', 'ReplicationLag']) {
      expect(put[0]).toMatch(new RegExp(`MetricName=${name},Value=\\d+,Dimensions=\\[\\{Name=Fleet,Value=${fleetId}\\}\\]`));
      expect(put[0]).toContain(`Dimensions=[{Name=Fleet,Value=${fleetId}},{Name=Node,Value=node-1}]`);
    }
    expect(put[0]).toContain('--namespace CacheFleet');
  });

  test('kill -9 of the primary: Sentinel fails over, the host acts on the hook\'s event and moves the primary and reader records', async () => {
    const record = fleet.slot('node-0').tags['cachefleet:primary-record'];
    const reader = fleet.slot('node-0').tags['cachefleet:reader-record'];
    expect(fleet.record(record)).toBe(addresses[0]);
    expect(fleet.recordValues(reader)).toEqual([addresses[1], addresses[2]]);
    fleet.terminate(fleet.slot('node-0'), 'cachefleet-redis.service');
    const promoted = await waitFor('a new primary named by the sentinels', async () => {
      const ip = await primaryBySentinels();
      return ip !== addresses[0] ? ip : undefined;
    }, { timeoutMs: 20_000, intervalMs: 200 });
    // Within seconds, not the reconcile timer's period (the stand-in runs no timers): the engines run
    // in containers without the agent, so only the host's failover path unit can have moved it.
    await waitFor('the primary record on the new primary', async () => fleet.record(record) === await primaryBySentinels(), { timeoutMs: 15_000 });
    expect(fleet.calls()).toContainEqual(expect.stringMatching(new RegExp(`aws \\[[^\\]]+\\] route53 change-resource-record-sets --hosted-zone-id ${fleet.slot('node-0').tags['cachefleet:hosted-zone-id']} --change-batch .*"Value":"${promoted.replace(/\./g, '\\.')}"`)));
    // The hook runs inside the container: it only records the event, it calls nothing.
    const hook = fs.readFileSync(path.join(fleet.slot('node-1').root, 'run/cachefleet/on-failover'), 'utf8');
    expect(hook.split('\n').filter((line) => line && !line.startsWith('#'))).toEqual([expect.stringMatching(/^printf '%s\\n' "\$\*" >'[^']+\/run\/cachefleet\/failover-event'$/)]);
    // The reader record: the healthy replicas only, neither the primary nor the dead node. (On a busy
    // machine Sentinel may legitimately fail over twice: compare with its current answer.)
    await waitFor('the reader record on the remaining replica', async () => {
      const primary = await primaryBySentinels();
      return fleet.recordValues(reader).join(' ') === addresses.filter((address) => address !== addresses[0] && address !== primary).join(' ');
    }, { timeoutMs: 20_000, intervalMs: 250 });
  }, 60_000);

  test('the replaced node comes back with its address and data volume, as a replica; SENTINEL REPLICAS is clean', async () => {
    const slot = fleet.slot('node-0');
    const record = slot.tags['cachefleet:primary-record'];
    const primary = await primaryBySentinels();
    fleet.terminate(slot);
    await boot(fleet, slot);
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
    }, { timeoutMs: 20_000, intervalMs: 500 });
    expect(fleet.record(record)).toBe(primary); // the boot did not move it back
    // The reconcile timer's unit puts the replaced node back into the reader record.
    const reconcile = await fleet.runUnit(fleet.slot('node-1'), 'cachefleet-reconcile.service');
    expect({ code: reconcile.code, stderr: reconcile.stderr }).toEqual({ code: 0, stderr: expect.stringContaining('now points to') });
    expect(fleet.recordValues(slot.tags['cachefleet:reader-record'])).toEqual(addresses.filter((address) => address !== primary).sort());
  }, 150_000);

  test('a live parameter change: the user data stays, the association CONFIG SETs it on every node, one at a time, without a restart', async () => {
    const build = (stack: Stack, vpc: ec2.IVpc) => new ReplicationGroup(stack, 'Sessions', {
      vpc,
      engine: valkey,
      replicasPerShard: 2,
      nodeAddressOffset: 91,
      parameterGroup: new ParameterGroup(stack, 'Params', { engine: valkey, parameters: { 'maxmemory-policy': 'allkeys-lru', 'timeout': '300' } }),
    });
    const { resources, resolver } = fleet.synthesize(build, 'cdk.out.2');
    const lt = Object.values(resources).find((r: any) => r.Type === 'AWS::EC2::LaunchTemplate');
    expect(resolver.resolve(lt.Properties.LaunchTemplateData.UserData)).toBe(fleet.userData); // no instance is replaced
    const runIds = await Promise.all(addresses.map(async (address) => infoFields(String(await command(address, 6379, APP, 'INFO', 'server'))).run_id));
    for (const slot of fleet.slots) {
      const result = await fleet.runAssociation(slot, resources, resolver);
      expect({ slot: slot.name, code: result.code, stderr: result.stderr }).toEqual({ slot: slot.name, code: 0, stderr: expect.stringContaining('2 parameter(s) applied live') });
    }
    for (const [i, address] of addresses.entries()) {
      expect(await command(address, 6379, APP, 'CONFIG', 'GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru']);
      expect(await command(address, 6379, APP, 'CONFIG', 'GET', 'timeout')).toEqual(['timeout', '300']);
      expect(infoFields(String(await command(address, 6379, APP, 'INFO', 'server'))).run_id).toBe(runIds[i]);
    }
    // The new bundle is installed where the services read it at their next start.
    expect(fs.readFileSync(path.join(fleet.slot('node-1').root, 'opt/cachefleet/config/live-parameters'), 'utf8')).toContain('maxmemory-policy\tallkeys-lru\n');
    // Applied again, nothing changes.
    const again = await fleet.runAssociation(fleet.slot('node-1'), resources, resolver);
    expect(again.stderr).toContain('0 parameter(s) applied live');
  }, 120_000);
});

describeInteg('AWS flavor: a Memcached CacheCluster booted from its synthesized template', () => {
  needsBinaries(['memcached', 'curl', 'python3', 'setsid']);
  let fleet: BootedFleet;

  beforeAll(async () => {
    fleet = new BootedFleet('mc', (stack, vpc) => new CacheCluster(stack, 'Pages', {
      vpc, engine: CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 }), numCacheNodes: 3, nodeAddressOffset: 95,
    }));
    await fleet.startMetadata();
    for (const slot of fleet.slots) await boot(fleet, slot);
  }, 180_000);

  afterAll(async () => fleet?.dispose(), 30_000);

  test('each node installs memcached, attaches its interface only, reads no secret, signals; serves on its address', async () => {
    for (const slot of fleet.slots) {
      const own = fleet.calls().filter((call) => call.includes(`[${slot.name}]`)).map((call) => call.replace(/ \[[^\]]+\]/, ''));
      expect(own[0]).toBe('dnf install -y memcached');
      expect(own.filter((call) => /volume|secretsmanager|route53|mkfs|mount/.test(call))).toEqual([]);
      expect(own).toContainEqual(`aws ec2 attach-network-interface --network-interface-id ${slot.tags['cachefleet:interface-id']} --instance-id i-${slot.name.replace(/-/g, '')}1 --device-index 1`);
      expect(own).toContainEqual(`cfn-signal -e 0 --stack ${STACK} --resource ${slot.groupId} --region eu-west-1`);
      // node-<n> is host 95 + n: each node serves on its own address, and only there.
      const address = `127.0.0.${95 + Number(slot.name.split('-')[1])}`;
      expect(await memcachedRequest(address, 11211, `set ${slot.name} 0 0 1\r\nv\r\n`)).toBe('STORED\r\n');
      expect(await memcachedRequest(address, 11211, `get ${slot.name}\r\n`)).toBe(`VALUE ${slot.name} 0 1\r\nv\r\nEND\r\n`);
    }
    expect(await memcachedRequest('127.0.0.95', 11211, 'get node-1\r\n')).toBe('END\r\n');
  });

  test('metrics.sh on a Memcached node publishes CPU, connections and memory, what CacheCluster\'s metricXxx methods read', async () => {
    const slot = fleet.slot('node-0');
    const result = await fleet.runUnit(slot, 'cachefleet-metrics.service');
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.not.stringMatching(/error|failed/) });
    const put = fleet.calls().filter((call) => call.startsWith('aws [node-0] cloudwatch put-metric-data'));
    expect(put).toHaveLength(1);
    for (const name of ['CPUUtilization', 'CurrConnections', 'DatabaseMemoryUsagePercentage']) {
      expect(put[0]).toMatch(new RegExp(`MetricName=${name},Value=\\d+,Dimensions=\\[\\{Name=Fleet,Value=${slot.tags['cachefleet:fleet']}\\}\\]`));
    }
    expect(put[0]).not.toContain('ReplicationLag');
  });
});

describeInteg('AWS flavor: a failing AWS call', () => {
  needsBinaries(['curl', 'python3']);
  let fleet: BootedFleet;

  beforeAll(async () => {
    fleet = new BootedFleet('fail', (stack, vpc) => new CacheCluster(stack, 'Single', { vpc, engine: valkey, nodeAddressOffset: 99 }));
    await fleet.startMetadata();
  });

  afterAll(async () => fleet?.dispose(), 30_000);

  test('is retried, then ends the boot with a clear message and a failure signal', async () => {
    fs.writeFileSync(path.join(fleet.standin, 'fail'), 'secretsmanager get-secret-value');
    const result = await fleet.launch(fleet.slots[0], { CACHEFLEET_RETRIES: '3' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/aws secretsmanager get-secret-value failed \(attempt 1 of 3, exit 254\); retrying in 1s/);
    expect(result.stderr).toMatch(/aws secretsmanager get-secret-value failed after 3 attempts \(exit 254\): An error occurred \(ThrottlingException\)/);
    expect(result.stderr).toMatch(/cachefleet-boot\[node-0\]: error: the boot failed/);
    const calls = fleet.calls();
    // Each process that needs the secret (the boot's wait-ready, the services) tries 3 times, then gives up.
    expect(calls.filter((call) => call.includes('secretsmanager get-secret-value')).length).toBeGreaterThanOrEqual(3);
    expect(calls).toContainEqual(`cfn-signal [node-0] -e 1 --stack ${STACK} --resource ${fleet.slots[0].groupId} --region eu-west-1`);
    expect(calls.filter((call) => call.startsWith('cfn-signal'))).toHaveLength(1);
  }, 60_000);
});
