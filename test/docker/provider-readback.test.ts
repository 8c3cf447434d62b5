import * as fs from 'fs';
import * as path from 'path';
import { containersByName, dockerStack, isBundleContainer, synthJson } from './synth';
import { CacheEngine, MemcachedEngineVersion, RedisEngineVersion } from '../../src/core/engine';
import { CacheCluster, ReplicationGroup } from '../../src/docker';

/**
 * A second `terraform apply` of an unchanged configuration changes nothing: every attribute the
 * fleet writes is written the way provider 3.6.2 reads it back, and the attributes the provider reads
 * from the host (whatever the configuration says) are left alone. The facts, with their places in
 * the provider's source: test/fixtures/provider-docker-3.6.2.json.
 */

const PROVIDER = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'provider-docker-3.6.2.json'), 'utf8'));

/** A Terraform duration ("60s", "1m30s", "500ms") as Go's time.Duration.String() prints it back. */
function goDuration(text: string): string {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let ms = 0;
  for (const [, value, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) ms += Number(value) * units[unit];
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  return `${hours ? `${hours}h` : ''}${hours || minutes ? `${minutes}m` : ''}${seconds}s`;
}

/** Every container of a replication group and a Memcached cluster: their slots' and their bundle containers. */
function fleets(): Array<[string, Record<string, any>]> {
  const stack = dockerStack();
  new ReplicationGroup(stack, 'Sessions', { engine: CacheEngine.redis({ version: RedisEngineVersion.VER_7_2 }), replicasPerShard: 2 });
  new CacheCluster(stack, 'Pages', { engine: CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 }), numCacheNodes: 2, subnetCidr: '172.28.1.0/24' });
  return Object.entries(containersByName(synthJson(stack)));
}

/** The containers that run a slot. */
function slots(): Array<[string, Record<string, any>]> {
  return fleets().filter(([, container]) => !isBundleContainer(container));
}

/** The fleets' bundle containers. */
function bundles(): Array<[string, Record<string, any>]> {
  return fleets().filter(([, container]) => isBundleContainer(container));
}

test('the fleets have both kinds of container', () => {
  expect(bundles().map(([name]) => name).sort()).toEqual(['pages-bundle', 'sessions-bundle']);
  expect(slots()).toHaveLength(8);
});

describe('provider 3.6.2 reads back what the fleet wrote: no perpetual diff', () => {
  test('a memory change: the provider would update `memory` in place, so the limit rides in `env`, which it replaces on', () => {
    expect(PROVIDER.forcesReplacement.attributes).toContain('env');
    expect(PROVIDER.forcesReplacement.attributes).not.toContain('memory');
    for (const [name, container] of slots()) {
      expect([name, container.env]).toEqual([name, expect.arrayContaining([`CACHEFLEET_MEMORY_BYTES=${container.memory * 1024 * 1024}`])]);
    }
    // The bundle container's limit is a constant of the flavor, whatever the props: it never changes.
    for (const [name, container] of bundles()) expect([name, container.memory]).toEqual([name, 32]);
  });

  test('the duration helper prints as Go does', () => {
    expect(['60s', '5s', '90s', '1m', '500ms', '3600s'].map(goDuration)).toEqual(['1m0s', '5s', '1m30s', '1m0s', '500ms', '1h0m0s']);
  });

  test.each(slots())('%s: the health check\'s durations are written in Go\'s format', (_name, container) => {
    expect(PROVIDER.readBack.healthcheck.durationFormat).toBe('go');
    const written = ['interval', 'timeout', 'start_period', 'start_interval'].filter((key) => container.healthcheck[key] !== undefined);
    expect(written.length).toBeGreaterThan(0);
    for (const key of written) expect([key, container.healthcheck[key]]).toEqual([key, goDuration(container.healthcheck[key])]);
  });

  test.each(bundles())('%s: no health check (nothing in it to check): none to read back either', (_name, container) => {
    expect(container.healthcheck).toBeUndefined();
  });

  test.each(bundles())('%s: capabilities and security options are read back as written: every capability dropped, none added, no new privileges', (_name, container) => {
    expect([PROVIDER.readBack.capabilities.asWritten, PROVIDER.readBack.security_opts.asWritten]).toEqual([true, true]);
    expect(container.capabilities).toEqual({ drop: ['ALL'] });
    expect(container.security_opts).toEqual(['no-new-privileges:true']);
  });

  test.each(slots())('%s: capabilities and security options are read back as written: every capability dropped but the agent\'s six, no new privileges', (_name, container) => {
    expect([PROVIDER.readBack.capabilities.asWritten, PROVIDER.readBack.security_opts.asWritten]).toEqual([true, true]);
    expect(container.capabilities).toEqual({ drop: ['ALL'], add: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID'] });
    expect(container.security_opts).toEqual(['no-new-privileges:true']);
    // Both replace the container when they change: a fleet of an earlier version is replaced once.
    expect(PROVIDER.forcesReplacement.attributes).toEqual(expect.arrayContaining(['capabilities', 'security_opts']));
  });

  test.each(fleets())('%s: what the host decides is neither written nor compared', (_name, container) => {
    const hostDependent = Object.entries<any>(PROVIDER.readBack).filter(([, fact]) => fact.hostDependent).map(([attribute]) => attribute);
    expect(hostDependent.sort()).toEqual(['log_driver', 'log_opts', 'memory_swap']);
    for (const attribute of hostDependent) expect([attribute, container[attribute]]).toEqual([attribute, undefined]);
    // log_opts forces a replacement when the daemon's defaults differ from the (empty) configuration.
    expect(PROVIDER.forcesReplacement.attributes).toEqual(expect.arrayContaining(['log_opts', 'log_driver']));
    expect(container.lifecycle.ignore_changes).toEqual(expect.arrayContaining(['log_driver', 'log_opts']));
  });
});
