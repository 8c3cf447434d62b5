import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { AwsEmulator } from './support/aws-emulator';
import { STANDINS_DIR } from './support/aws-instance';
import { describeInteg, needsBinaries } from './support/binaries';
import { AGENT } from './support/fleet';
import { loopbackAddresses, replicationGroupPlan, VALKEY_8_0 } from './support/plans';
import { runCommand } from './support/processes';
import { writeBundleDirectory } from '../../src/aws/private/bundle';

/**
 * The boot path's failure branches on the aws platform, each against the AWS API emulator (moto
 * behind the strict layer, through the real AWS CLI): a replacement instance takes the data volume
 * and the interface from a holder that is shutting down (force-detach), waits a bounded time for a
 * holder that runs and then fails, and signals CloudFormation with `signal-resource` (a signal
 * that no deploy waits for is not a failure). The agent runs with the aws platform under a
 * temporary root, with the instance-metadata stand-in here and the stand-ins of support/aws-standins
 * for the programs of the instance (mount, mkfs, systemctl, ...). No engine starts: nothing
 * listens on the loopback addresses named (127.0.0.191-193).
 */

const STACK = 'FailTest';

describeInteg('aws boot path: volume and interface holders, CloudFormation signals', () => {
  needsBinaries(['aws', 'moto_server', 'curl', 'systemd-escape']);
  const plan = replicationGroupPlan('sessions', VALKEY_8_0.engine, loopbackAddresses(191, 3));
  let dir: string;
  let emulator: AwsEmulator;
  let imds: http.Server;
  let instanceId = '';
  let imageId = '';
  let subnetId = '';

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-boot-failures-'));
    emulator = await AwsEmulator.start(path.join(dir, 'moto'));
    imageId = (await emulator.api('ec2', 'describe_images', { Owners: ['amazon'] })).Images[0].ImageId;
    // The slots' subnet: their fixed addresses are on the loopback network here.
    const vpc = (await emulator.api('ec2', 'create_vpc', { CidrBlock: '127.0.0.0/16' })).Vpc.VpcId;
    subnetId = (await emulator.api('ec2', 'create_subnet', { VpcId: vpc, CidrBlock: '127.0.0.0/24', AvailabilityZone: 'eu-west-1a' })).Subnet.SubnetId;
    // The instance-metadata stand-in: IMDSv2, the booting instance (set per test).
    imds = http.createServer((request, response) => {
      const send = (status: number, body: string) => { response.writeHead(status); response.end(body); };
      if (request.method === 'PUT') return send(200, 'token');
      if (request.headers['x-aws-ec2-metadata-token'] !== 'token') return send(401, 'IMDSv2 token required');
      const meta: Record<string, string> = { '/latest/meta-data/instance-id': instanceId, '/latest/meta-data/placement/region': 'eu-west-1' };
      return meta[request.url!] ? send(200, meta[request.url!]) : send(404, 'Not Found');
    });
    await new Promise<void>((resolve) => imds.listen(0, '127.0.0.1', resolve));
  }, 60_000);

  afterAll(async () => {
    await new Promise((resolve) => imds?.close(resolve));
    await emulator?.stop();
    if (dir && process.env.CACHEFLEET_KEEP_INTEG !== '1') fs.rmSync(dir, { recursive: true, force: true });
  });

  async function launchInstance(): Promise<string> {
    return (await emulator.api('ec2', 'run_instances', { ImageId: imageId, MinCount: 1, MaxCount: 1, SubnetId: subnetId })).Instances[0].InstanceId;
  }

  /** An instance's root with the bundle, the stand-ins and the units boot.sh writes; returns how to run the agent there. */
  function instance(name: string, env: Record<string, string>) {
    const root = path.join(dir, name);
    const standin = path.join(root, 'standin');
    fs.mkdirSync(path.join(standin, 'bin'), { recursive: true });
    fs.mkdirSync(path.join(standin, 'volumes'), { recursive: true });
    fs.writeFileSync(path.join(standin, 'calls.log'), '');
    // The `ip` stand-in reads the interfaces attached to the instance from the account (moto).
    const awsCli = spawnSync('sh', ['-c', 'command -v aws'], { encoding: 'utf8' }).stdout.trim();
    const awsEnv = { ...emulator.cliEnv(), AWS_CLI: awsCli, MOTO_URL: emulator.motoUrl };
    fs.writeFileSync(path.join(standin, 'aws-env'), Object.entries(awsEnv).map(([key, value]) => `${key}='${value}'\n`).join(''));
    for (const file of fs.readdirSync(STANDINS_DIR).filter((f) => f !== 'aws')) fs.copyFileSync(path.join(STANDINS_DIR, file), path.join(standin, 'bin', file));
    fs.cpSync(writeBundleDirectory(plan), path.join(root, 'opt/cachefleet'), { recursive: true });
    fs.writeFileSync(path.join(root, 'opt/cachefleet/agent.env'), '');
    const base = {
      PATH: `${path.join(standin, 'bin')}:${process.env.PATH}`,
      HOME: process.env.HOME ?? '/root',
      TMPDIR: dir,
      STANDIN: standin,
      CACHEFLEET_ROOT: root,
      CACHEFLEET_PLATFORM: 'aws',
      CACHEFLEET_SLOT: 'node-1',
      CACHEFLEET_CONFIG_DIR: path.join(root, 'opt/cachefleet/config'),
      CACHEFLEET_STATE_DIR: path.join(root, 'var/lib/cachefleet'),
      CACHEFLEET_RUN_DIR: path.join(root, 'run/cachefleet'),
      CACHEFLEET_SYSTEMD_DIR: path.join(root, 'etc/systemd/system'),
      CACHEFLEET_DEV_DIR: path.join(root, 'dev'),
      CACHEFLEET_METADATA_URL: `http://127.0.0.1:${(imds.address() as AddressInfo).port}`,
      CACHEFLEET_ATTACH_POLL: '1',
      CACHEFLEET_RETRY_DELAY: '1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      ...emulator.cliEnv(),
      ...env,
    };
    // The device appears when EC2 attaches the volume (the file names the volume, for the stand-ins).
    emulator.events = {
      volumeAttached: (volumeId) => {
        fs.mkdirSync(path.join(root, 'dev/disk/by-id'), { recursive: true });
        fs.writeFileSync(path.join(root, 'dev/disk/by-id', `nvme-Amazon_Elastic_Block_Store_${volumeId.replace(/-/g, '')}`), volumeId);
      },
    };
    const run = (command: string, args: string[], timeoutMs = 60_000) => runCommand(command, args, { env: base, timeoutMs });
    return { root, standin, run, agent: (args: string[], timeoutMs?: number) => run(AGENT, args, timeoutMs) };
  }

  test('a data volume still attached to a holder that is shutting down is force-detached, attached, formatted and mounted through its unit', async () => {
    const volumeId = (await emulator.api('ec2', 'create_volume', { AvailabilityZone: 'eu-west-1a', Size: 20 })).VolumeId;
    const holder = await launchInstance();
    await emulator.api('ec2', 'attach_volume', { VolumeId: volumeId, InstanceId: holder, Device: '/dev/xvdf' });
    emulator.holdShuttingDown(holder);
    instanceId = await launchInstance();
    const node = instance('volume-shutting-down', { CACHEFLEET_VOLUME_ID: volumeId });
    expect((await node.run(path.join(node.root, 'opt/cachefleet/aws/units.sh'), [])).code).toBe(0);
    const result = await node.agent(['prepare-storage']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    const volume = (await emulator.api('ec2', 'describe_volumes', { VolumeIds: [volumeId] })).Volumes[0];
    expect(volume.Attachments.map((a: any) => [a.InstanceId, a.State])).toEqual([[instanceId, 'attached']]);
    expect(fs.lstatSync(path.join(node.root, 'var/lib/cachefleet')).isSymbolicLink()).toBe(true);
    emulator.holdShuttingDown(holder, false);
  }, 90_000);

  test('an interface held by a running instance is not taken: the boot waits, bounded, then fails naming the holder', async () => {
    const holder = await launchInstance();
    const eni = (await emulator.api('ec2', 'create_network_interface', { SubnetId: subnetId })).NetworkInterface.NetworkInterfaceId;
    await emulator.api('ec2', 'attach_network_interface', { NetworkInterfaceId: eni, InstanceId: holder, DeviceIndex: 1 });
    instanceId = await launchInstance();
    const node = instance('interface-running', { CACHEFLEET_INTERFACE_ID: eni, CACHEFLEET_ATTACH_TIMEOUT: '3' });
    const started = Date.now();
    const result = await node.agent(['prepare-network']);
    expect(result.code).not.toBe(0);
    // The refusal names the interface's holder.
    expect(result.stderr).toContain(holder);
    // Bounded by the 3 s asked for, not the default 300 s (each AWS CLI call takes seconds on a busy machine).
    expect(Date.now() - started).toBeLessThan(45_000);
    const attachment = (await emulator.api('ec2', 'describe_network_interfaces', { NetworkInterfaceIds: [eni] })).NetworkInterfaces[0].Attachment;
    expect(attachment.InstanceId).toBe(holder);
  }, 60_000);

  test('an interface held by an instance that is shutting down is force-detached and attached here', async () => {
    const holder = await launchInstance();
    const address = plan.slots.find((s) => s.name === 'node-1')!.address;
    const eni = (await emulator.api('ec2', 'create_network_interface', { SubnetId: subnetId, PrivateIpAddress: address })).NetworkInterface.NetworkInterfaceId;
    await emulator.api('ec2', 'attach_network_interface', { NetworkInterfaceId: eni, InstanceId: holder, DeviceIndex: 1 });
    emulator.holdShuttingDown(holder);
    instanceId = await launchInstance();
    const node = instance('interface-shutting-down', { CACHEFLEET_INTERFACE_ID: eni, CACHEFLEET_ADDRESS_TIMEOUT: '5' });
    const result = await node.agent(['prepare-network']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    // The address is this instance's now (the `ip` stand-in shows the interfaces attached here).
    const attachment = (await emulator.api('ec2', 'describe_network_interfaces', { NetworkInterfaceIds: [eni] })).NetworkInterfaces[0].Attachment;
    expect([attachment.InstanceId, attachment.Status]).toEqual([instanceId, 'attached']);
    emulator.holdShuttingDown(holder, false);
  }, 60_000);

  test('signals go through signal-resource: taken while a deploy waits; refused outside a deploy, which is not a failure', async () => {
    instanceId = await launchInstance();
    emulator.registerStack(STACK, ['SessionsNode1Group']);
    emulator.expectSignals(STACK, 'SessionsNode1Group');
    const node = instance('signals', { CACHEFLEET_CFN_STACK: STACK, CACHEFLEET_CFN_RESOURCE: 'SessionsNode1Group' });
    const waited = await node.agent(['signal', 'success']);
    expect({ code: waited.code, stderr: waited.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    const unwaited = await node.agent(['signal', 'success']);
    expect({ code: unwaited.code, stderr: unwaited.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    // The account's record: one signal taken, one refused (no deploy waited), the refusal no failure.
    expect(emulator.signals.map((s) => [s.uniqueId, s.status, s.accepted])).toEqual([[instanceId, 'SUCCESS', true], [instanceId, 'SUCCESS', false]]);
  }, 60_000);
});
