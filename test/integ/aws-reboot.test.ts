import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { APP_TOKEN, boot, BootedFleet, endInstanceProcesses, Slot, withUnitLogs } from './support/aws-instance';
import { describeInteg, needsBinaries } from './support/binaries';
import { cli, command, sentinelReplicas } from './support/clients';
import { runCommand, waitFor } from './support/processes';
import { CacheCluster, ReplicationGroup } from '../../src/aws';
import { CacheEngine, ValkeyEngineVersion } from '../../src/core/engine';

/**
 * A reboot (or an EC2 automatic recovery) runs systemd again, not cloud-init: everything a node needs
 * after one must come from the units its first boot wrote. Each fleet boots from its synthesized
 * template (support/aws-instance.ts); then one instance reboots: every process of it is killed, its
 * data directory is unmounted (the mount point is an empty directory again), its /run and its kernel
 * settings are gone, and only what systemd runs at boot runs: systemd-sysctl, then every enabled
 * unit in the order of its After=/Requires=/Wants=/RequiresMountsFor= (the `systemd` and
 * `systemctl` stand-ins: a model of systemd that refuses a unit whose RequiresMountsFor= path is not
 * mounted, and mounts a .mount unit through the `mount` stand-in). No user data, no boot.sh.
 * Addresses 127.0.0.181-183 (a 1 + 2 group) and 127.0.0.186 (a single node).
 */

const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });
const APP = { username: 'app', password: APP_TOKEN };
const KEYS = 200;

const THP_FRESH = 'always [madvise] never\n';

function stateDir(slot: Slot): string {
  return path.join(slot.root, 'var/lib/cachefleet');
}

function read(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

/** The instance's kernel as a fresh boot has it, before anything applied cachefleet's settings. */
function freshKernel(slot: Slot): void {
  fs.writeFileSync(path.join(slot.root, 'proc/sys/vm/overcommit_memory'), '0\n');
  fs.writeFileSync(path.join(slot.root, 'proc/sys/net/core/somaxconn'), '128\n');
  fs.mkdirSync(path.join(slot.root, 'sys/kernel/mm/transparent_hugepage'), { recursive: true });
  fs.writeFileSync(path.join(slot.root, 'sys/kernel/mm/transparent_hugepage/enabled'), THP_FRESH);
}

/** The by-id device of the slot's data volume (the `aws` stand-in made it when it attached the volume). */
function volumeDevice(slot: Slot): string {
  return path.join(slot.root, 'dev/disk/by-id', `nvme-Amazon_Elastic_Block_Store_${slot.tags['cachefleet:volume-id'].replace(/-/g, '')}`);
}

/**
 * Boots the instance again, from what its disk holds: memory, /run and systemd's state are gone, the
 * data directory is an unmounted, empty mount point, the kernel has its defaults.
 */
async function systemdBoot(fleet: BootedFleet, slot: Slot) {
  // A boot follows a shutdown: nothing of the instance runs, a process of an earlier boot included.
  await endInstanceProcesses(slot);
  const dir = path.join(slot.root, 'systemctl');
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.state') || f.endsWith('.pid'))) fs.rmSync(path.join(dir, file));
  fs.rmSync(path.join(slot.root, 'run'), { recursive: true, force: true });
  const state = stateDir(slot);
  if (fs.lstatSync(state).isSymbolicLink()) {
    fs.unlinkSync(state);
    fs.mkdirSync(state);
  }
  freshKernel(slot);
  return runCommand(path.join(fleet.standin, 'bin', 'systemd'), [], {
    env: {
      PATH: `${path.join(fleet.standin, 'bin')}:${process.env.PATH}`,
      HOME: process.env.HOME,
      TMPDIR: os.tmpdir(),
      STANDIN: fleet.standin,
      CACHEFLEET_ROOT: slot.root,
      CACHEFLEET_PROC_DIR: path.join(slot.root, 'proc'),
    },
    timeoutMs: 180_000,
  });
}

function unitState(slot: Slot, unit: string): string {
  const file = path.join(slot.root, 'systemctl', `${unit}.state`);
  return fs.existsSync(file) ? read(file).trim() : 'inactive';
}

async function role(address: string): Promise<string> {
  const reply = await command(address, 6379, APP, 'ROLE') as unknown[];
  return String(reply[0]);
}

async function keysIntact(address: string): Promise<boolean> {
  for (const i of [1, KEYS / 2, KEYS]) {
    if (await command(address, 6379, APP, 'GET', `reboot:${i}`) !== `value-${i}`) return false;
  }
  return Number(await command(address, 6379, APP, 'DBSIZE')) >= KEYS;
}

/** The kernel settings the boot path made persistent, applied again on the instance. */
function expectKernelSettings(slot: Slot): void {
  const conf = read(path.join(slot.root, 'etc/sysctl.d/90-cachefleet.conf'));
  expect(conf).toMatch(/^vm\.overcommit_memory = 1$/m);
  const somaxconn = Number(/^net\.core\.somaxconn = (\d+)$/m.exec(conf)![1]);
  expect(somaxconn).toBeGreaterThanOrEqual(511);
  expect(read(path.join(slot.root, 'proc/sys/vm/overcommit_memory')).trim()).toBe('1');
  expect(Number(read(path.join(slot.root, 'proc/sys/net/core/somaxconn')))).toBe(somaxconn);
  expect(read(path.join(slot.root, 'sys/kernel/mm/transparent_hugepage/enabled')).trim()).toBe('never');
}

describeInteg('AWS flavor: a 1 + 2 group whose instances reboot', () => {
  needsBinaries(['valkey-server', 'valkey-cli', 'curl', 'python3', 'setsid', 'systemd-escape']);
  const addresses = ['127.0.0.181', '127.0.0.182', '127.0.0.183'];
  let fleet: BootedFleet;

  async function primaryBySentinels(): Promise<string> {
    for (const address of addresses) {
      const reply = await cli('valkey-cli', address, 26379, ['SENTINEL', 'get-master-addr-by-name', 'sessions'], { password: APP_TOKEN });
      if (reply.code === 0 && /^127\./.test(reply.stdout)) return reply.stdout.split('\n')[0];
    }
    return '';
  }

  async function expectReplicaInSync(address: string): Promise<void> {
    await waitFor(`${address} a replica in sync`, async () => (await role(address)) === 'slave'
      && /master_link_status:up/.test(String(await command(address, 6379, APP, 'INFO', 'replication'))), { timeoutMs: 30_000, intervalMs: 250 });
  }

  /** A slot that is a replica now (the failover of the primary's reboot may have promoted either). */
  async function replicaSlot(): Promise<{ slot: Slot; address: string }> {
    const primary = await primaryBySentinels();
    const index = [2, 1].find((i) => addresses[i] !== primary)!;
    return { slot: fleet.slot(`node-${index}`), address: addresses[index] };
  }

  beforeAll(async () => {
    fleet = new BootedFleet('reboot', (stack, vpc) => new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, replicasPerShard: 2, nodeAddressOffset: 181 }));
    await fleet.startMetadata();
    for (const slot of fleet.slots) await boot(fleet, slot);
    // The primary boots last: its replicas' links come up right after (min-replicas refuses writes until then).
    await waitFor('two replicas online', async () => (String(await command(addresses[0], 6379, APP, 'INFO', 'replication')).match(/state=online/g) ?? []).length === 2, { timeoutMs: 30_000 });
    for (let i = 1; i <= KEYS; i++) await command(addresses[0], 6379, APP, 'SET', `reboot:${i}`, `value-${i}`);
    await waitFor('the keys on both replicas', async () => (await keysIntact(addresses[1])) && (await keysIntact(addresses[2])), { timeoutMs: 20_000 });
  }, 600_000);

  afterAll(async () => fleet?.dispose(), 30_000);

  test('a replica reboots: systemd alone mounts its volume, applies its kernel settings and brings it back as a replica with its data', async () => {
    const slot = fleet.slot('node-1');
    const before = fleet.calls().length;
    await endInstanceProcesses(slot);
    const result = await systemdBoot(fleet, slot);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    await expectReplicaInSync(addresses[1]);
    expect(await keysIntact(addresses[1])).toBe(true);
    expectKernelSettings(slot);
    const calls = fleet.calls().slice(before).map((call) => call.replace(/ \[[^\]]+\]/, ''));
    // The mount came from the volume's unit, by its by-id device; nothing of the first boot ran again.
    expect(calls).toContainEqual(`mount -t xfs -o noatime ${volumeDevice(slot)} ${stateDir(slot)}`);
    expect(calls).toContainEqual(`xfs_growfs ${stateDir(slot)}`);
    expect(calls.filter((call) => /^(mkfs|dnf|docker pull|systemctl enable|systemctl daemon-reload)/.test(call))).toEqual([]);
    expect(fs.readFileSync(path.join(slot.root, 'opt/cachefleet/agent.env'), 'utf8')).toContain('CACHEFLEET_SLOT=node-1');
    expect(fs.lstatSync(stateDir(slot)).isSymbolicLink()).toBe(true);
  }, 120_000);

  test('the primary reboots: the sentinels fail over meanwhile, and it comes back as a replica of the new primary, with its data', async () => {
    const slot = fleet.slot('node-0');
    expect(await primaryBySentinels()).toBe(addresses[0]);
    // Sentinel promotes only a replica it knows in sync. node-1's sentinel restarted with its
    // reboot and learns the replicas again from the primary's INFO (every 10 s): the two sentinels
    // that remain must both know them before the primary goes, or the leader finds no good replica.
    for (const sentinel of addresses.slice(1)) {
      await waitFor(`sentinel ${sentinel} to know both replicas in sync`, async () => {
        const replicas = sentinelReplicas((await cli('valkey-cli', sentinel, 26379, ['SENTINEL', 'REPLICAS', 'sessions'], { password: APP_TOKEN })).stdout);
        return replicas.length === 2 && replicas.every((r) => r['master-link-status'] === 'ok' && r['master-link-down-time'] === '0');
      }, { timeoutMs: 30_000, intervalMs: 500 });
    }
    await endInstanceProcesses(slot);
    // The silence, then the vote of the two sentinels left; a split vote is retried after twice the
    // failover-timeout.
    const promoted = await withUnitLogs(fleet, () => waitFor('a new primary named by the sentinels', async () => {
      const ip = await primaryBySentinels();
      return ip && ip !== addresses[0] ? ip : undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 }));
    const result = await systemdBoot(fleet, slot);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    await expectReplicaInSync(addresses[0]);
    const info = String(await command(addresses[0], 6379, APP, 'INFO', 'replication'));
    expect(info).toContain(`master_host:${promoted}`);
    expect(await keysIntact(addresses[0])).toBe(true);
    // Its own sentinel, rebooted with it, learns the failover from its peers (their hello messages).
    await waitFor(`every sentinel to name ${promoted}`, async () => {
      const named = await Promise.all(addresses.map(async (address) =>
        (await cli('valkey-cli', address, 26379, ['SENTINEL', 'get-master-addr-by-name', 'sessions'], { password: APP_TOKEN })).stdout.split('\n')[0]));
      return named.every((ip) => ip === promoted);
    }, { timeoutMs: 30_000, intervalMs: 250 });
    expectKernelSettings(slot);
  }, 150_000);

  test('a volume grown since the last boot: the filesystem takes the new size at the next boot', async () => {
    const { slot, address } = await replicaSlot();
    const volume = slot.tags['cachefleet:volume-id'];
    // EC2 grew the volume (ModifyVolume) while the node ran: the device is larger, the filesystem not.
    fs.writeFileSync(path.join(fleet.standin, 'volumes', `${volume}.fs-size`), '20\n');
    fs.writeFileSync(path.join(fleet.standin, 'volumes', `${volume}.size`), '50\n');
    await endInstanceProcesses(slot);
    const result = await systemdBoot(fleet, slot);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(read(path.join(fleet.standin, 'volumes', `${volume}.fs-size`)).trim()).toBe('50');
    expect(unitState(slot, 'cachefleet-storage.service')).toBe('active');
    expect(unitState(slot, 'cachefleet-volume-check.service')).toBe('active');
    expect(await fleet.health(slot.instanceId!)).toMatch(/^healthy$/i);
    await expectReplicaInSync(address);
    expect(await keysIntact(address)).toBe(true);
  }, 120_000);

  test('a volume that does not come back: the engines do not start on the root disk; once it is there, the next boot heals the node', async () => {
    const { slot, address } = await replicaSlot();
    const device = volumeDevice(slot);
    const saved = read(device);
    await endInstanceProcesses(slot);
    fs.rmSync(device);
    const result = await systemdBoot(fleet, slot);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`the device ${device} did not appear`);
    expect(unitState(slot, 'cachefleet-redis.service')).toBe('failed');
    expect(unitState(slot, 'cachefleet-sentinel.service')).toBe('failed');
    // Nothing was written on the root disk's empty mount point, and no engine answers.
    expect(fs.readdirSync(stateDir(slot))).toEqual([]);
    await expect(command(address, 6379, APP, 'PING')).rejects.toThrow();
    // The kernel settings do not depend on the volume.
    expect(unitState(slot, 'cachefleet-kernel.service')).toBe('active');
    // A node without its data cannot serve: the group is told to replace the instance.
    expect(unitState(slot, 'cachefleet-volume-check.service')).toBe('failed');
    expect(await fleet.health(slot.instanceId!)).toMatch(/^unhealthy$/i);

    fs.writeFileSync(device, saved);
    const healed = await systemdBoot(fleet, slot);
    expect({ code: healed.code, stderr: healed.stderr }).toEqual({ code: 0, stderr: '' });
    await expectReplicaInSync(address);
    expect(await keysIntact(address)).toBe(true);
  }, 150_000);

  test('the units refuse an engine whose data directory is not mounted, whatever starts it (pre-start)', async () => {
    const { slot, address } = await replicaSlot();
    const unit = path.join(slot.root, 'etc/systemd/system/cachefleet-redis.service');
    const env = { PATH: `${path.join(fleet.standin, 'bin')}:${process.env.PATH}`, HOME: process.env.HOME, STANDIN: fleet.standin, CACHEFLEET_ROOT: slot.root, TMPDIR: os.tmpdir() };
    await endInstanceProcesses(slot);
    fs.unlinkSync(stateDir(slot));
    fs.mkdirSync(stateDir(slot));
    const result = await runCommand(path.join(fleet.standin, 'bin', 'run-unit'), [unit, 'ExecStartPre'], { env, timeoutMs: 30_000 });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('is not mounted: not starting redis without its data volume');
    const healed = await systemdBoot(fleet, slot);
    expect({ code: healed.code, stderr: healed.stderr }).toEqual({ code: 0, stderr: '' });
    await expectReplicaInSync(address);
  }, 120_000);
});

describeInteg('AWS flavor: a single Valkey node (CacheCluster) that reboots', () => {
  needsBinaries(['valkey-server', 'valkey-cli', 'curl', 'python3', 'setsid', 'systemd-escape']);
  const address = '127.0.0.186';
  let fleet: BootedFleet;

  beforeAll(async () => {
    fleet = new BootedFleet('reboot-single', (stack, vpc) => new CacheCluster(stack, 'Single', { vpc, engine: valkey, nodeAddressOffset: 186 }));
    await fleet.startMetadata();
    await boot(fleet, fleet.slots[0]);
  }, 180_000);

  afterAll(async () => fleet?.dispose(), 30_000);

  test('keeps its data: the same keys after the reboot, still the primary', async () => {
    const slot = fleet.slots[0];
    for (let i = 1; i <= KEYS; i++) await command(address, 6379, APP, 'SET', `reboot:${i}`, `value-${i}`);
    // Every write is in the append-only file (everysec): nothing left in the engine's buffer, no fsync pending.
    await waitFor('the append-only file to hold every write', async () => {
      const info = String(await command(address, 6379, APP, 'INFO', 'persistence'));
      return /aof_enabled:1\r\n/.test(info) && /aof_buffer_length:0\r\n/.test(info) && /aof_pending_bio_fsync:0\r\n/.test(info);
    }, { timeoutMs: 30_000, intervalMs: 100 });
    await endInstanceProcesses(slot);
    const result = await systemdBoot(fleet, slot);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    await waitFor('the node answers', async () => (await command(address, 6379, APP, 'PING').catch(() => '')) === 'PONG', { timeoutMs: 30_000 });
    expect(await role(address)).toBe('master');
    expect(await keysIntact(address)).toBe(true);
    expectKernelSettings(slot);
  }, 120_000);
});
