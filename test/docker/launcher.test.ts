import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { bundleContainer, containersByName, dockerStack, synthJson } from './synth';
import { agentFile, agentScriptPath } from '../../src/core/agent-script';
import { CacheEngine, RedisEngineVersion } from '../../src/core/engine';
import { ReplicationGroup } from '../../src/docker';
import { CONTAINER_PATHS } from '../../src/docker/private/fleet';
import { terraformLiteral } from '../../src/docker/private/terraform';

/**
 * The launcher (src/agent/docker/launch.sh): the entrypoint of every container of a Docker fleet.
 * It runs under the images' /bin/sh (dash on the Debian-based official images), so it is checked as
 * a POSIX sh program.
 */

const AGENT_DIR = path.dirname(agentScriptPath());
const LAUNCHER = path.join(AGENT_DIR, 'docker', 'launch.sh');

describe('the Docker launcher', () => {
  test('every file under src/agent/docker is the launcher, and it passes shellcheck as a POSIX sh program', () => {
    expect(fs.readdirSync(path.join(AGENT_DIR, 'docker')).sort()).toEqual(['launch.sh']);
    const result = spawnSync('shellcheck', ['-s', 'sh', 'docker/launch.sh'], { cwd: AGENT_DIR, encoding: 'utf8' });
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  test('every container of a fleet uploads that file, as is, executable by everyone, as its entrypoint', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Sessions', { engine: CacheEngine.redis({ version: RedisEngineVersion.VER_7_2 }) });
    const json = synthJson(stack);
    const containers = Object.entries<any>(containersByName(json));
    expect(containers.map(([name]) => name)).toContain(bundleContainer(json, 'sessions').name);
    for (const [name, container] of containers) {
      expect([name, container.entrypoint]).toEqual([name, [CONTAINER_PATHS.launcher]]);
      expect([name, container.upload.find((u: any) => u.file === CONTAINER_PATHS.launcher)])
        .toEqual([name, { file: CONTAINER_PATHS.launcher, content: terraformLiteral(fs.readFileSync(LAUNCHER, 'utf8')), permissions: '0755' }]);
    }
    expect(agentFile('docker/launch.sh')).toBe(fs.readFileSync(LAUNCHER, 'utf8'));
  });
});

describe('the launcher\'s publish and take, on a directory standing for the fleet volume', () => {
  let root: string;
  let publisher: ChildProcess | undefined;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-launcher-'));
  });

  /**
   * Stops the publisher this test started, and its idle `sleep`: a process group of its own (in a
   * container the launcher is PID 1, and its end ends the rest).
   */
  const stopPublisher = async (): Promise<number | null> => {
    if (!publisher) return null;
    const running = publisher.exitCode === null && publisher.signalCode === null;
    const exited = running ? new Promise<number | null>((resolve) => publisher!.once('exit', (code) => resolve(code))) : Promise.resolve(publisher.exitCode);
    if (running) process.kill(publisher.pid!, 'SIGTERM');
    const code = await exited;
    try {
      process.kill(-publisher.pid!, 'SIGTERM');
    } catch {
      // The group is gone already.
    }
    publisher = undefined;
    return code;
  };

  afterEach(async () => {
    await stopPublisher();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const write = (dir: string, files: Record<string, string>) => {
    for (const [name, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), content);
    }
  };

  const until = async (what: string, check: () => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  test('publish copies the uploaded bundle as its generation and names it current; take links the node\'s config dir to a copy of it', async () => {
    const fleet = path.join(root, 'fleet');
    const source = path.join(root, 'source');
    fs.mkdirSync(fleet);
    write(source, { 'generation': 'g1\n', 'restart-key': 'k1\n', 'redis.conf': 'port 6379\n', 'slots/node-0.env': "CF_SLOT='node-0'\n" });
    publisher = spawn('sh', [LAUNCHER, 'publish'], {
      env: { PATH: process.env.PATH, CACHEFLEET_FLEET_DIR: fleet, CACHEFLEET_BUNDLE_SOURCE_DIR: source },
      stdio: 'ignore',
      detached: true,
    });
    await until('the first bundle', () => fs.existsSync(path.join(fleet, 'current')));
    expect(fs.readFileSync(path.join(fleet, 'current'), 'utf8')).toBe('g1\n');
    expect(fs.readFileSync(path.join(fleet, 'bundles', 'g1', 'redis.conf'), 'utf8')).toBe('port 6379\n');
    expect(fs.existsSync(path.join(fleet, 'roll.lock'))).toBe(true);
    expect(fs.existsSync(path.join(fleet, 'bundles', 'g1.partial'))).toBe(false);
    // It stays up (Terraform sees it running) until stopped; SIGTERM ends it at once, with status 0.
    expect(publisher.exitCode).toBeNull();
    expect(await stopPublisher()).toBe(0);

    const config = path.join(root, 'etc', 'cachefleet');
    fs.mkdirSync(path.dirname(config));
    const take = spawnSync('sh', [LAUNCHER, 'take'], {
      env: { PATH: process.env.PATH, CACHEFLEET_FLEET_DIR: fleet, CACHEFLEET_CONFIG_DIR: config, CACHEFLEET_SLOT: 'node-0' },
      encoding: 'utf8',
    });
    expect(take.stderr).toContain('runs bundle g1');
    expect(take.status).toBe(0);
    expect(fs.readlinkSync(config)).toBe(`${config}.d/g1`);
    expect(fs.readFileSync(path.join(config, 'redis.conf'), 'utf8')).toBe('port 6379\n');
  });

  test('take waits for a bundle that has the node\'s slot: a node an apply adds may start before the new bundle is published', async () => {
    // GIVEN the bundle of before the apply, without node-3, as current
    const fleet = path.join(root, 'fleet');
    write(fleet, { 'current': 'g1\n', 'bundles/g1/generation': 'g1\n', 'bundles/g1/slots/node-0.env': "CF_SLOT='node-0'\n" });
    const config = path.join(root, 'etc', 'cachefleet');
    fs.mkdirSync(path.dirname(config));
    const take = spawn('sh', [LAUNCHER, 'take'], {
      env: { PATH: process.env.PATH, CACHEFLEET_FLEET_DIR: fleet, CACHEFLEET_CONFIG_DIR: config, CACHEFLEET_SLOT: 'node-3', CACHEFLEET_PUBLISH_WAIT: '20' },
      stdio: 'ignore',
    });
    const status = new Promise<number | null>((resolve) => take.once('exit', (code) => resolve(code)));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(take.exitCode).toBeNull();

    // WHEN the new bundle, with node-3, is published
    write(fleet, { 'bundles/g2/generation': 'g2\n', 'bundles/g2/slots/node-3.env': "CF_SLOT='node-3'\n" });
    fs.writeFileSync(path.join(fleet, 'current'), 'g2\n');

    // THEN the node takes it
    expect(await status).toBe(0);
    expect(fs.readlinkSync(config)).toBe(`${config}.d/g2`);
  });

  test('take waits for a first bundle no longer than CACHEFLEET_PUBLISH_WAIT, then fails naming the bundle container', () => {
    const fleet = path.join(root, 'fleet');
    fs.mkdirSync(fleet);
    const take = spawnSync('sh', [LAUNCHER, 'take'], {
      env: { PATH: process.env.PATH, CACHEFLEET_FLEET_DIR: fleet, CACHEFLEET_CONFIG_DIR: path.join(root, 'etc', 'cachefleet'), CACHEFLEET_PUBLISH_WAIT: '1', CACHEFLEET_SLOT: 'node-0' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(take.status).toBe(1);
    expect(take.stderr).toContain('bundle container');
  });
});
