import * as fs from 'fs';
import * as path from 'path';
import { MemcachedEngineVersion, RedisEngineVersion, ValkeyEngineVersion } from '../../src/core/engine';

/**
 * Every package the EC2 boot path can install exists in Amazon Linux 2023: the names are checked
 * against the published package list (test/fixtures/al2023-packages.txt, which cites its release).
 * A name that is not there fails `dnf install` on every node, and the deploy rolls back.
 */

const ROOT = path.join(__dirname, '..', '..');

/** The AL2023 package names of the fixture (comments and blank lines left out). */
function al2023Packages(): Set<string> {
  const text = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'al2023-packages.txt'), 'utf8');
  return new Set(text.split('\n').map((line) => line.replace(/#.*/, '').trim()).filter((line) => line !== ''));
}

/** The engines' own packages: every listed version's `amazonLinuxPackage`. */
function enginePackages(): string[] {
  const versions = [
    ...Object.values(RedisEngineVersion), ...Object.values(ValkeyEngineVersion), ...Object.values(MemcachedEngineVersion),
  ].filter((value) => value && typeof value === 'object' && 'installation' in value);
  return versions.map((version) => version.installation.amazonLinuxPackage).filter((name): name is string => name !== undefined);
}

/** The node-side programs of the boot path, wherever they live (the agent, the EC2 scripts). */
function bootPathSources(): Array<{ file: string; text: string }> {
  const files = [path.join(ROOT, 'src', 'agent', 'cachefleet-node')];
  for (const dir of [path.join(ROOT, 'src', 'agent', 'aws'), path.join(ROOT, 'src', 'agent', 'lib')]) {
    if (fs.existsSync(dir)) files.push(...fs.readdirSync(dir).filter((name) => name.endsWith('.sh')).map((name) => path.join(dir, name)));
  }
  const scripts = path.join(ROOT, 'src', 'aws', 'private', 'boot-scripts.ts');
  if (fs.existsSync(scripts)) files.push(scripts);
  return files.map((file) => ({ file: path.relative(ROOT, file), text: fs.readFileSync(file, 'utf8') }));
}

/**
 * The arguments of every `dnf install` in a program: `$CF_PACKAGE` stands for the engines' packages,
 * any other variable is reported as such (the test cannot tell which package it names).
 */
function dnfInstallArguments(text: string): string[] {
  const names: string[] = [];
  // Up to the end of the command: a line end, a redirection, a pipe, a list operator or a `)`.
  for (const match of text.matchAll(/(?<!["'])\bdnf\s+(?:-\S+\s+)*install\b([^\n;&|>)]*)/g)) {
    for (const word of match[1].trim().split(/\s+/)) {
      const bare = word.replace(/^["']|["']$/g, '');
      if (bare === '' || bare.startsWith('-')) continue;
      names.push(bare);
    }
  }
  return names;
}

/**
 * A `$NAME` argument resolved to the literal its program assigns (`NAME=value` on a line of its
 * own); any other word as it is (a variable without such a line stays `$NAME`, and is not a package).
 */
function literalValue(file: string, word: string): string {
  const name = /^\$\{?([A-Z_][A-Z0-9_]*)\}?$/.exec(word)?.[1];
  if (!name) return word;
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  return new RegExp(`^${name}=([a-z0-9][a-z0-9._+-]*)$`, 'm').exec(text)?.[1] ?? word;
}

describe('Amazon Linux 2023 packages', () => {
  const published = al2023Packages();

  test('the fixture is a real list: the names the nodes rely on, and no podman', () => {
    for (const name of ['docker', 'redis6', 'memcached', 'valkey', 'awscli-2', 'xfsprogs', 'util-linux-core', 'shadow-utils', 'python3', 'curl-minimal']) {
      expect(published.has(name)).toBe(true);
    }
    // AL2023's container runtime is the docker package: there is no podman.
    expect(published.has('podman')).toBe(false);
    expect(published.size).toBeGreaterThan(500);
  });

  test('every engine package is in the list', () => {
    const packages = enginePackages();
    expect(packages).toEqual(expect.arrayContaining(['redis6', 'memcached']));
    expect(packages.filter((name) => !published.has(name))).toEqual([]);
  });

  test('every package the boot path can install is in the list', () => {
    const installed: Array<{ file: string; name: string }> = [];
    for (const { file, text } of bootPathSources()) {
      for (const name of dnfInstallArguments(text)) installed.push({ file, name });
    }
    // The boot path installs something (the check below cannot pass by finding nothing).
    expect(installed.map(({ name }) => name)).toEqual(expect.arrayContaining(['docker']));
    // The agent's host client package is a variable with a literal value in the same program.
    expect(installed.map(({ name }) => name)).toEqual(expect.arrayContaining(['$HOST_CLIENT_PACKAGE']));
    const unknown = installed
      .flatMap(({ file, name }) => (/^\$\{?CF_PACKAGE\}?$/.test(name) ? enginePackages().map((pkg) => ({ file, name: pkg })) : [{ file, name: literalValue(file, name) }]))
      .filter(({ name }) => !published.has(name))
      .map(({ file, name }) => `${file}: dnf install ${name}`);
    expect(unknown).toEqual([]);
  });

  test('the extraction sees each form the scripts use', () => {
    expect(dnfInstallArguments('retry "dnf install podman" dnf install -y podman >/dev/null')).toEqual(['podman']);
    expect(dnfInstallArguments('run_retry "x" dnf install -y "$CF_PACKAGE" >/dev/null || die')).toEqual(['$CF_PACKAGE']);
    expect(dnfInstallArguments('dnf -q install -y docker xfsprogs\n')).toEqual(['docker', 'xfsprogs']);
    expect(literalValue(path.join('src', 'agent', 'cachefleet-node'), '$HOST_CLIENT_PACKAGE')).toBe('redis6');
    expect(literalValue(path.join('src', 'agent', 'cachefleet-node'), '$NOT_ASSIGNED_ANYWHERE')).toBe('$NOT_ASSIGNED_ANYWHERE');
  });
});
