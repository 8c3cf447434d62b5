import { missingWrites, WrittenKey } from './data';
import { FaultEngine, singleNodeJson, SynthesizedFleet } from './fleet-from-synth';
import { AofRun } from './results';
import { target } from './stats';
import { Persistence } from '../../src/core/persistence';
import { command, connect, Credentials, pairs } from '../integ/support/clients';
import { sleep } from '../integ/support/processes';

/**
 * kill -9 of a node with an append-only file while writers are busy, then a restart as its
 * container's restart policy would do it: every write the node confirmed must be there.
 */

/** Writers in parallel, so that writes are in flight at the kill. */
const WRITERS = 4;

export interface AofOptions {
  readonly address: string;
  readonly hostAddress: string;
  /** Writing before the kill, ms. */
  readonly writeMs: number;
}

export async function runAofCrash(engine: FaultEngine, appendfsync: 'everysec' | 'always', options: AofOptions): Promise<AofRun> {
  const persistence = appendfsync === 'always' ? Persistence.aofAlways() : Persistence.aofEverySecond();
  const fleet = await SynthesizedFleet.start(singleNodeJson(engine, persistence), [options.address], options.hostAddress, `faults-aof-${appendfsync}`);
  try {
    const node = fleet.dataNodes()[0];
    const port = node.port ?? 6379;
    await requireRunningPersistence(node.address, port, fleet.admin, appendfsync);
    const confirmed: WrittenKey[] = [];
    let stopped = false;
    const write = async (writer: number) => {
      const client = await connect(node.address, port, fleet.app);
      try {
        for (let n = 0; !stopped; n++) {
          const key = { key: `aof:${writer}:${n}`, value: String(n) };
          // A write is confirmed only by its OK; the kill ends every writer with an error.
          if ((await client.set(key.key, key.value)) === 'OK') confirmed.push(key);
        }
      } catch {
        // The connection died with the node.
      } finally {
        client.disconnect();
      }
    };
    const writing = Array.from({ length: WRITERS }, (_, i) => write(i));
    const startedAt = Date.now();
    await sleep(options.writeMs);
    const killedAt = Date.now();
    await fleet.kill(node.name);
    stopped = true;
    await Promise.all(writing);
    const writesPerSecond = confirmed.length / ((killedAt - startedAt) / 1000);

    await fleet.restart(node.name);
    const lost = await missingWrites(node.address, port, fleet.app, confirmed);
    return {
      appendfsync,
      acknowledged: confirmed.length,
      lost,
      writesPerSecond: Math.round(writesPerSecond),
      target: target('acknowledged writes lost = 0', 0, lost),
    };
  } finally {
    await fleet.dispose();
  }
}

/**
 * Throws unless the running node has the append-only file on with `appendfsync` as asked: the run
 * means nothing if the synthesized fleet ignored its `persistence`.
 */
async function requireRunningPersistence(host: string, port: number, credentials: Credentials, appendfsync: string): Promise<void> {
  const running = {
    ...pairs(await command(host, port, credentials, 'CONFIG', 'GET', 'appendonly')),
    ...pairs(await command(host, port, credentials, 'CONFIG', 'GET', 'appendfsync')),
  };
  if (running.appendonly !== 'yes' || running.appendfsync !== appendfsync) {
    throw new Error(
      `the node on ${host}:${port} runs with appendonly ${running.appendonly ?? '(no reply)'}, appendfsync ${running.appendfsync ?? '(no reply)'}; ` +
        `the fleet was synthesized with AOF appendfsync ${appendfsync}: its persistence did not reach the engine`,
    );
  }
}
