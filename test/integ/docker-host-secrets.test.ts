import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { describeInteg, needsBinaries } from './support/binaries';
import { auth, command, infoFields } from './support/clients';
import { allHealthy, primaryBySentinels, sentinelsSettled } from './support/docker-group';
import { loopbackAddresses } from './support/plans';
import { waitFor } from './support/processes';
import { TerraformContainers } from './support/terraform-json';
import { CacheEngine, RedisEngineVersion } from '../../src/core/engine';
import { INTERNAL_USERS } from '../../src/core/validation';
import { ReplicationGroup } from '../../src/docker';
import { dockerStack } from '../docker/synth';

/**
 * A Docker fleet whose passwords are files of a host directory (`secretsHostPath`), not Terraform
 * values: the configuration is applied with no variable at all (the strict resolver refuses any it
 * is not given), each container mounts the directory (support/terraform-json.ts links it to the
 * test's directory, root's alone as the README asks), and its agent takes the passwords at start.
 * Rotation is the README's: new files, then every container stopped (SIGTERM, the grace) and started.
 * Addresses 127.0.0.231-235, the five containers in the JSON's order (test/integ/README.md).
 */
jest.setTimeout(240_000);

const HOST_DIR = '/etc/cachefleet/orders';
const OLD = { app: 'Orders-Old_Token-1234', admin: 'Orders-Old_Admin-1234' };
const NEW = { app: 'Orders-New_Token-5678', admin: 'Orders-New_Admin-5678' };
const KEYS = 100;

function synthesize(): string {
  const stack = dockerStack();
  new ReplicationGroup(stack, 'Orders', { engine: CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 }), publishPorts: false, secretsHostPath: HOST_DIR });
  return Testing.synth(stack);
}

/** The internal password as Terraform derives it when the passwords are variables. */
function derivedInternal(token: string): string {
  return createHash('sha256').update(`${token}:cachefleet-internal`).digest('hex');
}

describeInteg('Docker flavor: passwords from a host directory (secretsHostPath)', () => {
  needsBinaries(['redis-server', 'redis-cli', 'sha256sum']);
  const json = synthesize();
  let fleet: TerraformContainers;
  let secrets: string;
  const dataNodes = () => fleet.labelled('cachefleet.service', 'redis');
  const sentinels = () => fleet.labelled('cachefleet.service', 'sentinel');
  const app = (password: string) => ({ username: 'app', password });

  function writeSecrets(values: { app: string; admin: string }): void {
    fs.writeFileSync(path.join(secrets, 'app-password'), `${values.app}\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(secrets, 'admin-password'), `${values.admin}\n`, { mode: 0o600 });
  }

  /** The host directory's files, as the fleet must leave them: content and mode. */
  function hostFiles(): Record<string, string> {
    return Object.fromEntries(fs.readdirSync(secrets).sort().map((name) => {
      const file = path.join(secrets, name);
      return [name, `${(fs.statSync(file).mode % 0o1000).toString(8)} ${fs.readFileSync(file, 'utf8')}`];
    }));
  }


  /** `docker stop` of every container of the fleet (SIGTERM, the grace), then `docker start` of each. */
  async function restartAll(): Promise<void> {
    await fleet.stopAll(45_000);
    for (const container of fleet.containers) fleet.start(container.name);
  }

  beforeAll(async () => {
    secrets = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-host-secrets-dir-'));
    fs.chmodSync(secrets, 0o700);
    writeSecrets(OLD);
    fleet = TerraformContainers.prepare(json, { variables: {}, hostPaths: { [HOST_DIR]: secrets } }, loopbackAddresses(231, 5), 'host-secrets');
    for (const container of fleet.containers) fleet.start(container.name);
    await allHealthy(fleet);
    await sentinelsSettled(fleet, 'orders', OLD.app, 1);
  });

  afterAll(async () => {
    await fleet?.dispose();
    if (secrets) fs.rmSync(secrets, { recursive: true, force: true });
  });

  test('the fleet runs with no password in Terraform: the nodes take the files, derive the internal password as Terraform would, and leave the files as they were', async () => {
    expect(json).not.toContain(OLD.app);
    const before = hostFiles();
    const primary = await primaryBySentinels(fleet, 'orders', OLD.app);
    for (let i = 1; i <= KEYS; i++) await command(primary, 6379, app(OLD.app), 'SET', `order:${i}`, `value-${i}`);
    expect(Number(await command(primary, 6379, app(OLD.app), 'WAIT', 1, 5_000))).toBe(1);
    for (const node of dataNodes()) {
      // cachefleet's own users take the password derived from the AUTH token.
      await expect(auth(node.address, 6379, derivedInternal(OLD.app), INTERNAL_USERS.replication)).resolves.toBe('OK');
      await expect(auth(node.address, 6379, OLD.admin, INTERNAL_USERS.admin)).resolves.toBe('OK');
    }
    // The agents only read the host's directory: no file of it changed, none was added.
    expect(hostFiles()).toEqual(before);
  });

  test('rotation: new files, every container stopped and started; the new passwords work everywhere, the old ones nowhere; data kept; Sentinel fails over', async () => {
    writeSecrets(NEW);
    await restartAll();
    await allHealthy(fleet);
    await sentinelsSettled(fleet, 'orders', NEW.app, 1);
    for (const node of dataNodes()) {
      await waitFor(`${node.name} to hold every key`, async () => Number(await command(node.address, 6379, app(NEW.app), 'DBSIZE')) === KEYS, { timeoutMs: 30_000 });
      await expect(auth(node.address, 6379, OLD.app, 'app')).rejects.toThrow(/WRONGPASS/);
      await expect(auth(node.address, 6379, OLD.admin, INTERNAL_USERS.admin)).rejects.toThrow(/WRONGPASS/);
      await expect(auth(node.address, 6379, derivedInternal(NEW.app), INTERNAL_USERS.replication)).resolves.toBe('OK');
    }
    for (const sentinel of sentinels()) {
      await expect(auth(sentinel.address, 26379, OLD.app)).rejects.toThrow(/WRONGPASS|invalid/i);
      await expect(auth(sentinel.address, 26379, NEW.app)).resolves.toBe('OK');
    }
    const before = await primaryBySentinels(fleet, 'orders', NEW.app);
    // A sentinel refuses (NOGOODSLAVE) until its last look at the replicas is recent enough: ask
    // again; INPROG is an answer too (a failover already started, maybe by an earlier ask).
    await waitFor('a sentinel to start a failover', async () =>
      (await command(sentinels()[0].address, 26379, { username: INTERNAL_USERS.admin, password: NEW.admin }, 'SENTINEL', 'FAILOVER', 'orders')
        .catch((error: Error) => (/INPROG/.test(error.message) ? 'OK' : Promise.reject(error)))) === 'OK', { timeoutMs: 30_000, intervalMs: 500 });
    const after = await waitFor('the sentinels to name another primary', async () => {
      const named = await primaryBySentinels(fleet, 'orders', NEW.app).catch(() => undefined);
      return named && named !== before ? named : undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    await waitFor(`${after} to be the primary of its replica`, async () => {
      const info = infoFields(String(await command(after, 6379, app(NEW.app), 'INFO', 'replication')));
      return info.role === 'master' && info.connected_slaves === '1';
    }, { timeoutMs: 60_000, intervalMs: 250 });
  });

  test('a file that breaks the rule stops the container at start, naming the file; nothing of it reaches the engine', async () => {
    const sentinel = sentinels()[2];
    fs.writeFileSync(path.join(secrets, 'app-password'), 'has a space in it, too long anyway\n', { mode: 0o600 });
    await fleet.stop(sentinel.name, 45_000);
    const started = fleet.start(sentinel.name);
    await waitFor(`${sentinel.name} to exit`, () => !started.running, { timeoutMs: 30_000 });
    expect(started.status).not.toBe(0);
    // The refusal names the file.
    expect(started.log()).toContain(`${path.join(sentinel.root, '/run/cachefleet/host-secrets')}/app-password`);
    await expect(auth(sentinel.address, 26379, NEW.app)).rejects.toThrow();
    writeSecrets(NEW);
    fleet.start(sentinel.name);
    await waitFor(`${sentinel.name}'s health check`, async () => (await fleet.health(sentinel.name)).code === 0, { timeoutMs: 60_000, intervalMs: 250 });
    await expect(auth(sentinel.address, 26379, NEW.app)).resolves.toBe('OK');
  });
});
