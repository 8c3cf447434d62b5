import * as net from 'net';

/**
 * A minimal RESP2 connection to one server, from a chosen source address. ioredis cannot bind its
 * socket to a local address, and the split-brain check needs a writer whose packets the partition
 * rules let through while everything else to the isolated primary is dropped.
 *
 * One command at a time; replies are simple strings, errors, integers, bulk strings and flat arrays.
 */
export class RespConnection {
  /** Connects `localAddress` -> `host:port` and authenticates. */
  public static async open(options: {
    host: string;
    port: number;
    localAddress: string;
    username: string;
    password: string;
    timeoutMs?: number;
  }): Promise<RespConnection> {
    const socket = net.connect({ host: options.host, port: options.port, localAddress: options.localAddress });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const connection = new RespConnection(socket, options.timeoutMs ?? 2_000);
    const reply = await connection.call('AUTH', options.username, options.password);
    if (reply !== 'OK') throw new Error(`AUTH: ${String(reply)}`);
    return connection;
  }

  private buffer = Buffer.alloc(0);
  private pending: { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout } | undefined;
  private closedWith: Error | undefined;

  private constructor(private readonly socket: net.Socket, private readonly timeoutMs: number) {
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.deliver();
    });
    const fail = (error: Error) => {
      this.closedWith ??= error;
      this.settle(undefined, this.closedWith);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  /** Sends one command; resolves with the reply, rejects with the server's error or a timeout. */
  public call(...args: Array<string | number>): Promise<unknown> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (this.pending) return Promise.reject(new Error('one command at a time'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.settle(undefined, new Error(`no reply in ${this.timeoutMs} ms`)), this.timeoutMs);
      this.pending = { resolve, reject, timer };
      const parts = args.map(String);
      this.socket.write(`*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`);
    });
  }

  public close(): void {
    this.socket.destroy();
  }

  private deliver(): void {
    const parsed = parseReply(this.buffer, 0);
    if (!parsed) return;
    this.buffer = this.buffer.subarray(parsed.end);
    this.settle(parsed.value instanceof Error ? undefined : parsed.value, parsed.value instanceof Error ? parsed.value : undefined);
  }

  private settle(value: unknown, error: Error | undefined): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    if (error) {
      // A reply that arrives after a timeout would be taken for the next command's: give up the connection.
      if (!this.closedWith && /no reply/.test(error.message)) {
        this.closedWith = error;
        this.socket.destroy();
      }
      pending.reject(error);
    } else {
      pending.resolve(value);
    }
  }
}

/** Parses one reply at `start`; undefined when the buffer does not hold all of it yet. */
function parseReply(buffer: Buffer, start: number): { value: unknown; end: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', start);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buffer[start]);
  const line = buffer.subarray(start + 1, lineEnd).toString('utf8');
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new Error(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buffer.length < next + length + 2) return undefined;
      return { value: buffer.subarray(next, next + length).toString('utf8'), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      const items: unknown[] = [];
      let position = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, position);
        if (!item) return undefined;
        items.push(item.value);
        position = item.end;
      }
      return { value: items, end: position };
    }
    default:
      throw new Error(`a reply type this client does not know: ${JSON.stringify(type)}`);
  }
}
