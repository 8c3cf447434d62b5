import { ChildProcess, spawn } from 'child_process';
import { createHash, createHmac } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo, createServer } from 'net';
import * as path from 'path';
import { sleep, waitFor } from './processes';

/**
 * The AWS API of the boot-path tests: `moto_server` (moto 5.2) on 127.0.0.1, behind a strict layer
 * of ours, a small HTTP proxy. The node's programs call the proxy through the real AWS CLI
 * (`AWS_ENDPOINT_URL`); the proxy forwards to moto what moto models as AWS does, and itself answers
 * where moto is kinder than AWS or silent. Measured with moto 5.2.1:
 *
 * - moto attaches a volume that is in use to a second instance; AWS refuses with `VolumeInUse`;
 * - moto attaches an interface that is in use to a second instance; AWS refuses with
 *   `InvalidNetworkInterface.InUse`;
 * - moto creates a second interface on a private address already in use; AWS refuses with
 *   `InvalidIPAddress.InUse`;
 * - moto fails (HTTP 500) on `DetachVolume` without `InstanceId`, which AWS accepts (the volume names
 *   its instance): the layer adds the instance;
 * - moto does not implement `autoscaling complete-lifecycle-action` or `cloudformation
 *   signal-resource` (HTTP 500): the layer models both, refusing as AWS does what no lifecycle
 *   action or no waiting resource expects, and records what it accepted;
 * - an instance is never `shutting-down` in moto (terminate is immediate and releases its volumes):
 *   the layer can hold an instance there, with its attachments, as AWS does while it shuts down;
 * - moto takes any signature; AWS refuses a request whose Signature Version 4 does not match
 *   (`SignatureDoesNotMatch`, 403), names an unknown key (`InvalidClientTokenId`, 403) or is scoped to
 *   the wrong region. The layer checks the signatures of Route 53 and CloudWatch, the two services
 *   the node agent signs itself (curl `--aws-sigv4`) rather than through the CLI.
 *
 * The harness and the tests read and create state with `api()`, moto directly (what CloudFormation
 * and the account's owner do), never through the strict layer.
 */

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';

/** An error answer of the AWS API. */
export class AwsApiError extends Error {
  constructor(public readonly code: string, message: string, public readonly status?: number) {
    super(`${code}: ${message}`);
  }
}

/** An error the strict layer returns instead of forwarding (an injected fault, or a refusal). */
export interface InjectedError {
  /** The AWS error code, e.g. `ThrottlingException`. */
  readonly code: string;
  /** @default 400 */
  readonly status?: number;
  /** @default 'Rate exceeded' */
  readonly message?: string;
}

/** A `SignalResource` call the layer received. */
export interface ResourceSignal {
  readonly stackName: string;
  readonly logicalResourceId: string;
  readonly uniqueId: string;
  readonly status: string;
  /** Whether CloudFormation took it (a resource was waiting for it); else the refusal's message. */
  readonly accepted: boolean;
  readonly refusal?: string;
}

/** A completed lifecycle action. */
export interface LifecycleCompletion {
  readonly autoScalingGroupName: string;
  readonly lifecycleHookName: string;
  readonly instanceId: string;
  readonly result: string;
}

/** What the layer tells the harness about, before it answers the call (the device exists when the CLI returns). */
export interface EmulatorEvents {
  volumeAttached?(volumeId: string, instanceId: string, device: string): void;
  volumeDetached?(volumeId: string, instanceId: string): void;
}

/** Operations are named `<signing name> <Action>`, e.g. `ec2 AttachVolume`, `secretsmanager GetSecretValue`. */
type Params = Record<string, string>;

export class AwsEmulator {
  /**
   * Starts moto on a free port of 127.0.0.1, the strict layer in front of it, and the test's own
   * client. `dir` receives moto's log.
   */
  public static async start(dir: string): Promise<AwsEmulator> {
    const port = await freePort();
    fs.mkdirSync(dir, { recursive: true });
    const log = fs.openSync(path.join(dir, 'moto.log'), 'a');
    const moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { detached: true, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const emulator = new AwsEmulator(moto, `http://127.0.0.1:${port}`);
    try {
      await waitFor('moto_server to answer', () => httpStatus(`${emulator.motoUrl}/moto-api/`).then((status) => status === 200), { timeoutMs: 30_000, intervalMs: 200 });
      await emulator.listen();
    } catch (error) {
      await emulator.stop();
      throw error;
    }
    return emulator;
  }

  /** The strict layer's URL: what `AWS_ENDPOINT_URL` names for the node's programs. */
  public endpoint = '';
  /** Every `SignalResource` call, accepted or refused, in order. */
  public readonly signals: ResourceSignal[] = [];
  /** Every call that reached the layer (`<signing name> <Action>`, e.g. `route53 ListResourceRecordSets`), in order. */
  public readonly calls: string[] = [];
  /** Every completed lifecycle action, in order. */
  public readonly lifecycleCompletions: LifecycleCompletion[] = [];
  /** Every accepted lifecycle heartbeat (`<group>/<hook>/<instance>`), in order. */
  public readonly lifecycleHeartbeats: string[] = [];
  public events: EmulatorEvents = {};

  private readonly injected = new Map<string, { error: InjectedError; remaining: number }>();
  /**
   * The credentials the layer knows (access key to secret and session token): the CLI's dummy ones,
   * and whatever a test adds (an instance profile's).
   */
  private readonly credentials = new Map<string, { secret: string; token?: string }>([['testing', { secret: 'testing' }]]);
  private readonly stacks = new Map<string, Set<string>>();
  private readonly waitingSignals = new Map<string, { count: number; received: number }>();
  private readonly pendingLifecycle = new Set<string>();
  private readonly shuttingDown = new Set<string>();
  /** The test's and the harness's client; the layer has its own, as the layer answers the test's strict calls. */
  private readonly client: BotoWorker;
  private readonly layerClient: BotoWorker;
  private server?: http.Server;
  /** Check-then-act rules run one at a time, as AWS applies one state change to a volume at a time. */
  private lock: Promise<unknown> = Promise.resolve();
  private readonly killOnExit: () => void;

  private constructor(private readonly moto: ChildProcess, public readonly motoUrl: string) {
    this.client = new BotoWorker(motoUrl);
    this.layerClient = new BotoWorker(motoUrl);
    this.killOnExit = () => this.killAll();
    process.on('exit', this.killOnExit);
  }

  /** Makes a key known to the layer, as IAM knows an instance profile's temporary credentials. */
  public addCredentials(accessKeyId: string, secretAccessKey: string, sessionToken?: string): void {
    this.credentials.set(accessKeyId, { secret: secretAccessKey, token: sessionToken });
  }

  /** What the AWS CLI needs to call the strict layer (dummy credentials; no instance-metadata lookups). */
  public cliEnv(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL: this.endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
  }

  /**
   * One call to moto directly (boto3's method and parameter names), e.g. `api('ec2', 'describe_volumes', { VolumeIds: [id] })`;
   * `{ strict: true }` sends it through the strict layer instead.
   */
  public api(service: string, method: string, params: Record<string, unknown> = {}, options: { strict?: boolean } = {}): Promise<any> {
    return this.client.call(service, method, params, options.strict ? this.endpoint : undefined);
  }

  /** Makes the next `times` calls of `operation` (e.g. `secretsmanager GetSecretValue`) fail with `error`. */
  public inject(operation: string, error: InjectedError, times = Infinity): void {
    this.injected.set(operation, { error, remaining: times });
  }

  /** Stops injecting faults into `operation`. */
  public clearInjection(operation: string): void {
    this.injected.delete(operation);
  }

  /** A stack CloudFormation knows, with its resources' logical ids (the targets of `SignalResource`). */
  public registerStack(stackName: string, logicalIds: Iterable<string>): void {
    this.stacks.set(stackName, new Set(logicalIds));
  }

  /** CloudFormation creates or updates a resource with a creation policy: it now waits for `count` signals. */
  public expectSignals(stackName: string, logicalId: string, count = 1): void {
    this.waitingSignals.set(`${stackName}/${logicalId}`, { count, received: 0 });
  }

  /** Whether CloudFormation still waits for signals of that resource. */
  public awaitingSignals(stackName: string, logicalId: string): boolean {
    return this.waitingSignals.has(`${stackName}/${logicalId}`);
  }

  /** The Auto Scaling group holds a terminating instance at its hook (Terminating:Wait). */
  public startLifecycleAction(group: string, hook: string, instanceId: string): void {
    this.pendingLifecycle.add(`${group}/${hook}/${instanceId}`);
  }

  /** Holds an instance in `shutting-down` (its attachments stay), or releases it (`false`). */
  public holdShuttingDown(instanceId: string, hold = true): void {
    if (hold) this.shuttingDown.add(instanceId);
    else this.shuttingDown.delete(instanceId);
  }

  public async stop(): Promise<void> {
    process.removeListener('exit', this.killOnExit);
    const closed = new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
    this.server?.closeAllConnections();
    await closed;
    this.killAll();
    await sleep(100);
  }

  private killAll(): void {
    this.client.kill();
    this.layerClient.kill();
    killGroup(this.moto);
  }

  private async listen(): Promise<void> {
    this.server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk) => chunks.push(chunk));
      request.on('end', () => {
        this.handle(request, Buffer.concat(chunks), response).catch((error) => {
          response.writeHead(500, { 'content-type': 'text/plain' });
          response.end(`strict layer: ${error instanceof Error ? error.stack : String(error)}`);
        });
      });
    });
    // Keep-alive connections of the CLI must not hold stop() up.
    this.server.keepAliveTimeout = 100;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(request: http.IncomingMessage, body: Buffer, response: http.ServerResponse): Promise<void> {
    const call = describeCall(request, body);
    const operation = `${call.service} ${call.action}`;
    this.calls.push(operation);
    if (SIGNED_SERVICES[call.service]) {
      const refusal = checkSignature(request, body, this.credentials, SIGNED_SERVICES[call.service]);
      if (refusal) return sendError(response, call, refusal.code, refusal.message!, refusal.status ?? 403);
    }
    const injected = this.injected.get(operation);
    if (injected && injected.remaining > 0) {
      injected.remaining -= 1;
      return sendError(response, call, injected.error.code, injected.error.message ?? 'Rate exceeded', injected.error.status ?? 400);
    }
    const run = async () => {
      const refusal = await this.before(call);
      if (refusal) return sendError(response, call, refusal.code, refusal.message!, refusal.status ?? 400);
      if (call.answer) return sendXml(response, 200, call.answer);
      const answer = await forward(this.motoUrl, request, call.body);
      let text = answer.body.toString('utf8');
      if (answer.status === 200) text = await this.after(call, text);
      if (text === answer.body.toString('utf8')) {
        response.writeHead(answer.status, answer.headers);
        return void response.end(answer.body);
      }
      const headers = { ...answer.headers, 'content-length': String(Buffer.byteLength(text)) };
      delete headers['transfer-encoding'];
      response.writeHead(answer.status, headers);
      response.end(text);
    };
    // A check and the change it guards happen together.
    const result = this.lock.then(run, run);
    this.lock = result.catch(() => undefined);
    return result;
  }

  /** The strict rules: a refusal, or undefined (then `call.answer`, if set, is the layer's own answer). */
  private async before(call: Call): Promise<InjectedError | undefined> {
    const p = call.params;
    switch (`${call.service} ${call.action}`) {
      case 'ec2 AttachVolume': {
        const volume = await this.volume(p.VolumeId);
        if (volume && volume.Attachments.length > 0) return { code: 'VolumeInUse', message: `${p.VolumeId} is already attached to an instance` };
        return undefined;
      }
      case 'ec2 DetachVolume': {
        if (p.InstanceId) return undefined;
        const attachment = (await this.volume(p.VolumeId))?.Attachments[0];
        if (attachment) call.setParam('InstanceId', attachment.InstanceId);
        return undefined;
      }
      case 'ec2 AttachNetworkInterface': {
        const eni = await this.interface(p.NetworkInterfaceId);
        if (eni?.Attachment && eni.Attachment.Status !== 'detached') return { code: 'InvalidNetworkInterface.InUse', message: `Interface: [${p.NetworkInterfaceId}] in use.` };
        return undefined;
      }
      case 'ec2 CreateNetworkInterface': {
        const wanted = Object.entries(p).filter(([key]) => key === 'PrivateIpAddress' || /^PrivateIpAddresses\.\d+\.PrivateIpAddress$/.test(key)).map(([, value]) => value);
        if (wanted.length === 0) return undefined;
        const enis = (await this.layerClient.call('ec2', 'describe_network_interfaces', { Filters: [{ Name: 'subnet-id', Values: [p.SubnetId] }] })).NetworkInterfaces;
        const used = new Set(enis.flatMap((eni: any) => (eni.PrivateIpAddresses ?? []).map((a: any) => a.PrivateIpAddress)));
        const taken = wanted.find((address) => used.has(address));
        return taken ? { code: 'InvalidIPAddress.InUse', message: `Address ${taken} is in use.` } : undefined;
      }
      case 'autoscaling CompleteLifecycleAction': {
        if (!['CONTINUE', 'ABANDON'].includes(p.LifecycleActionResult)) {
          return { code: 'ValidationError', message: `Invalid lifecycle action result: ${p.LifecycleActionResult}` };
        }
        const key = `${p.AutoScalingGroupName}/${p.LifecycleHookName}/${p.InstanceId}`;
        if (!p.InstanceId || !this.pendingLifecycle.has(key)) return { code: 'ValidationError', message: `No active Lifecycle Action found with instance ID ${p.InstanceId}` };
        this.pendingLifecycle.delete(key);
        this.lifecycleCompletions.push({
          autoScalingGroupName: p.AutoScalingGroupName,
          lifecycleHookName: p.LifecycleHookName,
          instanceId: p.InstanceId,
          result: p.LifecycleActionResult,
        });
        call.answer = queryAnswer('CompleteLifecycleAction', 'http://autoscaling.amazonaws.com/doc/2011-01-01/');
        return undefined;
      }
      case 'autoscaling RecordLifecycleActionHeartbeat': {
        // moto lacks it too: a heartbeat extends a pending action only.
        const key = `${p.AutoScalingGroupName}/${p.LifecycleHookName}/${p.InstanceId}`;
        if (!p.InstanceId || !this.pendingLifecycle.has(key)) return { code: 'ValidationError', message: `No active Lifecycle Action found with instance ID ${p.InstanceId}` };
        this.lifecycleHeartbeats.push(key);
        call.answer = queryAnswer('RecordLifecycleActionHeartbeat', 'http://autoscaling.amazonaws.com/doc/2011-01-01/');
        return undefined;
      }
      case 'cloudformation SignalResource': {
        const refusal = this.signalRefusal(p);
        this.signals.push({
          stackName: p.StackName, logicalResourceId: p.LogicalResourceId, uniqueId: p.UniqueId, status: p.Status, accepted: !refusal, refusal,
        });
        if (refusal) return { code: 'ValidationError', message: refusal };
        const key = `${p.StackName}/${p.LogicalResourceId}`;
        const waiting = this.waitingSignals.get(key)!;
        waiting.received += 1;
        // A failure signal fails the resource; enough successes complete it. Either way it waits no more.
        if (p.Status === 'FAILURE' || waiting.received >= waiting.count) this.waitingSignals.delete(key);
        call.answer = queryAnswer('SignalResource', 'http://cloudformation.amazonaws.com/doc/2010-05-15/');
        return undefined;
      }
      default:
        return undefined;
    }
  }

  private signalRefusal(p: Params): string | undefined {
    if (!['SUCCESS', 'FAILURE'].includes(p.Status)) return `1 validation error detected: Value '${p.Status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [SUCCESS, FAILURE]`;
    const stack = this.stacks.get(p.StackName);
    if (!stack) return `Stack with id ${p.StackName} does not exist`;
    if (!stack.has(p.LogicalResourceId)) return `Resource ${p.LogicalResourceId} does not exist for stack ${p.StackName}`;
    if (!p.UniqueId) return 'UniqueId is required';
    if (!this.waitingSignals.has(`${p.StackName}/${p.LogicalResourceId}`)) return `Resource ${p.LogicalResourceId} is in CREATE_COMPLETE state and cannot be signaled`;
    return undefined;
  }

  /** After moto's success: the events, and what the layer models on top of moto's answer. */
  private async after(call: Call, text: string): Promise<string> {
    const p = call.params;
    switch (`${call.service} ${call.action}`) {
      case 'ec2 AttachVolume':
        this.events.volumeAttached?.(p.VolumeId, p.InstanceId, p.Device);
        return text;
      case 'ec2 DetachVolume':
        this.events.volumeDetached?.(p.VolumeId, p.InstanceId);
        return text;
      case 'ec2 DescribeInstances':
        for (const id of this.shuttingDown) {
          text = text.replace(new RegExp(`(<instanceId>${id}</instanceId>[\\s\\S]*?<instanceState>\\s*<code>)\\d+(</code>\\s*<name>)[a-z-]+(</name>)`), '$132$2shutting-down$3');
        }
        return text;
      default:
        return text;
    }
  }

  private async volume(id: string): Promise<any | undefined> {
    try {
      return (await this.layerClient.call('ec2', 'describe_volumes', { VolumeIds: [id] })).Volumes[0];
    } catch (error) {
      if (error instanceof AwsApiError) return undefined; // moto answers the call with the same error
      throw error;
    }
  }

  private async interface(id: string): Promise<any | undefined> {
    try {
      return (await this.layerClient.call('ec2', 'describe_network_interfaces', { NetworkInterfaceIds: [id] })).NetworkInterfaces[0];
    } catch (error) {
      if (error instanceof AwsApiError) return undefined;
      throw error;
    }
  }
}

/** boto3 in one long-lived Python process (aws-emulator/boto-worker.py): one call per line. */
class BotoWorker {
  private readonly process: ChildProcess;
  private readonly answers = new Map<number, (answer: any) => void>();
  private nextId = 0;

  constructor(motoUrl: string) {
    const script = path.join(__dirname, 'aws-emulator', 'boto-worker.py');
    this.process = spawn('python3', [script], { detached: true, stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, CACHEFLEET_MOTO_URL: motoUrl } });
    let buffer = '';
    this.process.stdout!.on('data', (chunk) => {
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const answer = JSON.parse(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
        this.answers.get(answer.id)?.(answer);
        this.answers.delete(answer.id);
      }
    });
  }

  public call(service: string, method: string, params: Record<string, unknown>, endpoint?: string): Promise<any> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.answers.set(id, (answer) => {
        if (answer.error) reject(new AwsApiError(answer.error.code, answer.error.message, answer.error.status));
        else resolve(answer.result);
      });
      this.process.stdin!.write(`${JSON.stringify({ id, service, method, params, endpoint })}\n`);
    });
  }

  public kill(): void {
    killGroup(this.process);
  }
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // gone
  }
}

// ------------------------------------------------------------------------------------------------
// The wire: which call a request is, and the errors in each protocol's shape
// ------------------------------------------------------------------------------------------------

type Protocol = 'ec2' | 'query' | 'json' | 'cbor' | 'rest-xml';

class Call {
  public answer?: string;
  constructor(
    public readonly service: string,
    public readonly action: string,
    public readonly protocol: Protocol,
    public readonly params: Params,
    public body: Buffer,
  ) {}

  /** Adds or replaces a parameter of a query-protocol request (the request forwarded changes with it). */
  public setParam(name: string, value: string): void {
    const form = new URLSearchParams(this.body.toString('utf8'));
    form.set(name, value);
    this.params[name] = value;
    this.body = Buffer.from(form.toString());
  }
}

function describeCall(request: http.IncomingMessage, body: Buffer): Call {
  const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(String(request.headers.authorization ?? ''))?.[1] ?? 'unknown';
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    const params = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
    return new Call(service, params.Action ?? 'unknown', service === 'ec2' ? 'ec2' : 'query', params, body);
  }
  const target = request.headers['x-amz-target'];
  if (target) return new Call(service, String(target).split('.').pop()!, 'json', safeJson(body), body);
  const cbor = /\/operation\/([A-Za-z]+)$/.exec(url.pathname);
  if (request.headers['smithy-protocol'] === 'rpc-v2-cbor' && cbor) return new Call(service, cbor[1], 'cbor', {}, body);
  let action = `${request.method} ${url.pathname}`;
  if (service === 'route53' && /\/rrset\/?$/.test(url.pathname)) action = request.method === 'POST' ? 'ChangeResourceRecordSets' : 'ListResourceRecordSets';
  if (service === 's3') action = { GET: 'GetObject', HEAD: 'HeadObject', PUT: 'PutObject', DELETE: 'DeleteObject' }[request.method ?? ''] ?? action;
  return new Call(service, action, 'rest-xml', {}, body);
}

// ------------------------------------------------------------------------------------------------
// Signature Version 4, as AWS checks it (docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html)
// ------------------------------------------------------------------------------------------------

/** The services whose signatures the layer checks, with the region their credential scope must name. */
const SIGNED_SERVICES: Record<string, string> = { route53: 'us-east-1', monitoring: REGION };

/** RFC 3986 encoding: everything but the unreserved characters. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The refusal AWS sends for the request's signature, or undefined when it matches. */
export function checkSignature(
  request: http.IncomingMessage, body: Buffer, credentials: Map<string, { secret: string; token?: string }>, region: string,
): InjectedError | undefined {
  const authorization = String(request.headers.authorization ?? '');
  const parts = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(authorization);
  if (!parts) return { code: 'MissingAuthenticationToken', message: 'Missing Authentication Token', status: 403 };
  const [, key, day, scopeRegion, service, signedHeaders, signature] = parts;
  const known = credentials.get(key);
  if (!known) return { code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.', status: 403 };
  if (known.token !== undefined && request.headers['x-amz-security-token'] !== known.token) {
    return { code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.', status: 403 };
  }
  // The CLI signs for its configured region whenever AWS_ENDPOINT_URL names the endpoint (as here);
  // against Route 53's own endpoint it signs for us-east-1. The agent's own signatures get no such allowance.
  const cliUnderEndpointUrl = String(request.headers['user-agent'] ?? '').startsWith('aws-cli/') && scopeRegion === REGION;
  if (scopeRegion !== region && !cliUnderEndpointUrl) {
    return { code: 'SignatureDoesNotMatch', message: `Credential should be scoped to a valid region, not '${scopeRegion}'.`, status: 403 };
  }
  const date = String(request.headers['x-amz-date'] ?? '');
  if (!date.startsWith(day)) return { code: 'SignatureDoesNotMatch', message: 'Date in Credential scope does not match the request date.', status: 403 };
  const names = signedHeaders.split(';');
  if (!names.includes('host')) return { code: 'SignatureDoesNotMatch', message: 'The host header must be signed.', status: 403 };
  const url = new URL(request.url ?? '/', 'http://localhost');
  // Each name and value encoded, then sorted by name (then value), as AWS canonicalizes the query.
  const byNameThenValue = (a: string[], b: string[]) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1);
  const query = [...url.searchParams.entries()].map(([k, v]) => [uriEncode(k), uriEncode(v)]).sort(byNameThenValue);
  const canonical = [
    request.method,
    url.pathname.split('/').map((segment) => uriEncode(segment)).join('/'),
    query.map(([k, v]) => `${k}=${v}`).join('&'),
    names.map((name) => `${name}:${String(request.headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`).join(''),
    signedHeaders,
    createHash('sha256').update(body).digest('hex'),
  ].join('\n');
  const scope = `${day}/${scopeRegion}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const hmac = (k: string | Buffer, data: string) => createHmac('sha256', k).update(data).digest();
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${known.secret}`, day), scopeRegion), service), 'aws4_request');
  if (createHmac('sha256', signingKey).update(toSign).digest('hex') !== signature) {
    return { code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided.', status: 403 };
  }
  return undefined;
}

function safeJson(body: Buffer): Params {
  try {
    return JSON.parse(body.toString('utf8') || '{}');
  } catch {
    return {};
  }
}

function requestId(): string {
  return `cachefleet-${Date.now().toString(16)}-${Math.floor(Math.random() * 1e9).toString(16)}`;
}

function sendXml(response: http.ServerResponse, status: number, xml: string): void {
  response.writeHead(status, { 'content-type': 'text/xml' });
  response.end(xml);
}

function queryAnswer(action: string, namespace: string): string {
  return `<${action}Response xmlns="${namespace}"><${action}Result/><ResponseMetadata><RequestId>${requestId()}</RequestId></ResponseMetadata></${action}Response>`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An error in the shape of the call's protocol, as AWS sends it. */
function sendError(response: http.ServerResponse, call: Call, code: string, message: string, status: number): void {
  const type = status >= 500 ? 'Receiver' : 'Sender';
  switch (call.protocol) {
    case 'ec2':
      return sendXml(response, status, `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${requestId()}</RequestID></Response>`);
    case 'query':
    case 'rest-xml':
      if (call.service === 's3') return sendXml(response, status, `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message><RequestId>${requestId()}</RequestId></Error>`);
      return sendXml(response, status, `<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId()}</RequestId></ErrorResponse>`);
    case 'json':
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': code, 'x-amzn-requestid': requestId() });
      return void response.end(JSON.stringify({ __type: code, message }));
    case 'cbor':
      response.writeHead(status, { 'content-type': 'application/cbor', 'smithy-protocol': 'rpc-v2-cbor', 'x-amzn-requestid': requestId() });
      return void response.end(cborMap({ __type: code, message }));
  }
}

/** A CBOR map of text strings (RFC 8949), enough for an rpc-v2-cbor error body. */
function cborMap(map: Record<string, string>): Buffer {
  // The initial byte is the major type in the high 3 bits, then the length (or 24/25: it follows in 1/2 bytes).
  const head = (major: number, length: number) => (length < 24 ? Buffer.from([major * 32 + length])
    : length < 256 ? Buffer.from([major * 32 + 24, length]) : Buffer.from([major * 32 + 25, Math.floor(length / 256), length % 256]));
  const text = (value: string) => {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  };
  const entries = Object.entries(map);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([key, value]) => [text(key), text(value)])]);
}

interface Forwarded {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

function forward(motoUrl: string, request: http.IncomingMessage, body: Buffer): Promise<Forwarded> {
  const target = new URL(motoUrl);
  const headers = { ...request.headers, 'content-length': String(body.length) };
  delete headers['transfer-encoding'];
  return new Promise((resolve, reject) => {
    const out = http.request({ host: target.hostname, port: target.port, method: request.method, path: request.url, headers }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk) => chunks.push(chunk));
      answer.on('end', () => {
        // The headers stay as moto sent them (a HEAD's Content-Length names the object's size).
        resolve({ status: answer.statusCode ?? 500, headers: answer.headers, body: Buffer.concat(chunks) });
      });
      answer.on('error', reject);
    });
    out.on('error', reject);
    out.end(body);
  });
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, (answer) => {
      answer.resume();
      resolve(answer.statusCode ?? 0);
    }).on('error', reject);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}
