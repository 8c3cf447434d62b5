import { TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { bundleContainer, bundleUploadPaths, containersByName, defaultAddress, defaultSubnet, dockerPlan, dockerStack, forSnapshot, slotContainersByName, synthJson, terraformText, uploadedBundle } from './synth';
import { agentFile, agentScript } from '../../src/core/agent-script';
import { CacheEngine, MemcachedEngineVersion, RedisEngineVersion, ValkeyEngineVersion } from '../../src/core/engine';
import { ParameterGroup } from '../../src/core/parameters/parameter-group';
import { Persistence } from '../../src/core/persistence';
import { bundleDigest, renderBundle, restartFingerprint } from '../../src/core/render';
import { AUTH_TOKEN_RULE, validateReplicationGroupOptions } from '../../src/core/validation';
import { AuthToken, CacheCluster, RemovalPolicy, ReplicationGroup, RestartPolicy } from '../../src/docker';
import { terraformLiteral } from '../../src/docker/private/terraform';

const redis = CacheEngine.redis({ version: RedisEngineVersion.VER_7_2 });
const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });

describe('docker.ReplicationGroup', () => {
  test('GIVEN defaults WHEN synthesized THEN 1 primary + 1 replica, 3 sentinel containers, and the bundle container', () => {
    const stack = dockerStack();
    const group = new ReplicationGroup(stack, 'Sessions', { engine: redis });
    const synthesized = Testing.synth(stack);
    expect(synthesized).toHaveResource({ tfResourceType: 'docker_network' } as any);
    expect(synthesized).toHaveResourceWithProperties({ tfResourceType: 'docker_image' } as any, { name: 'public.ecr.aws/docker/library/redis:7.2.16@sha256:0637954999d01b7c9ce9167db2da50656e2590d3b884f1c600c5f63bb6e6773c' });
    const json = JSON.parse(synthesized);
    const containers = containersByName(json);
    expect(Object.keys(containers).sort()).toEqual([
      'sessions-bundle', 'sessions-node-0', 'sessions-node-1', 'sessions-sentinel-0', 'sessions-sentinel-1', 'sessions-sentinel-2',
    ]);
    expect(group.nodeEndpoints.map((e) => e.socketAddress)).toEqual([`${defaultAddress('Sessions', 10)}:6379`, `${defaultAddress('Sessions', 11)}:6379`]);
    // Sentinels take hosts 16-18 whatever the replica count (node-k takes 10 + k, up to node-5).
    expect(group.sentinelEndpoints.map((e) => e.socketAddress)).toEqual([16, 17, 18].map((host) => `${defaultAddress('Sessions', host)}:26379`));
    // Named for what they are: slot 0 is the primary only until a failover; the alias includes it.
    expect(group.initialPrimaryEndpoint.socketAddress).toBe(`${defaultAddress('Sessions', 10)}:6379`);
    expect(group.anyNodeEndpoint.socketAddress).toBe('sessions-reader:6379');
    expect(group).not.toHaveProperty('primaryEndpoint');
    expect(group).not.toHaveProperty('readerEndpoint');
    expect(group).not.toHaveProperty('endpoint');
    expect(group.sentinelMasterName).toBe('sessions');
    expect(group.authUsername).toBe('app');
  });

  test('no outputs unless asked; addOutputs adds them once, <fleet>_<what>, none naming a primary', () => {
    const quiet = dockerStack();
    new ReplicationGroup(quiet, 'Sessions', { engine: redis });
    expect(synthJson(quiet).output ?? {}).toEqual({});

    const stack = dockerStack();
    const group = new ReplicationGroup(stack, 'Sessions', { engine: redis });
    group.addOutputs();
    group.addOutputs();
    const json = synthJson(stack);
    expect(Object.keys(json.output).sort()).toEqual([
      'sessions_host_address_map', 'sessions_host_sentinels', 'sessions_network_name', 'sessions_node_endpoints',
      'sessions_sentinel_endpoints', 'sessions_sentinel_master_name',
    ]);
    expect(json.output.sessions_network_name.value).toBe('${docker_network.sessions_network.name}');
    expect(group.networkName).toBeDefined();
  });

  test('the construct never creates the provider: the app configures it', () => {
    const stack = new TerraformStack(Testing.app(), 'NoProvider');
    new ReplicationGroup(stack, 'Sessions', { engine: redis });
    expect(synthJson(stack).provider).toBeUndefined();
  });

  test('the network has the subnet and each container its fixed address in it', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Sessions', { engine: redis, replicasPerShard: 2, subnetCidr: '10.99.0.0/26' });
    const synthesized = Testing.synth(stack);
    expect(synthesized).toHaveResourceWithProperties({ tfResourceType: 'docker_network' } as any, {
      name: 'sessions',
      driver: 'bridge',
      // Docker's own allocations (containers without a fixed address) stay after the fleet's block (hosts 10-18).
      ipam_config: [{ subnet: '10.99.0.0/26', ip_range: '10.99.0.32/27' }],
    });
    const containers = containersByName(JSON.parse(synthesized));
    expect(containers['sessions-node-0'].networks_advanced).toEqual([
      { name: '${docker_network.sessions_network.name}', ipv4_address: '10.99.0.10', aliases: ['sessions-node-0', 'sessions-reader'] },
    ]);
    expect(containers['sessions-sentinel-2'].networks_advanced[0]).toMatchObject({ ipv4_address: '10.99.0.18', aliases: ['sessions-sentinel-2'] });
  });

  test.each([
    ['replication group, the smallest subnet', (stack: TerraformStack) => new ReplicationGroup(stack, 'Sessions', { engine: redis, subnetCidr: '10.99.0.0/27' }), '10.99.0.0/27', 18],
    ['replication group, the default subnet', (stack: TerraformStack) => new ReplicationGroup(stack, 'Sessions', { engine: redis }), defaultSubnet('Sessions'), 18],
    ['Memcached, the smallest subnet', (stack: TerraformStack) => new CacheCluster(stack, 'Pages', { engine: CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 }), numCacheNodes: 2, subnetCidr: '10.98.0.0/26' }), '10.98.0.0/26', 49],
  ])('%s: Docker allocates only after every address a slot can ever take', (_, build, subnet, lastFixedHost) => {
    const stack = dockerStack();
    build(stack);
    const network = Object.values(JSON.parse(Testing.synth(stack)).resource.docker_network as Record<string, any>)[0];
    const [{ subnet: declared, ip_range: range }] = network.ipam_config;
    expect(declared).toBe(subnet);
    const toNumber = (address: string) => address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
    const [rangeBase, rangePrefix] = range.split('/');
    const [subnetBase, subnetPrefix] = subnet.split('/');
    const first = toNumber(rangeBase);
    const last = first + 2 ** (32 - Number(rangePrefix)) - 1;
    // Inside the subnet, aligned, and past the last fixed host.
    expect(first % 2 ** (32 - Number(rangePrefix))).toBe(0);
    expect(first).toBeGreaterThan(toNumber(subnetBase) + lastFixedHost);
    expect(last).toBeLessThanOrEqual(toNumber(subnetBase) + 2 ** (32 - Number(subnetPrefix)) - 1);
  });

  test('every resource has a logical ID of its fleet\'s own, wherever the construct sits; the path\'s ID moves to it', () => {
    const ids = (json: any) => Object.fromEntries(['docker_image', 'docker_network', 'docker_volume', 'docker_container'].map((type) => [type, Object.keys(json.resource[type]).sort()]));
    const flat = dockerStack();
    new ReplicationGroup(flat, 'Sessions', { engine: redis });
    const nestedStack = dockerStack();
    new ReplicationGroup(new Construct(new Construct(nestedStack, 'Platform'), 'Caches'), 'Sessions', { engine: redis });
    const [flatJson, nestedJson] = [synthJson(flat), synthJson(nestedStack)];
    expect(ids(flatJson)).toEqual({
      docker_image: ['sessions_image'],
      docker_network: ['sessions_network'],
      // Retained (the default), every data slot the group can have keeps its volume: node-2 to node-5 run no container.
      docker_volume: [
        'sessions_bundle_volume', 'sessions_node_0_data', 'sessions_node_1_data', 'sessions_node_2_data', 'sessions_node_3_data', 'sessions_node_4_data',
        'sessions_node_5_data', 'sessions_sentinel_0_data', 'sessions_sentinel_1_data', 'sessions_sentinel_2_data',
      ],
      docker_container: ['sessions_bundle', 'sessions_node_0', 'sessions_node_1', 'sessions_sentinel_0', 'sessions_sentinel_1', 'sessions_sentinel_2'],
    });
    // Moving the construct moves nothing Terraform keeps: the same IDs.
    expect(ids(nestedJson)).toEqual(ids(flatJson));
    // A fleet deployed under the IDs its construct path gave (cdktf's own, before this one) keeps
    // its resources: each of those moves to the new ID, none is destroyed and created again.
    const moved = (json: any) => Object.fromEntries(json.moved.map((block: { from: string; to: string }) => [block.to, block.from]));
    expect(Object.keys(moved(flatJson)).sort()).toEqual(Object.entries(ids(flatJson)).flatMap(([type, list]) => list.map((id) => `${type}.${id}`)).sort());
    expect(moved(flatJson)).toEqual(expect.objectContaining({
      'docker_volume.sessions_node_0_data': expect.stringMatching(/^docker_volume\.Sessions_node-0_Volume_[0-9A-F]{8}$/),
      // A spare slot's volume sits where a container's would: the same path ID moves to it.
      'docker_volume.sessions_node_5_data': expect.stringMatching(/^docker_volume\.Sessions_node-5_Volume_[0-9A-F]{8}$/),
      'docker_container.sessions_node_0': expect.stringMatching(/^docker_container\.Sessions_node-0_[0-9A-F]{8}$/),
      'docker_network.sessions_network': expect.stringMatching(/^docker_network\.Sessions_Network_[0-9A-F]{8}$/),
      'docker_image.sessions_image': expect.stringMatching(/^docker_image\.Sessions_Image_[0-9A-F]{8}$/),
      'docker_container.sessions_bundle': expect.stringMatching(/^docker_container\.Sessions_Bundle_[0-9A-F]{8}$/),
      'docker_volume.sessions_bundle_volume': expect.stringMatching(/^docker_volume\.Sessions_BundleVolume_[0-9A-F]{8}$/),
    }));
  });

  test('a slot keeps its address and host port whatever the replica count: none passes to another slot name', () => {
    const seen = new Map<string, { address: string; port: number }>();
    for (const replicasPerShard of [0, 1, 2, 3, 4, 5]) {
      const stack = dockerStack();
      new ReplicationGroup(stack, 'Sessions', { engine: redis, replicasPerShard });
      for (const [name, container] of Object.entries<any>(slotContainersByName(synthJson(stack)))) {
        const claim = { address: container.networks_advanced[0].ipv4_address, port: container.ports[0].external };
        expect({ name, claim }).toEqual({ name, claim: seen.get(name) ?? claim });
        seen.set(name, claim);
      }
    }
    const claims = [...seen.values()];
    expect(new Set(claims.map((c) => c.address)).size).toBe(claims.length);
    expect(new Set(claims.map((c) => c.port)).size).toBe(claims.length);
    expect(seen.get('sessions-sentinel-0')).toEqual({ address: defaultAddress('Sessions', 16), port: 6406 });
  });

  test('containers: pinned image, the launcher as entrypoint, docker platform, the fleet volume mounted, only the launcher and secrets uploaded', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Sessions', { engine: valkey, replicasPerShard: 2 });
    const json = synthJson(stack);
    expect(Object.values<any>(json.resource.docker_image)).toEqual([{ name: 'public.ecr.aws/valkey/valkey:8.0.2', keep_locally: true }]);
    const node = containersByName(json)['sessions-node-1'];
    expect(node.image).toBe('${docker_image.sessions_image.image_id}');
    expect(node.entrypoint).toEqual(['/usr/local/bin/cachefleet-launch']);
    expect(node.command).toEqual(['start', 'redis']);
    expect(node.env).toEqual([
      'CACHEFLEET_PLATFORM=docker',
      'CACHEFLEET_SLOT=node-1',
      'CACHEFLEET_FLEET_DIR=/var/lib/cachefleet-fleet',
      'CACHEFLEET_CONFIG_DIR=/etc/cachefleet',
      'CACHEFLEET_STATE_DIR=/var/lib/cachefleet',
      'CACHEFLEET_RUN_DIR=/run/cachefleet',
      'CACHEFLEET_SECRETS_DIR=/run/cachefleet/secrets',
      'CACHEFLEET_PRE_STOP_TIMEOUT=20',
      'CACHEFLEET_ENGINE_USER=999:999',
      'CACHEFLEET_MEMORY_BYTES=268435456',
    ]);
    // A stop (docker stop, or Terraform replacing the container) gives the node time to hand over
    // and shut down: without destroy_grace_seconds the provider stops a replaced container at once.
    expect(node).toMatchObject({ stop_timeout: 45, destroy_grace_seconds: 45 });
    // No bundle file: a change of an upload replaces the container, and the bundle changes with
    // every parameter. The launcher takes the bundle from the fleet volume.
    expect(node.upload.map((u: any) => u.file)).toEqual([
      '/usr/local/bin/cachefleet-launch',
      '/run/cachefleet/secrets/app-password',
      '/run/cachefleet/secrets/internal-password',
      '/run/cachefleet/secrets/admin-password',
    ]);
    expect(node.upload[0]).toEqual({ file: '/usr/local/bin/cachefleet-launch', content: terraformLiteral(agentFile('docker/launch.sh')), permissions: '0755' });
    expect(node.volumes[0]).toEqual({ volume_name: '${docker_volume.sessions_bundle_volume.name}', container_path: '/var/lib/cachefleet-fleet' });
    // Created after the bundle container, whose first bundle the launcher waits for.
    expect(node.depends_on).toEqual(['docker_container.sessions_bundle']);
    const sentinel = containersByName(json)['sessions-sentinel-0'];
    expect(sentinel.command).toEqual(['start', 'sentinel']);
    expect(sentinel.entrypoint).toEqual(['/usr/local/bin/cachefleet-launch']);
    const bundle = bundleContainer(json, 'sessions');
    expect(bundle.upload.map((u: any) => u.file)).toEqual(bundleUploadPaths(
      'fleet.env',
      'slots/node-0.env',
      'slots/node-1.env',
      'slots/node-2.env',
      'slots/sentinel-0.env',
      'slots/sentinel-1.env',
      'slots/sentinel-2.env',
      'redis.conf',
      'redis-node.conf',
      'users.acl',
      'live-parameters',
      'sentinel.conf',
    ));
    // The agent is executable by the engine's user too (the provider's `executable` is 0744): Sentinel runs the hook as it.
    const agent = bundle.upload.find((u: any) => u.file.endsWith('/cachefleet-node'));
    expect(agent).toMatchObject({ permissions: '0755', content: terraformLiteral(agentScript()) });
    expect(agent.executable).toBeUndefined();
    expect(uploadedBundle(bundle)['sentinel.conf']).toContain(`sentinel monitor sessions ${defaultAddress('Sessions', 10)} 6379 2`);
  });

  test('the bundle container: the fleet volume only, no network, no ports, no capability, no secret, no dependency of its own', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Sessions', { engine: redis, replicasPerShard: 2, restartPolicy: RestartPolicy.ALWAYS });
    const json = synthJson(stack);
    const bundle = bundleContainer(json, 'sessions');
    expect(bundle).toMatchObject({
      name: 'sessions-bundle',
      image: '${docker_image.sessions_image.image_id}',
      user: 'root',
      entrypoint: ['/usr/local/bin/cachefleet-launch'],
      command: ['publish'],
      env: ['CACHEFLEET_FLEET_DIR=/var/lib/cachefleet-fleet', 'CACHEFLEET_BUNDLE_SOURCE_DIR=/usr/local/share/cachefleet/bundle'],
      // It reaches nothing and nothing reaches it.
      network_mode: 'none',
      volumes: [{ volume_name: '${docker_volume.sessions_bundle_volume.name}', container_path: '/var/lib/cachefleet-fleet' }],
      memory: 32,
      restart: 'always',
      // Every capability dropped and none added: it only writes a volume that is root's.
      capabilities: { drop: ['ALL'] },
      security_opts: ['no-new-privileges:true'],
      // It saves nothing: a replacement stops it quickly, but never with a SIGKILL at once.
      stop_timeout: 5,
      destroy_grace_seconds: 5,
      lifecycle: { ignore_changes: ['log_driver', 'log_opts'] },
      labels: [{ label: 'cachefleet.fleet', value: 'sessions' }, { label: 'cachefleet.service', value: 'bundle' }],
    });
    expect(bundle.capabilities.add).toBeUndefined();
    for (const absent of ['ports', 'networks_advanced', 'hostname', 'depends_on', 'healthcheck', 'cpus', 'memory_swap', 'log_driver', 'log_opts']) {
      expect([absent, bundle[absent]]).toEqual([absent, undefined]);
    }
    expect(bundle.upload.filter((u: any) => !u.file.startsWith('/usr/local/share/cachefleet/bundle/') && u.file !== '/usr/local/bin/cachefleet-launch')).toEqual([]);
    // The volume it publishes on: no data (every bundle is published again at the next start), so no prevent_destroy.
    expect(json.resource.docker_volume.sessions_bundle_volume).toEqual({ name: 'sessions-bundle', labels: [{ label: 'cachefleet.fleet', value: 'sessions' }] });

    // Every slot container mounts that volume, depends on the bundle container and uploads no bundle file.
    const slots = Object.entries<any>(slotContainersByName(json));
    expect(slots.map(([name]) => name).sort()).toEqual(['sessions-node-0', 'sessions-node-1', 'sessions-node-2', 'sessions-sentinel-0', 'sessions-sentinel-1', 'sessions-sentinel-2']);
    for (const [name, container] of slots) {
      expect([name, container.volumes]).toEqual([name, expect.arrayContaining([{ volume_name: '${docker_volume.sessions_bundle_volume.name}', container_path: '/var/lib/cachefleet-fleet' }])]);
      expect([name, container.depends_on]).toEqual([name, ['docker_container.sessions_bundle']]);
      expect([name, container.entrypoint, container.healthcheck.test[1]]).toEqual([name, ['/usr/local/bin/cachefleet-launch'], '/usr/local/bin/cachefleet-launch']);
      expect([name, container.env]).toEqual([name, expect.arrayContaining(['CACHEFLEET_FLEET_DIR=/var/lib/cachefleet-fleet'])]);
      expect([name, uploadedBundle(container)]).toEqual([name, {}]);
      expect([name, container.upload.map((u: any) => u.file).filter((file: string) => file.startsWith('/etc/cachefleet'))]).toEqual([name, []]);
    }
  });

  test('the AUTH token is never a literal: a sensitive variable, the internal password derived by Terraform', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Sessions', { engine: redis });
    const json = synthJson(stack);
    expect(json.variable.sessions_auth_token).toMatchObject({ type: 'string', sensitive: true, nullable: false });
    // Core's AUTH-token rule, as Terraform checks it when the variable is set.
    const { minLength, maxLength, pattern } = AUTH_TOKEN_RULE;
    expect(json.variable.sessions_auth_token.validation).toEqual([{
      condition: `\${(((length(var.sessions_auth_token) >= ${minLength}) && (length(var.sessions_auth_token) <= ${maxLength})) && can(regex(${JSON.stringify(pattern)}, var.sessions_auth_token)))}`,
      error_message: `The AUTH token must be ${AUTH_TOKEN_RULE.allowed}.`,
    }]);
    expect(json.variable.sessions_auth_token.description).toBe(`The AUTH token of the cachefleet fleet "sessions": ${AUTH_TOKEN_RULE.allowed}.`);
    const uploads = containersByName(json)['sessions-node-0'].upload;
    expect(uploads.find((u: any) => u.file === '/run/cachefleet/secrets/app-password')).toEqual({
      file: '/run/cachefleet/secrets/app-password', content: '${var.sessions_auth_token}', permissions: '0600',
    });
    expect(uploads.find((u: any) => u.file === '/run/cachefleet/secrets/internal-password').content).toBe(
      '${sha256("${var.sessions_auth_token}:cachefleet-internal")}',
    );
    for (const [name, output] of Object.entries<any>(json.output ?? {})) {
      if (JSON.stringify(output.value).includes('var.sessions_auth_token')) expect([name, output.sensitive]).toEqual([name, true]);
    }
  });

  test('tokens the user gives (a variable of theirs, a file) are checked at plan, by a precondition; the fleet\'s own variables by their validation', () => {
    const stack = dockerStack();
    const variable = new TerraformVariable(stack, 'mine', { type: 'string', sensitive: true });
    new ReplicationGroup(stack, 'Sessions', {
      engine: redis,
      authToken: AuthToken.fromVariable(variable),
      internalAuthToken: AuthToken.fromFile('/secrets/internal'),
    });
    const json = synthJson(stack);
    const [image] = Object.values<any>(json.resource.docker_image);
    const { minLength, maxLength, pattern } = AUTH_TOKEN_RULE;
    const rule = (value: string) => `\${(((length(${value}) >= ${minLength}) && (length(${value}) <= ${maxLength})) && can(regex(${JSON.stringify(pattern)}, ${value})))}`;
    expect(image.lifecycle.precondition).toEqual([
      { condition: rule('var.mine'), error_message: `authToken of the cachefleet fleet "sessions" must be ${AUTH_TOKEN_RULE.allowed}.` },
      { condition: rule('sensitive(trimspace(file("/secrets/internal")))'), error_message: `internalAuthToken of the cachefleet fleet "sessions" must be ${AUTH_TOKEN_RULE.allowed}.` },
    ]);
    // The default admin variable carries its own validation: no precondition repeats it.
    expect(json.variable.sessions_admin_token.validation).toHaveLength(1);
    const defaults = dockerStack();
    new ReplicationGroup(defaults, 'Sessions', { engine: redis });
    expect(Object.values<any>(synthJson(defaults).resource.docker_image)[0].lifecycle).toBeUndefined();
  });

  test('the admin password is a sensitive variable of its own, never derived from the AUTH token; a user token replaces it', () => {
    // GIVEN / WHEN the default
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Sessions', { engine: redis });
    const json = synthJson(stack);

    // THEN
    expect(json.variable.sessions_admin_token).toMatchObject({ type: 'string', sensitive: true, nullable: false });
    expect(json.variable.sessions_admin_token.validation[0].error_message).toBe(`The admin user's password must be ${AUTH_TOKEN_RULE.allowed}.`);
    for (const container of Object.values<any>(slotContainersByName(json))) {
      const admin = container.upload.find((u: any) => u.file === '/run/cachefleet/secrets/admin-password');
      expect(admin).toEqual({ file: '/run/cachefleet/secrets/admin-password', content: '${var.sessions_admin_token}', permissions: '0600' });
    }
    // The bundle container holds no password, and no upload of it reads a variable.
    expect(JSON.stringify(bundleContainer(json, 'sessions').upload.map((u: any) => u.file))).not.toContain('password');
    expect(bundleContainer(json, 'sessions').upload.filter((u: any) => /(^|[^$])\$\{(var\.|sha256\(|sensitive\(|file\()/.test(u.content))).toEqual([]);
    // No output carries it: the application's URLs hold the AUTH token only.
    expect(JSON.stringify(json.output ?? {})).not.toContain('admin_token');

    // GIVEN / WHEN a file
    const own = dockerStack();
    new ReplicationGroup(own, 'Sessions', { engine: redis, adminAuthToken: AuthToken.fromFile('/secrets/admin') });
    const ownJson = synthJson(own);
    expect(ownJson.variable.sessions_admin_token).toBeUndefined();
    expect(containersByName(ownJson)['sessions-node-0'].upload.find((u: any) => u.file.endsWith('admin-password')).content)
      .toBe('${sensitive(trimspace(file("/secrets/admin")))}');
  });

  test('GIVEN secretsHostPath THEN no password is a Terraform value: the host directory is mounted read-only, and the agent is told how to check and derive them', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Sessions', { engine: redis, replicasPerShard: 2, secretsHostPath: '/etc/cachefleet/sessions' });
    const json = synthJson(stack);
    expect(json.variable ?? {}).toEqual({});
    expect(Object.keys(json.output ?? {}).filter((name) => /url/.test(name))).toEqual([]);
    // No Terraform expression reads a secret (the uploads' contents are the bundle, checked below).
    expect(JSON.stringify(json, (key, value) => (key === 'content' ? undefined : value))).not.toMatch(/var\.|sha256\(|file\(/);
    expect(bundleContainer(json, 'sessions').volumes).toHaveLength(1);
    for (const container of Object.values<any>(slotContainersByName(json))) {
      expect(container.upload.filter((u: any) => u.file.startsWith('/run/cachefleet/secrets/'))).toEqual([]);
      expect(container.volumes).toContainEqual({ host_path: '/etc/cachefleet/sessions', container_path: '/run/cachefleet/host-secrets', read_only: true });
      expect(container.env).toEqual(expect.arrayContaining([
        'CACHEFLEET_HOST_SECRETS_DIR=/run/cachefleet/host-secrets',
        'CACHEFLEET_INTERNAL_PASSWORD_LABEL=cachefleet-internal',
      ]));
      // The rule the agent checks them with is the bundle's (fleet.env's CF_TOKEN_*), as for every password.
      expect(container.env.filter((entry: string) => entry.startsWith('CACHEFLEET_TOKEN_'))).toEqual([]);
    }
    // Without it, the secrets are uploads and the directory is not mounted.
    const defaults = dockerStack();
    new ReplicationGroup(defaults, 'Sessions', { engine: redis });
    const node = containersByName(synthJson(defaults))['sessions-node-0'];
    // The fleet volume and the data volume.
    expect(node.volumes).toHaveLength(2);
    expect(node.env.filter((e: string) => e.startsWith('CACHEFLEET_HOST_SECRETS_DIR'))).toEqual([]);
  });

  test('GIVEN a user variable and a file for the internal password THEN they are used', () => {
    const stack = dockerStack();
    const token = new TerraformVariable(stack, 'token', { type: 'string', sensitive: true });
    new ReplicationGroup(stack, 'Sessions', {
      engine: redis,
      authToken: AuthToken.fromVariable(token),
      internalAuthToken: AuthToken.fromFile('/secrets/internal'),
    });
    const json = synthJson(stack);
    expect(json.variable.sessions_auth_token).toBeUndefined();
    const uploads = containersByName(json)['sessions-node-0'].upload;
    expect(uploads.find((u: any) => u.file.endsWith('app-password')).content).toBe('${var.token}');
    expect(uploads.find((u: any) => u.file.endsWith('internal-password')).content).toBe('${sensitive(trimspace(file("/secrets/internal")))}');
  });

  test('ports are published on 127.0.0.1 by default, on fixed host ports from 6400 (a port Docker picks changes at every start)', () => {
    const stack = dockerStack();
    const group = new ReplicationGroup(stack, 'Sessions', { engine: redis });
    group.addOutputs();
    const json = synthJson(stack);
    const containers = containersByName(json);
    expect(containers['sessions-node-0'].ports).toEqual([{ internal: 6379, external: 6400, ip: '127.0.0.1', protocol: 'tcp' }]);
    expect(containers['sessions-sentinel-0'].ports).toEqual([{ internal: 26379, external: 6406, ip: '127.0.0.1', protocol: 'tcp' }]);
    expect(group.initialPrimaryEndpoint.hostAddress).toBe('127.0.0.1');
    expect(group.initialPrimaryEndpoint.hostPort).toBe(6400);
    expect(json.output.sessions_host_address_map.value[`${defaultAddress('Sessions', 10)}:6379`]).toBe('127.0.0.1:6400');
    expect(json.output.sessions_host_sentinels.value).toHaveLength(3);
  });

  test('GIVEN hostAddress and hostPortBase THEN each slot\'s host port on that address: base + its host number', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Sessions', { engine: redis, replicasPerShard: 2, hostAddress: '0.0.0.0', hostPortBase: 16379 });
    const containers = containersByName(synthJson(stack));
    expect(containers['sessions-node-2'].ports).toEqual([{ internal: 6379, external: 16381, ip: '0.0.0.0', protocol: 'tcp' }]);
    expect(containers['sessions-sentinel-0'].ports).toEqual([{ internal: 26379, external: 16385, ip: '0.0.0.0', protocol: 'tcp' }]);
  });

  test('GIVEN publishPorts false THEN nothing is published and the address map is empty', () => {
    const stack = dockerStack();
    const group = new ReplicationGroup(stack, 'Sessions', { engine: redis, publishPorts: false });
    group.addOutputs();
    const json = synthJson(stack);
    for (const container of Object.values<any>(containersByName(json))) expect(container.ports).toBeUndefined();
    expect(group.hostAddressMap).toEqual({});
    expect(json.output.sessions_host_address_map.value).toEqual({});
    expect(json.output.sessions_host_sentinels).toBeUndefined();
  });

  test('limits, volumes, health checks, restart policy: defaults', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Sessions', { engine: redis });
    const json = synthJson(stack);
    const containers = containersByName(json);
    const node = containers['sessions-node-0'];
    expect(node).toMatchObject({ memory: 256, restart: 'unless-stopped', ulimit: [{ name: 'nofile', soft: 65536, hard: 65536 }] });
    expect(node.cpus).toBeUndefined();
    expect(node.volumes).toEqual([
      // Writable: the node records there the bundle it runs, and takes its turn of a rolling restart.
      { volume_name: '${docker_volume.sessions_bundle_volume.name}', container_path: '/var/lib/cachefleet-fleet' },
      { volume_name: '${docker_volume.sessions_node_0_data.name}', container_path: '/var/lib/cachefleet' },
    ]);
    expect(node.healthcheck.test).toEqual(['CMD', '/usr/local/bin/cachefleet-launch', 'health', 'redis']);
    expect(containers['sessions-sentinel-0']).toMatchObject({ memory: 64 });
    expect(containers['sessions-bundle']).toMatchObject({ memory: 32, restart: 'unless-stopped' });
    // Retained by default: the volumes of node-2 to node-5, which run no container, are declared too.
    expect(Object.values<any>(json.resource.docker_volume).map((v) => v.name).sort()).toEqual([
      'sessions-bundle', 'sessions-node-0', 'sessions-node-1', 'sessions-node-2', 'sessions-node-3', 'sessions-node-4', 'sessions-node-5',
      'sessions-sentinel-0', 'sessions-sentinel-1', 'sessions-sentinel-2',
    ]);
  });

  test('the data volumes: Terraform refuses to destroy them by default, and every data slot the group can have keeps one; RemovalPolicy.DESTROY lets it, and declares only the running slots\'', () => {
    /** A 1 + 2 group. */
    const synth = (removalPolicy?: RemovalPolicy) => {
      const stack = dockerStack();
      const group = new ReplicationGroup(stack, 'Sessions', { engine: redis, replicasPerShard: 2, removalPolicy });
      return { group, json: synthJson(stack) };
    };
    const data = (removalPolicy?: RemovalPolicy) => Object.entries<any>(synth(removalPolicy).json.resource.docker_volume)
      .filter(([id]) => id.endsWith('_data')).map(([id, v]) => [id, v]);
    const fleetLabel = [{ label: 'cachefleet.fleet', value: 'sessions' }];
    const nodeIds = (ordinals: number[]) => ordinals.map((k) => `sessions_node_${k}_data`);
    const sentinelIds = ['sessions_sentinel_0_data', 'sessions_sentinel_1_data', 'sessions_sentinel_2_data'];

    for (const policy of [undefined, RemovalPolicy.RETAIN]) {
      const { group, json } = synth(policy);
      // 6 data volumes (node-0 to node-5), 3 sentinel volumes, the fleet volume; 3 data nodes, 3 sentinels, the bundle container.
      expect([policy, Object.keys(json.resource.docker_volume).length]).toEqual([policy, 10]);
      expect([policy, Object.keys(containersByName(json)).length]).toEqual([policy, 7]);
      expect([policy, data(policy).map(([id]) => id).sort()]).toEqual([policy, [...nodeIds([0, 1, 2, 3, 4, 5]), ...sentinelIds].sort()]);
      // Each one as a running slot's: its slot's name, the fleet's label, prevent_destroy.
      for (const [id, volume] of data(policy)) {
        const slot = id.replace(/^sessions_(.*)_data$/, '$1').replace('_', '-');
        expect([policy, id, volume]).toEqual([policy, id, { name: `sessions-${slot}`, labels: fleetLabel, lifecycle: { prevent_destroy: true } }]);
      }
      // The spare slots' volumes: in the construct tree where a slot's would be, mounted by no container.
      for (const slot of ['node-3', 'node-4', 'node-5']) {
        expect([policy, slot, group.node.tryFindChild(slot)?.node.tryFindChild('Volume') !== undefined]).toEqual([policy, slot, true]);
        expect([policy, slot, containersByName(json)[`sessions-${slot}`]]).toEqual([policy, slot, undefined]);
      }
      const mounted = Object.values<any>(json.resource.docker_container)
        .flatMap((container) => (container.volumes ?? []).map((v: any) => v.volume_name));
      for (const id of nodeIds([3, 4, 5])) expect([policy, id, mounted.includes(`\${docker_volume.${id}.name}`)]).toEqual([policy, id, false]);
      for (const id of [...nodeIds([0, 1, 2]), ...sentinelIds]) expect([policy, id, mounted.includes(`\${docker_volume.${id}.name}`)]).toEqual([policy, id, true]);
    }

    // Destroyed: the running slots' volumes only, which Terraform may destroy.
    const destroyed = synth(RemovalPolicy.DESTROY).json;
    expect(Object.keys(destroyed.resource.docker_volume).length).toBe(7);
    expect(data(RemovalPolicy.DESTROY).map(([id]) => id).sort()).toEqual([...nodeIds([0, 1, 2]), ...sentinelIds].sort());
    const destroyable = data(RemovalPolicy.DESTROY);
    expect(destroyable.map(([id, v]) => [id, v.lifecycle])).toEqual(destroyable.map(([id]) => [id, { prevent_destroy: false }]));

    // The fleet volume holds only published bundles, which the bundle container publishes again: whatever the policy.
    for (const policy of [undefined, RemovalPolicy.RETAIN, RemovalPolicy.DESTROY]) {
      expect(synth(policy).json.resource.docker_volume.sessions_bundle_volume.lifecycle).toBeUndefined();
    }
  });

  test('a new memory limit replaces the container (env is a replacing attribute), so maxmemory is sized again at start', () => {
    const env = (memoryLimitMiB: number) => {
      const stack = dockerStack();
      new ReplicationGroup(stack, 'Sessions', { engine: redis, memoryLimitMiB });
      return containersByName(synthJson(stack))['sessions-node-0'].env;
    };
    expect(env(512)).toContain(`CACHEFLEET_MEMORY_BYTES=${512 * 1024 * 1024}`);
    expect(env(256)).not.toEqual(env(512));
  });

  test('limits and restart policy: overrides', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Sessions', { engine: redis, memoryLimitMiB: 1024, cpus: 1.5, restartPolicy: RestartPolicy.ALWAYS });
    const containers = containersByName(synthJson(stack));
    expect(containers['sessions-node-1']).toMatchObject({ memory: 1024, cpus: '1.5', restart: 'always' });
    expect(containers['sessions-sentinel-1'].cpus).toBeUndefined();
  });

  test('no replicas: no sentinels, one node container (and the bundle container)', () => {
    const stack = dockerStack();
    const group = new ReplicationGroup(stack, 'Solo', { engine: redis, replicasPerShard: 0 });
    expect(Object.keys(containersByName(synthJson(stack))).sort()).toEqual(['solo-bundle', 'solo-node-0']);
    expect(group.sentinelEndpoints).toEqual([]);
  });

  test('overlapping subnets are refused', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'A', { engine: redis });
    const inside = defaultSubnet('A').replace(/\.0\/24$/, '.128/25');
    expect(() => new ReplicationGroup(stack, 'B', { engine: redis, subnetCidr: inside, hostPortBase: 7400 })).toThrow(
      `\`subnetCidr\` must not overlap the subnet ${defaultSubnet('A')} of the Docker network Test/A/Network: give each fleet a subnet of its own, got: "${inside}"`,
    );
  });

  test('the bundle container uploads core\'s bundle of the plan, file for file, Terraform-escaped, with the agent, its restart key and its generation; no node uploads any', () => {
    const stack = dockerStack();
    const props = {
      engine: redis,
      replicasPerShard: 2,
      parameterGroup: new ParameterGroup(stack, 'Params', { engine: redis, parameters: { 'maxmemory-policy': 'allkeys-lru' } }),
      persistence: Persistence.aofAlways(),
    };
    new ReplicationGroup(stack, 'Sessions', props);
    const json = synthJson(stack);
    const containers = slotContainersByName(json);
    const plan = dockerPlan('Sessions', validateReplicationGroupOptions(props));
    const bundle = renderBundle(plan);
    expect(Object.keys(containers).sort()).toEqual(plan.slots.map((slot) => `sessions-${slot.name}`).sort());
    for (const [name, container] of Object.entries<any>(containers)) expect([name, uploadedBundle(container)]).toEqual([name, {}]);

    const agent = agentScript();
    const restartKey = `${restartFingerprint(plan, agent)}\n`;
    const published = { ...bundle, 'cachefleet-node': agent, 'restart-key': restartKey };
    const expected = { ...published, generation: `${bundleDigest(published).slice(0, 32)}\n` };
    const uploaded = uploadedBundle(bundleContainer(json, 'sessions'));
    expect(uploaded).toEqual(Object.fromEntries(Object.entries(expected).map(([file, text]) => [file, terraformLiteral(text)])));
    expect(restartKey).toMatch(/^[0-9a-f]{16}\n$/);
    expect(uploaded.generation).toMatch(/^[0-9a-f]{32}\n$/);
    const redisConf = terraformText(uploaded['redis.conf']);
    expect(redisConf).toBe(bundle['redis.conf']);
    expect(redisConf.split('\n')).toEqual(expect.arrayContaining(['maxmemory-policy allkeys-lru', 'appendonly yes', 'appendfsync always']));
  });

  test('snapshot: Redis 7.2, 1 + 2, parameter group, AOF always, fixed host ports', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Sessions', {
      engine: redis,
      replicasPerShard: 2,
      parameterGroup: new ParameterGroup(stack, 'Params', { engine: redis, parameters: { 'maxmemory-policy': 'allkeys-lru' } }),
      persistence: Persistence.aofAlways(),
      hostPortBase: 16379,
    });
    expect(forSnapshot(synthJson(stack))).toMatchSnapshot();
  });

});
