import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { REGION } from './support/aws-emulator';
import { APP_TOKEN, boot, BootedFleet, Slot, withUnitLogs } from './support/aws-instance';
import { describeInteg, needsBinaries } from './support/binaries';
import { connect, Credentials } from './support/clients';
import { datasetDifferences, datasetOf, KeyState, writeDataset } from './support/dataset';
import { runCommand, waitFor } from './support/processes';
import { BackupSource, CacheCluster, ReplicationGroup } from '../../src/aws';
import { CacheEngine, ValkeyEngineVersion } from '../../src/core/engine';

/**
 * Backups and restore of the AWS flavor, booted from the synthesized templates (support/aws-instance.ts)
 * in one account (moto behind the strict layer, through the real AWS CLI): a 1 + 1 Valkey 8.0
 * ReplicationGroup with a retention backs up to the bucket the template creates when its on-demand
 * document runs on its instances; a second group whose `restoreFrom` names that set (the bucket
 * imported by name) boots with every key; a restore from a set that does not exist fails the boot.
 * Subnet 127.0.10.0/24: the source group from host 100 (node-0 .100, node-1 .101, sentinel-0 .106),
 * the restored group from host 110 (the same layout), the failing node on .120; moto gives the
 * instances' own addresses from .4 up.
 */

const SUBNET = '127.0.10.0/24';
const PORT = 6379;
const KEYS = 20_000;
const SET = 'before-move';
const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });
const APP: Credentials = { username: 'app', password: APP_TOKEN };

/** A slot's fixed address: its interface's, in the account. */
async function addressOf(fleet: BootedFleet, slot: Slot): Promise<string> {
  const eni = (await fleet.aws.api('ec2', 'describe_network_interfaces', { NetworkInterfaceIds: [slot.tags['cachefleet:interface-id']] })).NetworkInterfaces[0];
  return eni.PrivateIpAddress;
}

/** `s3://<bucket>/<key>` split. */
function s3Parts(url: string): { bucket: string; key: string } {
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.*)$/.exec(url)!;
  return { bucket, key };
}

describeInteg('AWS flavor: backups to the fleet\'s bucket and a restore from them (Valkey 8.0, 1 + 1)', () => {
  needsBinaries(['valkey-server', 'valkey-cli', 'curl', 'python3', 'setsid', 'sha256sum', 'aws', 'moto_server']);
  const fleets: BootedFleet[] = [];
  let source: BootedFleet;
  let location: string;
  let before: Map<string, KeyState>;
  let dir: string;

  /** An object of the account, read from moto directly (what the account's owner sees), as bytes. */
  async function objectBytes(url: string): Promise<Buffer> {
    const file = path.join(dir, `object-${createHash('sha256').update(url).digest('hex').slice(0, 12)}`);
    const copied = await runCommand('aws', ['s3', 'cp', '--only-show-errors', url, file], {
      env: {
        PATH: process.env.PATH, HOME: process.env.HOME, AWS_DEFAULT_REGION: REGION, ...source.aws.cliEnv(), AWS_ENDPOINT_URL: source.aws.motoUrl,
      },
      timeoutMs: 60_000,
    });
    if (copied.code !== 0) throw new Error(`aws s3 cp ${url}: ${copied.stderr}`);
    return fs.readFileSync(file);
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-aws-backup-'));
    source = new BootedFleet('backup-source', (stack, vpc) => new ReplicationGroup(stack, 'Carts', {
      vpc, engine: valkey, replicasPerShard: 1, snapshotRetentionLimit: 7, nodeAddressOffset: 100,
    }), { subnetCidr: SUBNET });
    fleets.push(source);
    await source.start();
    for (const slot of source.slots) await boot(source, slot);
    // Where the backups live: under the fleet's name (the construct id in kebab case) in the bucket the template created.
    location = `s3://${source.physicalIdOf('AWS::S3::Bucket')}/carts`;
    const primary = await addressOf(source, source.slot('node-0'));
    const client = await connect(primary, PORT, APP, 2_000);
    client.options.commandTimeout = 60_000;
    try {
      await writeDataset(client, KEYS);
      // Every write on the replica the backup streams from.
      expect(await client.call('WAIT', 1, 30_000)).toBe(1);
    } finally {
      client.disconnect();
    }
    before = await datasetOf(primary, PORT, APP);
    expect(before.size).toBe(KEYS);
  }, 900_000);

  afterAll(async () => {
    // The fleets in the source's account first: the source's dispose stops the account.
    for (const fleet of [...fleets].reverse()) await fleet.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  test('the backup document, sent to every instance at once, takes one set: the replica\'s RDB and a manifest that matches it', async () => {
    // SSM refuses a name outside the document's pattern before any instance runs it.
    await expect(source.runDocument(source.slot('node-0'), { BackupName: 'x; rm -rf /' })).rejects.toThrow(/InvalidParameters/);

    // The document's command (systemd-run with the units' environment file, the `systemd-run`
    // stand-in of support/aws-standins) on each instance, as Run Command sends it to the fleet's tag.
    const results = await withUnitLogs(source, () => Promise.all(source.slots.map((slot) => source.runDocument(slot, { BackupName: SET }, 300_000))));
    expect(results.map((result, i) => ({ slot: source.slots[i].name, code: result.code, stderr: result.code === 0 ? '' : result.stderr })))
      .toEqual(source.slots.map((slot) => ({ slot: slot.name, code: 0, stderr: '' })));
    // One data node took the set; the other found it taken, the sentinel-only slot has no data.
    expect(results.map((result) => result.stdout.trim()).filter((out) => out !== '')).toEqual([`${location}/${SET}`]);

    const { bucket, key: prefix } = s3Parts(location);
    const listed = (await source.aws.api('s3', 'list_objects_v2', { Bucket: bucket, Prefix: `${prefix}/` })).Contents ?? [];
    expect(listed.map((object: { Key: string }) => object.Key).sort()).toEqual([`${prefix}/${SET}/lock`, `${prefix}/${SET}/shard-0.json`, `${prefix}/${SET}/shard-0.rdb`]);

    const rdb = await objectBytes(`${location}/${SET}/shard-0.rdb`);
    const manifest = JSON.parse((await objectBytes(`${location}/${SET}/shard-0.json`)).toString('utf8'));
    expect(rdb.subarray(0, 5).toString('latin1')).toBe('REDIS');
    expect(manifest).toEqual(expect.objectContaining({
      fleet: 'carts',
      set: SET,
      engine: 'valkey',
      shards: 1,
      shard: 0,
      keys: KEYS,
      size: rdb.length,
      sha256: createHash('sha256').update(rdb).digest('hex'),
      sourceRole: 'replica',
      sourceNode: `${await addressOf(source, source.slot('node-1'))}:${PORT}`,
    }));
  }, 600_000);

  test('a new group restored from the set (the bucket imported by name) holds every key, value and expiry; its replica copies it', async () => {
    const { bucket, key: prefix } = s3Parts(location);
    // Every process of the source gone: the new group's data can only come from the bucket.
    for (const slot of source.slots) await source.terminate(slot, undefined, 'running');
    const restored = new BootedFleet('backup-restored', (stack, vpc) => new ReplicationGroup(stack, 'RestoredCarts', {
      vpc,
      engine: valkey,
      replicasPerShard: 1,
      nodeAddressOffset: 110,
      restoreFrom: BackupSource.fromS3(s3.Bucket.fromBucketName(stack, 'CartsBackups', bucket), `${prefix}/${SET}`),
    }), { sameAccountAs: source, stackName: 'RestoreTest' });
    fleets.push(restored);
    await restored.start();
    for (const slot of restored.slots) await boot(restored, slot);
    for (const slot of restored.slots) {
      expect(restored.signals(slot).map((signal) => [signal.status, signal.uniqueId, signal.accepted])).toEqual([['SUCCESS', slot.instanceId, true]]);
    }

    const primary = await addressOf(restored, restored.slot('node-0'));
    expect(primary).toBe('127.0.10.110');
    expect(datasetDifferences(before, await datasetOf(primary, PORT, APP), 2_000)).toEqual([]);
    const replica = await addressOf(restored, restored.slot('node-1'));
    await withUnitLogs(restored, () => waitFor(`${replica} holds the ${KEYS} keys`, async () => {
      const client = await connect(replica, PORT, APP, 2_000);
      try {
        return (await client.dbsize()) === KEYS || undefined;
      } finally {
        client.disconnect();
      }
    }, { timeoutMs: 60_000, intervalMs: 500 }));
    expect(datasetDifferences(before, await datasetOf(replica, PORT, APP), 2_000)).toEqual([]);
  }, 900_000);

  test('a restore from a set that does not exist fails the boot: a FAILURE signal, the instance Unhealthy, the object named, no engine serving', async () => {
    const { bucket, key: prefix } = s3Parts(location);
    const missing = new BootedFleet('backup-missing', (stack, vpc) => new CacheCluster(stack, 'Empty', {
      vpc,
      engine: valkey,
      nodeAddressOffset: 120,
      restoreFrom: BackupSource.fromS3(s3.Bucket.fromBucketName(stack, 'CartsBackups', bucket), `${prefix}/no-such-set`),
    }), { sameAccountAs: source, stackName: 'MissingTest' });
    fleets.push(missing);
    await missing.start();
    const slot = missing.slots[0];
    const result = await missing.launch(slot);
    expect(result.code).not.toBe(0);
    // The engine's unit refused to start it and said which object is missing (its journal).
    const journal = fs.readFileSync(path.join(slot.root, 'systemctl', 'cachefleet-redis.service.log'), 'utf8');
    expect(journal).toContain(`${location}/no-such-set/shard-0.json`);
    expect(missing.signals(slot).map((signal) => [signal.status, signal.uniqueId, signal.accepted])).toEqual([['FAILURE', slot.instanceId, true]]);
    expect(await missing.health(slot.instanceId!)).toMatch(/^unhealthy$/i);
    // Not started empty: nothing answers on the node's address.
    await expect(connect(await addressOf(missing, slot), PORT, APP, 1_000).then((client) => client.disconnect())).rejects.toThrow();
  }, 600_000);
});
