import * as fs from 'fs';
import { describeInteg, needsBinaries } from './support/binaries';
import { memcachedRequest, memcachedUdpRequest } from './support/clients';
import { Fleet } from './support/fleet';
import { loopbackAddresses, memcachedPlan } from './support/plans';
import { runCommand } from './support/processes';

/**
 * A 3-node Memcached set rendered by core and run by the node agent: every node serves get/set on
 * its own address over TCP, UDP is closed, and a node started as root drops to an unprivileged user.
 * Addresses 127.0.0.31-33.
 */
describeInteg('Memcached set of 3 nodes', () => {
  const addresses = loopbackAddresses(31, 3);
  const plan = memcachedPlan('mc', addresses);
  let fleet: Fleet;

  needsBinaries(['memcached', 'ss']);

  beforeAll(async () => {
    fleet = Fleet.create({ plan, label: 'memcached' });
    fleet.startAll();
    await fleet.waitAllReady(30);
  }, 60_000);

  afterAll(async () => {
    await fleet?.dispose();
  }, 30_000);

  test('each node stores and serves its own keys over TCP', async () => {
    for (const [i, address] of addresses.entries()) {
      const value = `value-of-node-${i}`;
      expect(await memcachedRequest(address, 11211, `set key-${i} 0 0 ${value.length}\r\n${value}\r\n`)).toBe('STORED\r\n');
      expect(await memcachedRequest(address, 11211, `get key-${i}\r\n`)).toBe(`VALUE key-${i} 0 ${value.length}\r\n${value}\r\nEND\r\n`);
    }
    // The nodes are independent: a key lives on the node it was set on (clients shard).
    expect(await memcachedRequest(addresses[1], 11211, 'get key-0\r\n')).toBe('END\r\n');
  });

  test('each node listens on its own address only, TCP only: no UDP socket, no UDP answer', async () => {
    const tcp = (await runCommand('ss', ['-Hltn'])).stdout;
    const udp = (await runCommand('ss', ['-Hlun'])).stdout;
    for (const address of addresses) {
      expect(tcp).toContain(`${address}:11211`);
      expect(udp).not.toContain(`${address}:11211`);
    }
    expect(tcp).not.toMatch(/(0\.0\.0\.0|\*|\[::\]):11211\b/);
    for (const address of addresses) {
      expect(await memcachedUdpRequest(address, 11211, 'get key-0\r\n', 300)).toBeUndefined();
    }
  });

  /** The memcached process the agent started (itself, once it exec'd, or one it runs), in its process group. */
  function memcachedPid(group: number): number {
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // ended meanwhile
      }
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (pgrp === group && comm === 'memcached') return Number(entry);
    }
    throw new Error(`no memcached process in process group ${group}`);
  }

  test('started as root, memcached runs as an unprivileged user with the rendered arguments', () => {
    const pid = memcachedPid(fleet.process('node-0', 'memcached').pid);
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline).toContain('--udp-port=0');
    expect(cmdline).toContain(`--listen=${addresses[0]}`);
    // 256 MiB less the reserved share, in MiB.
    expect(cmdline).toContain(`--memory-limit=${Math.floor((256 * (100 - plan.reservedMemoryPercent)) / 100)}`);
    const uid = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    if (process.getuid?.() === 0) {
      expect(cmdline).toContain('-u');
      expect(uid).not.toBe('0');
    } else {
      expect(cmdline).not.toContain('-u');
    }
  });
});
