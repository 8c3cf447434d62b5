import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeBundleDirectory } from '../../src/aws/private/bundle';
import { FleetPlan, planFleet } from '../../src/core/topology';
import { validateReplicationGroupOptions } from '../../src/core/validation';
import { memcachedPlan, replicationGroupPlan, VALKEY_8_0 } from '../integ/support/plans';

/**
 * The systemd units the boot path writes (aws/units.sh, run as boot.sh runs it, from a real bundle
 * under a temporary root), checked by systemd's own `systemd-analyze verify`, and the dependencies
 * that make a reboot safe: the engines require the data volume's mount and start after the kernel
 * settings and the filesystem's growth.
 */

interface Written {
  readonly root: string;
  readonly dir: string;
  readonly enabled: string[];
  unit(name: string): string;
}

function writeUnits(plan: FleetPlan, slot: string, volumeId?: string): Written {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-units-'));
  const bundle = path.join(root, 'opt/cachefleet');
  fs.cpSync(writeBundleDirectory(plan), bundle, { recursive: true });
  fs.writeFileSync(path.join(bundle, 'agent.env'), 'CACHEFLEET_PLATFORM=aws\n');
  const dir = path.join(root, 'etc/systemd/system');
  const result = spawnSync(path.join(bundle, 'aws/units.sh'), [], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      CACHEFLEET_CONFIG_DIR: path.join(bundle, 'config'),
      CACHEFLEET_SLOT: slot,
      CACHEFLEET_STATE_DIR: path.join(root, 'var/lib/cachefleet'),
      CACHEFLEET_RUN_DIR: path.join(root, 'run/cachefleet'),
      CACHEFLEET_SYSTEMD_DIR: dir,
      CACHEFLEET_DEV_DIR: path.join(root, 'dev'),
      ...(volumeId ? { CACHEFLEET_VOLUME_ID: volumeId } : {}),
    },
  });
  if (result.status !== 0) throw new Error(`units.sh failed (${result.status}): ${result.stderr}`);
  return { root, dir, enabled: result.stdout.trim().split(' '), unit: (name) => fs.readFileSync(path.join(dir, name), 'utf8') };
}

/** `systemd-analyze verify` on every unit file written: its output names each problem it finds. */
function verify(written: Written) {
  const files = fs.readdirSync(written.dir).map((name) => path.join(written.dir, name));
  return spawnSync('systemd-analyze', ['verify', '--man=no', ...files], { encoding: 'utf8', env: { ...process.env, SYSTEMD_LOG_LEVEL: 'notice' } });
}

function directive(text: string, name: string): string[] {
  return [...text.matchAll(new RegExp(`^${name}=(.*)$`, 'gm'))].flatMap((match) => match[1].split(' '));
}

const written: Written[] = [];
afterAll(() => {
  for (const w of written) fs.rmSync(w.root, { recursive: true, force: true });
});

describe('the units of a data node (Valkey, primary with its sentinel)', () => {
  const plan = replicationGroupPlan('sessions', VALKEY_8_0.engine, ['10.0.0.10', '10.0.0.11', '10.0.0.12']);
  let w: Written;
  let mountUnit: string;
  beforeAll(() => {
    w = writeUnits(plan, 'node-0', 'vol-0123456789abcdef0');
    written.push(w);
    mountUnit = spawnSync('systemd-escape', ['--path', '--suffix=mount', path.join(w.root, 'var/lib/cachefleet')], { encoding: 'utf8' }).stdout.trim();
  });

  test('pass `systemd-analyze verify`', () => {
    const result = verify(w);
    expect({ status: result.status, output: `${result.stdout}${result.stderr}` }).toEqual({ status: 0, output: '' });
  });

  test('the check can fail: a unit whose name does not match its mount point is refused', () => {
    fs.copyFileSync(path.join(w.dir, mountUnit), path.join(w.dir, 'elsewhere.mount'));
    try {
      expect(verify(w).status).not.toBe(0);
    } finally {
      fs.rmSync(path.join(w.dir, 'elsewhere.mount'));
    }
  });

  test('the data volume mounts on its by-id path, as XFS, wanted by multi-user.target (a missing volume fails the engines, not the boot)', () => {
    const mount = w.unit(mountUnit);
    expect(directive(mount, 'What')).toEqual([path.join(w.root, 'dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0')]);
    expect(directive(mount, 'Where')).toEqual([path.join(w.root, 'var/lib/cachefleet')]);
    expect(directive(mount, 'Type')).toEqual(['xfs']);
    expect(directive(mount, 'Options').join(',')).not.toMatch(/nofail/);
    expect(directive(mount, 'WantedBy')).toEqual(['multi-user.target']);
  });

  test.each(['cachefleet-redis.service', 'cachefleet-sentinel.service'])('%s requires the state directory\'s mount, starts after the kernel settings and the growth, waits for the address', (name) => {
    const unit = w.unit(name);
    expect(directive(unit, 'RequiresMountsFor')).toEqual([path.join(w.root, 'var/lib/cachefleet')]);
    expect(directive(unit, 'After')).toEqual(expect.arrayContaining(['network-online.target', 'cachefleet-kernel.service', 'cachefleet-storage.service']));
    expect(directive(unit, 'Wants')).toEqual(expect.arrayContaining(['cachefleet-kernel.service', 'cachefleet-storage.service']));
    expect(directive(unit, 'ExecStartPre')).toEqual([path.join(w.root, 'opt/cachefleet/cachefleet-node'), 'pre-start', name.replace(/^cachefleet-|\.service$/g, '')]);
    // The wait for the address (at most 120 s) fits in the start timeout.
    expect(Number(directive(unit, 'TimeoutStartSec')[0])).toBeGreaterThan(120);
  });

  test('the kernel settings and the filesystem\'s growth run at every boot; the growth on the mounted volume', () => {
    expect(directive(w.unit('cachefleet-kernel.service'), 'ExecStart')).toEqual([path.join(w.root, 'opt/cachefleet/cachefleet-node'), 'prepare-kernel']);
    expect(directive(w.unit('cachefleet-kernel.service'), 'After')).toContain('systemd-sysctl.service');
    expect(directive(w.unit('cachefleet-storage.service'), 'ExecStart')).toEqual([path.join(w.root, 'opt/cachefleet/cachefleet-node'), 'grow-storage']);
    expect(directive(w.unit('cachefleet-storage.service'), 'RequiresMountsFor')).toEqual([path.join(w.root, 'var/lib/cachefleet')]);
  });

  test('every unit written is enabled, and each has an [Install] target', () => {
    const files = fs.readdirSync(w.dir).sort();
    // The failover and timer services run from their path unit and timers, not at boot.
    expect(files.filter((name) => !['cachefleet-metrics.service', 'cachefleet-reconcile.service', 'cachefleet-failover.service', 'cachefleet-backup.service'].includes(name)))
      .toEqual([...w.enabled].sort());
    for (const name of w.enabled) expect(directive(w.unit(name), 'WantedBy')).toHaveLength(1);
  });
});

describe('the units of a Memcached node', () => {
  const plan = memcachedPlan('pages', ['10.0.0.20', '10.0.0.21']);
  let w: Written;
  beforeAll(() => {
    w = writeUnits(plan, 'node-0');
    written.push(w);
  });

  test('pass `systemd-analyze verify`; no volume, no mount, the engine waits for the kernel settings and its address', () => {
    const result = verify(w);
    expect({ status: result.status, output: `${result.stdout}${result.stderr}` }).toEqual({ status: 0, output: '' });
    expect(fs.readdirSync(w.dir).filter((name) => name.endsWith('.mount') || name === 'cachefleet-storage.service')).toEqual([]);
    const unit = w.unit('cachefleet-memcached.service');
    expect(directive(unit, 'RequiresMountsFor')).toEqual([]);
    expect(directive(unit, 'After')).toEqual(expect.arrayContaining(['cachefleet-kernel.service']));
    expect(directive(unit, 'ExecStartPre')).toEqual([path.join(w.root, 'opt/cachefleet/cachefleet-node'), 'pre-start', 'memcached']);
  });
});

describe('scheduled backups', () => {
  function planWith(snapshotRetentionLimit: number): FleetPlan {
    const fleet = validateReplicationGroupOptions({ engine: VALKEY_8_0.engine, replicasPerShard: 2, snapshotRetentionLimit });
    return planFleet({ name: 'orders', fleet, zoneCount: 3, addressOf: (p) => `10.0.0.${10 + p.index}` });
  }

  test('each data node runs backup-if-due every 5 minutes, and the units verify', () => {
    const w = writeUnits(planWith(7), 'node-1', 'vol-0123456789abcdef1');
    written.push(w);
    expect(w.enabled).toContain('cachefleet-backup.timer');
    expect(directive(w.unit('cachefleet-backup.timer'), 'OnUnitActiveSec')).toEqual(['300']);
    expect(w.unit('cachefleet-backup.service')).toMatch(/^ExecStart=\S+\/cachefleet-node backup-if-due$/m);
    const result = verify(w);
    expect({ status: result.status, output: `${result.stdout}${result.stderr}` }).toEqual({ status: 0, output: '' });
  });

  test('without one too: a deploy that turns backups on reaches running nodes through the bundle alone', () => {
    const w = writeUnits(planWith(0), 'node-1', 'vol-0123456789abcdef1');
    written.push(w);
    expect(w.enabled).toContain('cachefleet-backup.timer');
  });
});
