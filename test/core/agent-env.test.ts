import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NODE_SCRIPTS } from '../../src/aws/private/boot-scripts';
import { bundleFiles, BUNDLE_CONFIG_DIR } from '../../src/aws/private/bundle';
import { agentScript, agentScriptPath } from '../../src/core/agent-script';
import { CacheEngine, MemcachedEngineVersion, RedisEngineVersion, ValkeyEngineVersion } from '../../src/core/engine';
import { ClusterMode } from '../../src/core/fleet-options';
import { NODE_OPEN_FILES, renderBundle, slotEnvPath } from '../../src/core/render';
import { FleetPlan, planFleet } from '../../src/core/topology';
import { AUTH_TOKEN_RULE, validateCacheClusterOptions, validateReplicationGroupOptions } from '../../src/core/validation';
import { DOCKER_DEFAULTS } from '../../src/docker/private/fleet';

/**
 * The node agent and its bundle: every value the agent reads comes from the bundle, a bundle that
 * lacks one is refused by name, and every password follows AUTH_TOKEN_RULE as the bundle states it.
 */

const REDIS = CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 });
const VALKEY = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });
const MEMCACHED = CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 });
const AGENT_DIR = path.dirname(agentScriptPath());

function addressOf(position: { hostNumber: number }): string {
  return `10.0.0.${10 + position.hostNumber}`;
}

/** The plans of both flavors: the AWS flavor's sentinels beside the data nodes, the Docker flavor's in slots of their own. */
function plans(dedicatedSentinels: boolean): Record<string, FleetPlan> {
  const zoneCount = dedicatedSentinels ? 1 : 3;
  return {
    'a Redis replication group with Sentinel': planFleet({
      name: 'sessions', fleet: validateReplicationGroupOptions({ engine: REDIS, replicasPerShard: 2 }), zoneCount, addressOf, dedicatedSentinels,
    }),
    'a Redis replication group without Sentinel': planFleet({
      name: 'lone', fleet: validateReplicationGroupOptions({ engine: REDIS, replicasPerShard: 0 }), zoneCount, addressOf, dedicatedSentinels,
    }),
    'a Valkey replication group': planFleet({
      name: 'carts', fleet: validateReplicationGroupOptions({ engine: VALKEY, replicasPerShard: 1 }), zoneCount, addressOf, dedicatedSentinels,
    }),
    'a Valkey node': planFleet({ name: 'one', fleet: validateCacheClusterOptions({ engine: VALKEY, numCacheNodes: 1 }), zoneCount: 1, addressOf }),
    'a Memcached set': planFleet({ name: 'pages', fleet: validateCacheClusterOptions({ engine: MEMCACHED, numCacheNodes: 2 }), zoneCount, addressOf }),
    'a Valkey cluster-mode group': clusterMode(zoneCount),
  };
}

/** 3 shards × (1 primary + 1 replica), with cluster mode. */
function clusterMode(zoneCount = 3): FleetPlan {
  return planFleet({
    name: 'shards', fleet: validateReplicationGroupOptions({ engine: VALKEY, clusterMode: ClusterMode.ENABLED, shards: 3, replicasPerShard: 1 }), zoneCount, addressOf,
  });
}

/** The bundle as each flavor ships it: its programs, and the rendered files by path below its configuration directory. */
function flavorBundles(): Array<[string, string, { programs: string[]; config: Record<string, string> }]> {
  const rows: Array<[string, string, { programs: string[]; config: Record<string, string> }]> = [];
  for (const [what, plan] of Object.entries(plans(false))) {
    const files = bundleFiles(plan);
    const config = Object.fromEntries(Object.entries(files).filter(([name]) => name.startsWith(`${BUNDLE_CONFIG_DIR}/`))
      .map(([name, text]) => [name.slice(BUNDLE_CONFIG_DIR.length + 1), text]));
    rows.push(['aws', what, { programs: [files['cachefleet-node'], ...NODE_SCRIPTS.map((name) => files[name])], config }]);
  }
  for (const [what, plan] of Object.entries(plans(true))) {
    // The Docker flavor's bundle container publishes the rendered files with the shipped agent.
    rows.push(['docker', what, { programs: [agentScript()], config: renderBundle(plan) }]);
  }
  return rows;
}

/** The CF_* names a program's text reads (its comments' `CF_TOKEN_*`, a pattern, aside). */
function variablesRead(text: string): Set<string> {
  return new Set([...text.matchAll(/\bCF_[A-Z][A-Z_]*[A-Z]\b/g)].map((match) => match[0]));
}

/** The names a .env file of the bundle sets. */
function variablesSet(text: string): Set<string> {
  return new Set([...text.matchAll(/^(CF_[A-Z_]+)=/gm)].map((match) => match[1]));
}

describe('every CF_* variable the agent and the node scripts read is in the bundle', () => {
  test.each(flavorBundles())('%s: %s', (_flavor, _what, bundle) => {
    // GIVEN
    const read = new Set(bundle.programs.flatMap((text) => [...variablesRead(text)]));
    const slotFiles = Object.keys(bundle.config).filter((name) => name.startsWith('slots/'));
    expect(slotFiles.length).toBeGreaterThan(0);

    // WHEN / THEN: what fleet.env and each slot's file set together covers every name read
    for (const slotFile of slotFiles) {
      const set = new Set([...variablesSet(bundle.config['fleet.env']), ...variablesSet(bundle.config[slotFile])]);
      expect({ slotFile, missing: [...read].filter((name) => !set.has(name)).sort() }).toEqual({ slotFile, missing: [] });
    }
    // The test would prove nothing if the grep found nothing.
    expect(read).toContain('CF_RESERVED_MEMORY_PERCENT');
    expect(read).toContain('CF_TOKEN_CHARACTERS');
  });
});

/** A temporary node: the bundle in config/ with the shipped agent, the secrets, the state and run directories. */
class Node {
  public readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-agent-env-'));
  public readonly config = path.join(this.root, 'config');
  public readonly secrets = path.join(this.root, 'secrets');

  constructor(public readonly plan: FleetPlan, secrets: Record<string, string> = VALID_SECRETS) {
    for (const [name, text] of Object.entries({ ...renderBundle(plan), 'cachefleet-node': agentScript() })) {
      fs.mkdirSync(path.dirname(path.join(this.config, name)), { recursive: true });
      fs.writeFileSync(path.join(this.config, name), text, { mode: name === 'cachefleet-node' ? 0o755 : 0o644 });
    }
    this.writeSecrets(this.secrets, secrets);
  }

  public writeSecrets(dir: string, secrets: Record<string, string>): void {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const [name, value] of Object.entries(secrets)) fs.writeFileSync(path.join(dir, name), value, { mode: 0o600 });
  }

  /** Runs the shipped agent on the plan's first slot, with the local platform unless `env` says otherwise. */
  public agent(args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
    return spawnSync(path.join(this.config, 'cachefleet-node'), args, {
      encoding: 'utf8',
      timeout: 30_000,
      env: {
        PATH: process.env.PATH,
        TMPDIR: this.root,
        CACHEFLEET_PLATFORM: 'local',
        CACHEFLEET_SLOT: this.plan.slots[0].name,
        CACHEFLEET_CONFIG_DIR: this.config,
        CACHEFLEET_STATE_DIR: path.join(this.root, 'state'),
        CACHEFLEET_RUN_DIR: path.join(this.root, 'run'),
        CACHEFLEET_SECRETS_DIR: this.secrets,
        CACHEFLEET_MEMORY_BYTES: String(256 * 1024 * 1024),
        ...env,
      },
    });
  }

  /** Rewrites a bundle file without the line that sets `name`. */
  public unset(file: string, name: string): void {
    const full = path.join(this.config, file);
    const text = fs.readFileSync(full, 'utf8');
    const without = text.split('\n').filter((line) => !line.startsWith(`${name}=`)).join('\n');
    expect(without).not.toBe(text);
    fs.writeFileSync(full, without);
  }

  public dispose(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

const VALID_SECRETS = {
  'app-password': 'App&Token|$HOME-1234',
  'internal-password': 'internal-Pass_5678-abcd',
  'admin-password': 'admin-Pass_9012-efgh',
};

function standalone(): FleetPlan {
  return planFleet({ name: 'one', fleet: validateCacheClusterOptions({ engine: REDIS, numCacheNodes: 1 }), zoneCount: 1, addressOf });
}

describe('a bundle that lacks a variable is refused, naming it', () => {
  const names = (file: string) => [...variablesSet(renderBundle(standalone())[file])];

  test('GIVEN the whole bundle THEN configure succeeds (the control)', () => {
    const node = new Node(standalone());
    try {
      const result = node.agent(['configure', 'redis']);
      expect({ code: result.status, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      expect(fs.existsSync(path.join(node.root, 'run', 'redis-node.conf'))).toBe(true);
    } finally {
      node.dispose();
    }
  });

  test('GIVEN a cluster-mode bundle THEN configure succeeds and leaves the role to the cluster (no replicaof)', () => {
    const node = new Node(clusterMode());
    try {
      const result = node.agent(['configure', 'redis']);
      expect({ code: result.status, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      const nodeConf = fs.readFileSync(path.join(node.root, 'run', 'redis-node.conf'), 'utf8');
      expect(nodeConf).toContain(`cluster-config-file "${path.join(node.root, 'state', 'redis', 'data', 'nodes.conf')}"`);
      expect(nodeConf).not.toMatch(/^replicaof /m);
    } finally {
      node.dispose();
    }
  });

  test.each([
    ...names('fleet.env').map((name) => ['fleet.env', name]),
    ...names(slotEnvPath('node-0')).map((name) => [slotEnvPath('node-0'), name]),
  ])('%s without %s', (file, name) => {
    // GIVEN
    const node = new Node(standalone());
    try {
      node.unset(file, name);

      // WHEN: an inherited value of the same name stands in for nothing
      const result = node.agent(['configure', 'redis'], { [name]: 'inherited' });

      // THEN
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`${path.join(node.config, file)} sets no ${name} `);
      expect(fs.existsSync(path.join(node.root, 'run', 'redis-node.conf'))).toBe(false);
    } finally {
      node.dispose();
    }
  });
});

describe('every password follows AUTH_TOKEN_RULE, as the bundle states it', () => {
  const short = 'Short-Token-123'; // 15 characters
  const spaced = 'has a space-0123456789';
  const at = 'user@example-0123456789';
  const long = 'x'.repeat(AUTH_TOKEN_RULE.maxLength + 1);
  const accented = 'Café-Token-0123456789';

  test.each([
    ['app-password', short, 'has 15 characters'],
    ['app-password', spaced, 'holds another character'],
    ['internal-password', at, 'holds another character'],
    ['admin-password', long, `has ${AUTH_TOKEN_RULE.maxLength + 1} characters`],
    ['admin-password', accented, 'holds another character'],
  ])('GIVEN %s %j THEN configure refuses it, naming the secret, never printing it', (secret, value, why) => {
    const node = new Node(standalone(), { ...VALID_SECRETS, [secret]: value });
    try {
      const result = node.agent(['configure', 'redis']);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`the secret ${secret} (${path.join(node.secrets, secret)}) must be ${AUTH_TOKEN_RULE.allowed}: it ${why}`);
      expect(result.stderr + result.stdout).not.toContain(value);
      expect(fs.existsSync(path.join(node.root, 'run', 'redis-node.conf'))).toBe(false);
    } finally {
      node.dispose();
    }
  });

  test('GIVEN the Docker host\'s secrets (secretsHostPath) THEN the same rule applies to them', () => {
    const node = new Node(standalone(), {});
    try {
      const host = path.join(node.root, 'host-secrets');
      node.writeSecrets(host, { 'app-password': short, 'admin-password': VALID_SECRETS['admin-password'] });
      const env = { CACHEFLEET_PLATFORM: 'docker', CACHEFLEET_HOST_SECRETS_DIR: host, CACHEFLEET_INTERNAL_PASSWORD_LABEL: 'cachefleet-internal' };
      const refused = node.agent(['configure', 'redis'], env);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain(`the secret app-password (${host}/app-password) must be ${AUTH_TOKEN_RULE.allowed}: it has 15 characters`);
      expect(refused.stderr).not.toContain(short);

      node.writeSecrets(host, { 'app-password': VALID_SECRETS['app-password'] });
      const taken = node.agent(['configure', 'redis'], env);
      expect({ code: taken.status, stderr: taken.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      expect(fs.readFileSync(path.join(node.secrets, 'app-password'), 'utf8')).toBe(VALID_SECRETS['app-password']);
    } finally {
      node.dispose();
    }
  });

  test('the rule the agent applies is the pattern\'s, character by character (every byte 1-255)', () => {
    // GIVEN: one token per byte, each otherwise valid; the agent's check_secret run in one shell
    const node = new Node(standalone());
    try {
      const agent = agentScript();
      const checkSecret = agent.slice(agent.indexOf('check_secret() {'), agent.indexOf('\n}\n', agent.indexOf('check_secret() {')) + 3);
      const isNumber = agent.slice(agent.indexOf('is_number() {'), agent.indexOf('\n}\n', agent.indexOf('is_number() {')) + 3);
      const script = [
        'die() { exit 1; }', isNumber, checkSecret,
        'NL=\'\n\'', 'CR=$(printf \'\\r\')',
        '. "$1"',
        'while IFS= read -r byte; do',
        '  token=$(printf "Token-0123456789-\\\\$(printf %o "$byte")x")',
        '  if (check_secret t "$token"); then echo "$byte ok"; else echo "$byte refused"; fi',
        'done',
      ].join('\n');
      const bytes = Array.from({ length: 255 }, (_, i) => i + 1).filter((byte) => byte !== 10 && byte !== 13);
      const result = spawnSync('sh', ['-c', script, 'sh', path.join(node.config, 'fleet.env')], { input: bytes.join('\n') + '\n', encoding: 'utf8', env: { PATH: process.env.PATH } });
      const pattern = new RegExp(AUTH_TOKEN_RULE.pattern);

      // THEN
      const expected = bytes.map((byte) => `${byte} ${pattern.test(`Token-0123456789-${String.fromCharCode(byte)}x`) && byte < 128 ? 'ok' : 'refused'}`);
      expect(result.stdout.trim().split('\n')).toEqual(expected);
    } finally {
      node.dispose();
    }
  });
});

describe('the helpers beside the agent', () => {
  test('the agent run without lib/common.sh beside it says so and stops', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-agent-alone-'));
    try {
      fs.copyFileSync(agentScriptPath(), path.join(dir, 'cachefleet-node'));
      const result = spawnSync('sh', [path.join(dir, 'cachefleet-node'), 'help'], { encoding: 'utf8' });
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(`cachefleet-node: error: its helpers are missing: ${dir}/lib/common.sh (lib/common.sh ships beside the agent)\n`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('run from the source tree, the agent sources lib/common.sh: one retry helper, one logger', () => {
    const source = fs.readFileSync(agentScriptPath(), 'utf8');
    const common = fs.readFileSync(path.join(AGENT_DIR, 'lib/common.sh'), 'utf8');
    for (const helper of ['log', 'die', 'retry', 'require_env', 'imds_get', 'imds_token']) {
      expect({ helper, inCommon: common.includes(`\n${helper}() {`), inAgent: new RegExp(`^${helper}\\(\\) \\{`, 'm').test(source) })
        .toEqual({ helper, inCommon: true, inAgent: false });
    }
    const result = spawnSync(agentScriptPath(), ['help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('health <service>');
  });

  test('no aws script defines a function the agent or lib/common.sh defines', () => {
    const functions = (text: string) => [...text.matchAll(/^([a-z_]+)\(\) \{/gm)].map((match) => match[1]);
    const shared = new Set([...functions(agentScript())]);
    for (const name of NODE_SCRIPTS.filter((script) => script.startsWith('aws/'))) {
      const text = fs.readFileSync(path.join(AGENT_DIR, name), 'utf8');
      expect({ name, duplicated: functions(text).filter((fn) => shared.has(fn)) }).toEqual({ name, duplicated: [] });
    }
  });
});

describe('one open-file limit', () => {
  test('core decides it: fleet.env states it, the Docker flavor\'s ulimit is it', () => {
    for (const plan of Object.values(plans(true))) {
      expect(renderBundle(plan)['fleet.env']).toContain(`CF_OPEN_FILES='${NODE_OPEN_FILES}'\n`);
    }
    expect(DOCKER_DEFAULTS.openFiles).toBe(NODE_OPEN_FILES);
  });

  test('the EC2 units give every engine the bundle\'s limit (LimitNOFILE)', () => {
    // GIVEN: aws/units.sh run as boot.sh runs it, on a Memcached slot (no data volume to name)
    const plan = Object.values(plans(false))[4];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-units-'));
    try {
      for (const [name, text] of Object.entries(bundleFiles(plan))) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), text, { mode: 0o755 });
      }
      const units = path.join(dir, 'units');
      const result = spawnSync(path.join(dir, 'aws/units.sh'), [], {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          CACHEFLEET_CONFIG_DIR: path.join(dir, BUNDLE_CONFIG_DIR),
          CACHEFLEET_SLOT: plan.slots[0].name,
          CACHEFLEET_STATE_DIR: path.join(dir, 'state'),
          CACHEFLEET_RUN_DIR: path.join(dir, 'run'),
          CACHEFLEET_SYSTEMD_DIR: units,
        },
      });
      expect({ code: result.status, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });

      // THEN
      expect(fs.readFileSync(path.join(units, 'cachefleet-memcached.service'), 'utf8')).toContain(`\nLimitNOFILE=${NODE_OPEN_FILES}\n`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
