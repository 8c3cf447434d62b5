import * as dgram from 'dgram';
import * as net from 'net';
import Redis from 'ioredis';
import { CommandResult, runCommand } from './processes';

/** Who a client authenticates as: nobody, a user with a password, or a password alone (`default`). */
export interface Credentials {
  readonly username?: string;
  readonly password?: string;
}

/**
 * An ioredis connection that fails fast: no reconnection, no offline queue, no ready check (which
 * would send INFO before the test's own first command).
 */
export async function connect(host: string, port: number, credentials: Credentials = {}, connectTimeoutMs = 1_000): Promise<Redis> {
  const client = new Redis({
    host,
    port,
    username: credentials.username,
    password: credentials.password,
    lazyConnect: true,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: connectTimeoutMs,
    commandTimeout: 5_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw error;
  }
  return client;
}

/** Runs `fn` on a fresh connection and closes it. */
export async function withClient<T>(host: string, port: number, credentials: Credentials, fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = await connect(host, port, credentials);
  try {
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

/** One command on a fresh connection. */
export function command(host: string, port: number, credentials: Credentials, name: string, ...args: Array<string | number>): Promise<unknown> {
  return withClient(host, port, credentials, (client) => client.call(name, ...args));
}

/**
 * Connects without credentials and sends `AUTH` (with a username when given): resolves with the
 * reply, rejects with the server's error (WRONGPASS, …).
 */
export function auth(host: string, port: number, password: string, username?: string): Promise<unknown> {
  return withClient(host, port, {}, (client) => (username === undefined ? client.call('AUTH', password) : client.call('AUTH', username, password)));
}

/** `redis-cli` / `valkey-cli`, with the password in REDISCLI_AUTH (never in argv). */
export function cli(binary: string, host: string, port: number, args: string[], credentials: Credentials = {}): Promise<CommandResult> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
  const flags = ['--no-auth-warning', '-h', host, '-p', String(port)];
  if (credentials.password !== undefined) env.REDISCLI_AUTH = credentials.password;
  if (credentials.username !== undefined) flags.push('--user', credentials.username);
  return runCommand(binary, [...flags, ...args], { env, timeoutMs: 10_000 });
}

/** A flat `[key, value, key, value, …]` reply as an object. */
export function pairs(reply: unknown): Record<string, string> {
  const list = reply as string[];
  const result: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) result[list[i]] = String(list[i + 1]);
  return result;
}

/** The fields of an INFO section. */
export function infoFields(info: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of info.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

/**
 * A memcached text-protocol exchange over TCP: sends `request` and resolves with everything
 * received once it ends with one of the terminators (`END`, `STORED`, …).
 */
export function memcachedRequest(host: string, port: number, request: string, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`memcached ${host}:${port} did not answer ${JSON.stringify(request)} in ${timeoutMs} ms (got ${JSON.stringify(received)})`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk) => {
      received += chunk.toString('utf8');
      if (/(^|\r\n)(END|STORED|NOT_STORED|DELETED|NOT_FOUND|ERROR|CLIENT_ERROR [^\r]*|SERVER_ERROR [^\r]*|VERSION [^\r]*)\r\n$/.test(received)) {
        clearTimeout(timer);
        socket.end();
        resolve(received);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * Sends one memcached UDP request (with the 8-byte frame header memcached's UDP protocol needs)
 * and resolves with the reply, or `undefined` when nothing came back within `waitMs`.
 */
export function memcachedUdpRequest(host: string, port: number, request: string, waitMs = 500): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const header = Buffer.from([0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00]);
    const timer = setTimeout(() => {
      socket.close();
      resolve(undefined);
    }, waitMs);
    socket.on('message', (message) => {
      clearTimeout(timer);
      socket.close();
      resolve(message);
    });
    // An ICMP port unreachable surfaces as an error on a connected socket: no answer either way.
    socket.on('error', () => undefined);
    socket.send(Buffer.concat([header, Buffer.from(request)]), port, host);
  });
}

/** `SENTINEL REPLICAS` as valkey-cli prints it: one block of field / value lines per replica, each starting with `name`. */
export function sentinelReplicas(stdout: string): Array<Record<string, string>> {
  const lines = stdout.split('\n').filter(Boolean);
  const replicas: Array<Record<string, string>> = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    if (lines[i] === 'name') replicas.push({});
    replicas[replicas.length - 1][lines[i]] = lines[i + 1];
  }
  return replicas;
}
