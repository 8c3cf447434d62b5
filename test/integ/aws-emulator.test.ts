import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AwsApiError, AwsEmulator, REGION } from './support/aws-emulator';
import { describeInteg, needsBinaries } from './support/binaries';
import { runCommand } from './support/processes';

/**
 * The strict layer in front of moto refuses what AWS refuses, with AWS's error code and HTTP status,
 * where moto 5.2.1 alone accepts (so the layer is needed), and answers the calls moto does not
 * implement. No engine runs here: moto and the AWS CLI only (127.0.0.1).
 */

describeInteg('the AWS emulator: moto behind a strict layer', () => {
  needsBinaries(['moto_server', 'aws', 'python3']);
  let aws: AwsEmulator;
  let dir: string;
  let subnet: string;
  let instances: string[];

  /** The outcome of one call: moto's alone, or the strict layer's. */
  async function outcome(service: string, method: string, params: Record<string, unknown>, strict: boolean) {
    try {
      return { accepted: await aws.api(service, method, params, { strict }) };
    } catch (error) {
      if (!(error instanceof AwsApiError)) throw error;
      return { code: error.code, status: error.status };
    }
  }

  /** The real AWS CLI, pointed at the strict layer (version 1 here: a service error exits 255; version 2 exits 254). */
  function cli(...args: string[]) {
    return runCommand('aws', args, { env: { PATH: process.env.PATH, HOME: process.env.HOME, AWS_DEFAULT_REGION: REGION, ...aws.cliEnv() } });
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-emulator-'));
    aws = await AwsEmulator.start(dir);
    const vpc = (await aws.api('ec2', 'create_vpc', { CidrBlock: '127.0.0.0/16' })).Vpc.VpcId;
    subnet = (await aws.api('ec2', 'create_subnet', { VpcId: vpc, CidrBlock: '127.0.0.0/24', AvailabilityZone: `${REGION}a` })).Subnet.SubnetId;
    const image = (await aws.api('ec2', 'describe_images', {})).Images[0].ImageId;
    const run = await aws.api('ec2', 'run_instances', { ImageId: image, InstanceType: 't3.micro', SubnetId: subnet, MinCount: 3, MaxCount: 3 });
    instances = run.Instances.map((i: any) => i.InstanceId);
  }, 60_000);

  afterAll(async () => {
    await aws?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a volume in use: moto attaches it to a second instance, the layer refuses VolumeInUse (400) as AWS does', async () => {
    const volumes = await Promise.all([0, 1].map(async () => (await aws.api('ec2', 'create_volume', { Size: 1, AvailabilityZone: `${REGION}a` })).VolumeId));
    // moto alone: the second attach succeeds and steals the volume.
    await aws.api('ec2', 'attach_volume', { VolumeId: volumes[0], InstanceId: instances[0], Device: '/dev/xvdf' });
    expect(await outcome('ec2', 'attach_volume', { VolumeId: volumes[0], InstanceId: instances[1], Device: '/dev/xvdf' }, false)).toEqual({ accepted: expect.objectContaining({ InstanceId: instances[1] }) });
    // The layer: refused, and the volume stays with its holder.
    await aws.api('ec2', 'attach_volume', { VolumeId: volumes[1], InstanceId: instances[0], Device: '/dev/xvdg' }, { strict: true });
    expect(await outcome('ec2', 'attach_volume', { VolumeId: volumes[1], InstanceId: instances[1], Device: '/dev/xvdg' }, true)).toEqual({ code: 'VolumeInUse', status: 400 });
    const cliAttempt = await cli('ec2', 'attach-volume', '--volume-id', volumes[1], '--instance-id', instances[2], '--device', '/dev/xvdg');
    expect({ code: cliAttempt.code, stderr: cliAttempt.stderr }).toEqual({ code: 255, stderr: expect.stringContaining(`An error occurred (VolumeInUse) when calling the AttachVolume operation: ${volumes[1]} is already attached to an instance`) });
    expect((await aws.api('ec2', 'describe_volumes', { VolumeIds: [volumes[1]] })).Volumes[0].Attachments).toEqual([expect.objectContaining({ InstanceId: instances[0] })]);
    // Detached (with --force and no instance, as AWS allows: moto alone fails on that), it attaches again.
    expect(await outcome('ec2', 'detach_volume', { VolumeId: volumes[0], Force: true }, false)).toEqual({ code: expect.any(String), status: 500 });
    const detach = await cli('ec2', 'detach-volume', '--volume-id', volumes[1], '--force');
    expect({ code: detach.code, stderr: detach.stderr }).toEqual({ code: 0, stderr: '' });
    expect(await outcome('ec2', 'attach_volume', { VolumeId: volumes[1], InstanceId: instances[1], Device: '/dev/xvdg' }, true)).toEqual({ accepted: expect.objectContaining({ InstanceId: instances[1] }) });
  });

  test('an interface in use: moto attaches it to a second instance, the layer refuses InvalidNetworkInterface.InUse (400)', async () => {
    const enis = await Promise.all(['127.0.0.201', '127.0.0.202'].map(async (address) => (await aws.api('ec2', 'create_network_interface', { SubnetId: subnet, PrivateIpAddress: address })).NetworkInterface.NetworkInterfaceId));
    await aws.api('ec2', 'attach_network_interface', { NetworkInterfaceId: enis[0], InstanceId: instances[0], DeviceIndex: 1 });
    expect(await outcome('ec2', 'attach_network_interface', { NetworkInterfaceId: enis[0], InstanceId: instances[1], DeviceIndex: 1 }, false)).toEqual({ accepted: expect.objectContaining({ AttachmentId: expect.any(String) }) });
    await aws.api('ec2', 'attach_network_interface', { NetworkInterfaceId: enis[1], InstanceId: instances[0], DeviceIndex: 2 }, { strict: true });
    expect(await outcome('ec2', 'attach_network_interface', { NetworkInterfaceId: enis[1], InstanceId: instances[1], DeviceIndex: 1 }, true)).toEqual({ code: 'InvalidNetworkInterface.InUse', status: 400 });
    // Force-detached (the agent's path from a dying holder), it attaches to the new instance.
    const attachment = (await aws.api('ec2', 'describe_network_interfaces', { NetworkInterfaceIds: [enis[1]] })).NetworkInterfaces[0].Attachment.AttachmentId;
    const detach = await cli('ec2', 'detach-network-interface', '--attachment-id', attachment, '--force');
    expect(detach.code).toBe(0);
    expect(await outcome('ec2', 'attach_network_interface', { NetworkInterfaceId: enis[1], InstanceId: instances[1], DeviceIndex: 1 }, true)).toEqual({ accepted: expect.objectContaining({ AttachmentId: expect.any(String) }) });
  });

  test('an address in use: moto creates a second interface on it, the layer refuses InvalidIPAddress.InUse (400)', async () => {
    await aws.api('ec2', 'create_network_interface', { SubnetId: subnet, PrivateIpAddress: '127.0.0.211' });
    expect(await outcome('ec2', 'create_network_interface', { SubnetId: subnet, PrivateIpAddress: '127.0.0.211' }, false)).toEqual({ accepted: expect.objectContaining({ NetworkInterface: expect.objectContaining({ PrivateIpAddress: '127.0.0.211' }) }) });
    await aws.api('ec2', 'create_network_interface', { SubnetId: subnet, PrivateIpAddress: '127.0.0.212' }, { strict: true });
    expect(await outcome('ec2', 'create_network_interface', { SubnetId: subnet, PrivateIpAddress: '127.0.0.212' }, true)).toEqual({ code: 'InvalidIPAddress.InUse', status: 400 });
    // An instance's own (primary) address counts too.
    const primary = (await aws.api('ec2', 'describe_instances', { InstanceIds: [instances[2]] })).Reservations[0].Instances[0].PrivateIpAddress;
    expect(await outcome('ec2', 'create_network_interface', { SubnetId: subnet, PrivateIpAddress: primary }, true)).toEqual({ code: 'InvalidIPAddress.InUse', status: 400 });
    expect(await outcome('ec2', 'create_network_interface', { SubnetId: subnet, PrivateIpAddress: '127.0.0.213' }, true)).toEqual({ accepted: expect.anything() });
  });

  test('signal-resource: moto does not implement it; the layer takes the signals a waiting resource expects and refuses the others', async () => {
    expect(await outcome('cloudformation', 'signal_resource', { StackName: 'Stack', LogicalResourceId: 'Group', UniqueId: instances[0], Status: 'SUCCESS' }, false)).toEqual({ code: expect.any(String), status: 500 });
    aws.registerStack('Stack', ['Group', 'Other']);
    aws.expectSignals('Stack', 'Group', 1);
    const ok = await cli('cloudformation', 'signal-resource', '--stack-name', 'Stack', '--logical-resource-id', 'Group', '--unique-id', instances[0], '--status', 'SUCCESS');
    expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: '' });
    expect(aws.awaitingSignals('Stack', 'Group')).toBe(false);
    // Once created, the resource takes no more signals; unknown stacks and resources are refused.
    expect(await outcome('cloudformation', 'signal_resource', { StackName: 'Stack', LogicalResourceId: 'Group', UniqueId: instances[1], Status: 'SUCCESS' }, true)).toEqual({ code: 'ValidationError', status: 400 });
    expect(await outcome('cloudformation', 'signal_resource', { StackName: 'Nope', LogicalResourceId: 'Group', UniqueId: instances[1], Status: 'SUCCESS' }, true)).toEqual({ code: 'ValidationError', status: 400 });
    expect(await outcome('cloudformation', 'signal_resource', { StackName: 'Stack', LogicalResourceId: 'Nope', UniqueId: instances[1], Status: 'SUCCESS' }, true)).toEqual({ code: 'ValidationError', status: 400 });
    aws.expectSignals('Stack', 'Other', 2);
    await aws.api('cloudformation', 'signal_resource', { StackName: 'Stack', LogicalResourceId: 'Other', UniqueId: instances[1], Status: 'FAILURE' }, { strict: true });
    expect(aws.awaitingSignals('Stack', 'Other')).toBe(false); // one failure fails the resource
    expect(aws.signals.map((s) => [s.logicalResourceId, s.status, s.accepted])).toEqual([
      ['Group', 'SUCCESS', true], ['Group', 'SUCCESS', false], ['Group', 'SUCCESS', false], ['Nope', 'SUCCESS', false], ['Other', 'FAILURE', true],
    ]);
  });

  test('complete-lifecycle-action: moto does not implement it; the layer completes a pending action only', async () => {
    const template = await aws.api('ec2', 'create_launch_template', { LaunchTemplateName: 'cachefleet-lt', LaunchTemplateData: { ImageId: (await aws.api('ec2', 'describe_images', {})).Images[0].ImageId } });
    await aws.api('autoscaling', 'create_auto_scaling_group', {
      AutoScalingGroupName: 'group',
      MinSize: 0,
      MaxSize: 1,
      DesiredCapacity: 0,
      VPCZoneIdentifier: subnet,
      LaunchTemplate: { LaunchTemplateId: template.LaunchTemplate.LaunchTemplateId },
    });
    await aws.api('autoscaling', 'attach_instances', { AutoScalingGroupName: 'group', InstanceIds: [instances[2]] });
    const params = { LifecycleHookName: 'hook', AutoScalingGroupName: 'group', LifecycleActionResult: 'CONTINUE', InstanceId: instances[2] };
    expect(await outcome('autoscaling', 'complete_lifecycle_action', params, false)).toEqual({ code: expect.any(String), status: 500 });
    expect(await outcome('autoscaling', 'complete_lifecycle_action', params, true)).toEqual({ code: 'ValidationError', status: 400 });
    const beat = { LifecycleHookName: 'hook', AutoScalingGroupName: 'group', InstanceId: instances[2] };
    expect(await outcome('autoscaling', 'record_lifecycle_action_heartbeat', beat, true)).toEqual({ code: 'ValidationError', status: 400 });
    aws.startLifecycleAction('group', 'hook', instances[2]);
    const extended = await cli('autoscaling', 'record-lifecycle-action-heartbeat', '--lifecycle-hook-name', 'hook', '--auto-scaling-group-name', 'group', '--instance-id', instances[2]);
    expect({ code: extended.code, stderr: extended.stderr }).toEqual({ code: 0, stderr: '' });
    expect(aws.lifecycleHeartbeats).toEqual([`group/hook/${instances[2]}`]);
    const done = await cli('autoscaling', 'complete-lifecycle-action', '--lifecycle-hook-name', 'hook', '--auto-scaling-group-name', 'group', '--lifecycle-action-result', 'CONTINUE', '--instance-id', instances[2]);
    expect({ code: done.code, stderr: done.stderr }).toEqual({ code: 0, stderr: '' });
    expect(aws.lifecycleCompletions).toEqual([{ autoScalingGroupName: 'group', lifecycleHookName: 'hook', instanceId: instances[2], result: 'CONTINUE' }]);
    expect(await outcome('autoscaling', 'complete_lifecycle_action', params, true)).toEqual({ code: 'ValidationError', status: 400 });
    // set-instance-health is moto's own: the group sees the instance Unhealthy.
    const health = await cli('autoscaling', 'set-instance-health', '--instance-id', instances[2], '--health-status', 'Unhealthy');
    expect(health.code).toBe(0);
    expect((await aws.api('autoscaling', 'describe_auto_scaling_instances', { InstanceIds: [instances[2]] })).AutoScalingInstances[0].HealthStatus).toMatch(/^unhealthy$/i); // AWS says UNHEALTHY here, moto Unhealthy
  });

  test('an instance held shutting-down keeps its attachments; describe-instances says so', async () => {
    aws.holdShuttingDown(instances[0]);
    const state = await cli('ec2', 'describe-instances', '--instance-ids', instances[0], '--query', 'Reservations[0].Instances[0].State.Name', '--output', 'text');
    expect(state.stdout.trim()).toBe('shutting-down');
    aws.holdShuttingDown(instances[0], false);
    expect((await cli('ec2', 'describe-instances', '--instance-ids', instances[0], '--query', 'Reservations[0].Instances[0].State.Name', '--output', 'text')).stdout.trim()).toBe('running');
  });

  test('an injected throttling error reaches the CLI in each protocol\'s shape, then the calls pass again', async () => {
    await aws.api('secretsmanager', 'create_secret', { Name: 'token', SecretString: 's3cret' });
    aws.inject('secretsmanager GetSecretValue', { code: 'ThrottlingException' }, 1);
    aws.inject('monitoring PutMetricData', { code: 'Throttling' }, 1);
    aws.inject('ec2 DescribeVolumes', { code: 'RequestLimitExceeded', status: 503 }, 1);
    const env = { AWS_MAX_ATTEMPTS: '1' };
    const run = (...args: string[]) => runCommand('aws', args, { env: { PATH: process.env.PATH, HOME: process.env.HOME, AWS_DEFAULT_REGION: REGION, ...aws.cliEnv(), ...env } });
    const secret = ['secretsmanager', 'get-secret-value', '--secret-id', 'token', '--query', 'SecretString', '--output', 'text'];
    const metric = ['cloudwatch', 'put-metric-data', '--namespace', 'T', '--metric-data', 'MetricName=M,Value=1'];
    const volumes = ['ec2', 'describe-volumes', '--query', 'length(Volumes)'];
    expect((await run(...secret)).stderr).toContain('An error occurred (ThrottlingException) when calling the GetSecretValue operation');
    expect((await run(...metric)).stderr).toContain('An error occurred (Throttling) when calling the PutMetricData operation');
    expect((await run(...volumes)).stderr).toContain('An error occurred (RequestLimitExceeded) when calling the DescribeVolumes operation');
    expect((await run(...secret)).stdout.trim()).toBe('s3cret');
    expect((await run(...metric)).code).toBe(0);
    expect((await run(...volumes)).code).toBe(0);
  });

  test('signatures: moto takes any; the layer refuses a Route 53 or CloudWatch request whose Signature Version 4 does not match, names an unknown key or token, or the wrong region', async () => {
    const zone = String((await aws.api('route53', 'create_hosted_zone', { Name: 'signed.internal', CallerReference: `signed-${Date.now()}` })).HostedZone.Id).replace(/^\/hostedzone\//, '');
    aws.addCredentials('ASIASIGNEDTEST000001', 'temporary/secret+key', 'session-token');
    /** A request signed by curl (`--aws-sigv4`, as the node agent signs), sorted query; its HTTP status and AWS error code. */
    async function signed(target: string, user: string, scope: string, extra: string[] = []) {
      const url = target === 'route53' ? `/2013-04-01/hostedzone/${zone}/rrset?maxitems=1&name=signed.internal&type=A` : '/';
      const form = target === 'monitoring' ? ['-H', 'Content-Type: application/x-www-form-urlencoded; charset=utf-8', '--data-binary',
        'Action=PutMetricData&Version=2010-08-01&Namespace=Signed&MetricData.member.1.MetricName=M&MetricData.member.1.Value=1'] : [];
      const result = await runCommand('curl', ['-sS', '-o', '-', '-w', '\n%{http_code}', '--user', user, '--aws-sigv4', `aws:amz:${scope}:${target}`, ...extra, ...form, `${aws.endpoint}${url}`]);
      const lines = result.stdout.trim().split('\n');
      return { status: Number(lines.pop()), code: /<Code>([^<]+)<\/Code>/.exec(lines.join('\n'))?.[1] };
    }
    // moto alone takes a wrong secret.
    const motoAlone = await runCommand('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--user', 'testing:wrong', '--aws-sigv4', 'aws:amz:us-east-1:route53',
      `${aws.motoUrl}/2013-04-01/hostedzone/${zone}/rrset?maxitems=1&name=signed.internal&type=A`]);
    expect(motoAlone.stdout).toBe('200');
    expect(await signed('route53', 'testing:testing', 'us-east-1')).toEqual({ status: 200, code: undefined });
    expect(await signed('route53', 'testing:wrong', 'us-east-1')).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
    expect(await signed('route53', 'AKIAUNKNOWN000000000:testing', 'us-east-1')).toEqual({ status: 403, code: 'InvalidClientTokenId' });
    // Route 53's signatures name us-east-1 whatever the caller's region.
    expect(await signed('route53', 'testing:testing', REGION)).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
    // Temporary credentials (an instance profile's) need their session token.
    expect(await signed('route53', 'ASIASIGNEDTEST000001:temporary/secret+key', 'us-east-1', ['-H', 'x-amz-security-token: session-token'])).toEqual({ status: 200, code: undefined });
    expect(await signed('route53', 'ASIASIGNEDTEST000001:temporary/secret+key', 'us-east-1')).toEqual({ status: 403, code: 'InvalidClientTokenId' });
    expect(await signed('monitoring', 'testing:testing', REGION)).toEqual({ status: 200, code: undefined });
    expect(await signed('monitoring', 'testing:wrong', REGION)).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
    expect((await aws.api('cloudwatch', 'list_metrics', { Namespace: 'Signed' })).Metrics).toHaveLength(1);
  });
});
