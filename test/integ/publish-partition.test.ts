import * as fs from 'fs';
import * as path from 'path';
import { describeInteg, requireBinaries } from './support/binaries';
import { command, Credentials } from './support/clients';
import { AGENT, Fleet } from './support/fleet';
import { loopbackAddresses, REDIS_7_0, replicationGroupPlan } from './support/plans';
import { CommandResult, runCommand, waitFor } from './support/processes';
import { mustIptables, removeChain } from '../faults/partition';

/**
 * The published primary follows only a majority of ALL the group's sentinels. A 1 + 2 group runs on
 * 127.0.0.171-173 (the local platform: a node's published primary is its `$STATE_DIR/primary`).
 * The old primary's node — its engine, its sentinel and its agent — is cut off from the others with
 * iptables, as the fault suite does (a chain of this file's own, jumped to from OUTPUT, always
 * removed). Its own sentinel goes on naming it as the primary while the other two fail it over.
 *
 * - On the isolated node, neither the reconciliation (every 10 s on a node) nor the failover hook
 *   moves the record back to it, run after run: it hears only 1 of 3 sentinels.
 * - On the majority side, the reconciliation moves a record still naming the old primary to the
 *   new one.
 * - Once the partition heals, the old primary is a replica and its node agrees with the record.
 *
 * Each server sends from its own address (`bind-source-addr`), as on separate hosts, and the agent of
 * the isolated node runs with a group id of its own (setpriv), so that the rules cut its connections
 * as well: it reaches its own node's address only, like an agent on that host.
 */
jest.setTimeout(180_000);

const CHAIN = 'CACHEFLEET-PUBLISH';
/** The group id the isolated node's agent runs with (its traffic is matched by owner). */
const ISOLATED_AGENT_GID = 47171;

function removeChainOfThisFile(): void {
  removeChain(CHAIN);
}

/**
 * Cuts `isolated` off: its servers' packets to any other address and any packet to it are dropped,
 * except its own traffic with itself and its agent's (group `ISOLATED_AGENT_GID`, which connects
 * from 127.0.0.1) with it; that agent reaches no other address.
 */
function isolate(isolated: string): void {
  removeChainOfThisFile();
  mustIptables(['-N', CHAIN]);
  try {
    const rules: string[][] = [
      ['-s', isolated, '-d', isolated, '-j', 'RETURN'],
      ['-m', 'owner', '--gid-owner', String(ISOLATED_AGENT_GID), '-d', isolated, '-j', 'RETURN'],
      ['-m', 'owner', '--gid-owner', String(ISOLATED_AGENT_GID), '-j', 'DROP'],
      // The isolated servers' answers to the agent above (the servers connect out from their own
      // address; only that agent's requests reach them from 127.0.0.1).
      ['-s', isolated, '-d', '127.0.0.1', '-j', 'RETURN'],
      ['-s', isolated, '-j', 'DROP'],
      ['-d', isolated, '-j', 'DROP'],
    ];
    for (const rule of rules) mustIptables(['-A', CHAIN, ...rule]);
    mustIptables(['-I', 'OUTPUT', '1', '-j', CHAIN]);
  } catch (error) {
    removeChainOfThisFile();
    throw error;
  }
}

describeInteg('the published primary under a partition (a majority of all the sentinels, or nothing moves)', () => {
  const addresses = loopbackAddresses(171, 3);
  const [oldPrimary] = addresses;
  const plan = replicationGroupPlan('publish-partition', REDIS_7_0.engine, addresses);
  const masterName = plan.sentinel!.masterName;
  const port = plan.port;
  const sentinelPort = plan.slots[0].sentinelPort!;
  const isolatedSlot = plan.slots.find((slot) => slot.address === oldPrimary)!.name;
  const majoritySlot = plan.slots.find((slot) => slot.address === addresses[1])!.name;
  let fleet: Fleet;
  let sentinelAuth: Credentials;
  let newPrimary = '';

  beforeAll(async () => {
    requireBinaries([REDIS_7_0.server, REDIS_7_0.cli, 'iptables', 'setpriv', 'timeout']);
    process.on('exit', () => {
      try {
        removeChainOfThisFile();
      } catch {
        // The next run removes it first.
      }
    });
    removeChainOfThisFile();
    fleet = Fleet.create({ plan, label: 'publish-partition' });
    // Hosts send from their own address; on one loopback the servers must be told to, or their
    // outgoing connections (a sentinel's to its peers, a replica's to its primary) leave from
    // 127.0.0.1 and cross the cut.
    for (const slot of plan.slots) {
      for (const file of ['sentinel.conf', 'redis-node.conf']) {
        fs.appendFileSync(path.join(fleet.dirs(slot).config, file), '\nbind-source-addr {{address}}\n');
      }
    }
    sentinelAuth = { password: fleet.appPassword };
    fleet.startAll();
    try {
      await fleet.waitAllReady(30);
    } catch (error) {
      if (error instanceof Error) error.message += `\n${fleet.logs()}`;
      throw error;
    }
  }, 60_000);

  afterAll(async () => {
    removeChainOfThisFile();
    await fleet?.dispose();
  }, 30_000);

  function published(slot: string): string {
    const file = path.join(fleet.dirs(slot).state, 'primary');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
  }

  function setPublished(slot: string, value: string): void {
    fs.writeFileSync(path.join(fleet.dirs(slot).state, 'primary'), `${value}\n`);
  }

  /** Runs an agent subcommand as the isolated node's agent (its traffic under the partition's rules). */
  function isolatedAgent(args: string[]): Promise<CommandResult> {
    return runCommand('setpriv', ['--regid', String(ISOLATED_AGENT_GID), '--clear-groups', AGENT, ...args], {
      env: fleet.env(isolatedSlot),
      timeoutMs: 60_000,
    });
  }

  async function namedBy(sentinelAddress: string): Promise<string> {
    const [ip, p] = (await command(sentinelAddress, sentinelPort, sentinelAuth, 'SENTINEL', 'get-master-addr-by-name', masterName)) as string[];
    return `${ip}:${p}`;
  }

  test('before the partition, every node publishes the primary all the sentinels name', async () => {
    // Sentinel promotes only a replica it knows, in sync: it learns them from the primary's INFO
    // (every 10 s). Cut before every sentinel has, the majority side finds no good replica
    // (-failover-abort-no-good-slave) and never fails over.
    for (const sentinel of addresses) {
      await waitFor(`sentinel ${sentinel} to know both replicas in sync`, async () => {
        const reply = (await command(sentinel, sentinelPort, sentinelAuth, 'SENTINEL', 'REPLICAS', masterName)) as string[][];
        const replicas = reply.map((fields) => Object.fromEntries(fields.flatMap((_, i) => (i % 2 === 0 ? [[fields[i], fields[i + 1]]] : []))));
        return replicas.length === 2 && replicas.every((r) => r['master-link-status'] === 'ok');
      }, { timeoutMs: 30_000, intervalMs: 500 });
    }
    for (const slot of plan.slots) {
      const result = await fleet.agent(slot, ['reconcile']);
      expect({ slot: slot.name, code: result.code }).toEqual({ slot: slot.name, code: 0 });
      expect(published(slot.name)).toBe(`${oldPrimary}:${port}`);
    }
  });

  test('the isolated old primary, whose own sentinel still names it, moves the record neither by reconciliation nor by its failover hook', async () => {
    isolate(oldPrimary);
    // The two other sentinels fail the primary over (down-after, then the vote).
    newPrimary = await waitFor(
      'the majority side to fail the primary over',
      async () => {
        const named = await Promise.all(addresses.slice(1).map(namedBy));
        return named[0] === named[1] && named[0] !== `${oldPrimary}:${port}` ? named[0] : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    ).catch((error: Error) => {
      // The servers' and sentinels' logs say why (the test's directory goes with the run).
      throw new Error(`${error.message}\n${fleet.logs()}`);
    });
    // What the isolated node hears: its own sentinel still names it (the precondition of a flap).
    const ownSentinel = await runCommand(
      'setpriv',
      ['--regid', String(ISOLATED_AGENT_GID), '--clear-groups', 'timeout', '5', REDIS_7_0.cli, '--no-auth-warning', '-h', oldPrimary, '-p', String(sentinelPort),
        'SENTINEL', 'get-master-addr-by-name', masterName],
      { env: { ...process.env, REDISCLI_AUTH: fleet.appPassword } },
    );
    expect(ownSentinel.stdout.trim().split('\n')).toEqual([oldPrimary, String(port)]);

    // The record as the majority side publishes it.
    setPublished(isolatedSlot, newPrimary);
    for (let run = 1; run <= 2; run++) {
      const result = await isolatedAgent(['reconcile']);
      expect({ run, code: result.code, published: published(isolatedSlot) }).toEqual({ run, code: 1, published: newPrimary });
      expect(result.stderr).toContain('no majority of the group');
    }
    // Sentinel's hook, as the isolated sentinel would call it were it to see a failover to itself.
    const hook = await isolatedAgent(['on-failover', masterName, 'observer', 'start', oldPrimary, String(port), oldPrimary, String(port)]);
    expect({ code: hook.code, published: published(isolatedSlot) }).toEqual({ code: 1, published: newPrimary });
  });

  test('on the majority side, the reconciliation moves a record that still names the old primary', async () => {
    expect(newPrimary).not.toBe('');
    setPublished(majoritySlot, `${oldPrimary}:${port}`);
    const result = await fleet.agent(majoritySlot, ['reconcile']);
    expect({ code: result.code, published: published(majoritySlot) }).toEqual({ code: 0, published: newPrimary });
    const again = await fleet.agent(majoritySlot, ['reconcile']);
    expect({ code: again.code, published: published(majoritySlot) }).toEqual({ code: 0, published: newPrimary });
  });

  test('after the partition heals, the old primary follows the new one and its node publishes the same', async () => {
    removeChainOfThisFile();
    await waitFor('every sentinel to name the new primary', async () => {
      const named = await Promise.all(addresses.map(namedBy));
      return named.every((n) => n === newPrimary) || undefined;
    }, { timeoutMs: 30_000, intervalMs: 500 });
    setPublished(isolatedSlot, `${oldPrimary}:${port}`);
    const result = await fleet.agent(isolatedSlot, ['reconcile']);
    expect({ code: result.code, published: published(isolatedSlot) }).toEqual({ code: 0, published: newPrimary });
  });
});
