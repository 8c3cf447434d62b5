import { Duration, RemovalPolicy, Size, Stack, Tags } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { NodeSlot as PlannedSlot } from '../core/topology';
import { PRE_STOP_HOOK_NAME } from './private/boot-scripts';

/**
 * What a node slot is built from.
 */
export interface NodeSlotProps {
  /** The slot in the fleet plan. */
  readonly slot: PlannedSlot;
  /** The subnet (zone) the slot lives in. */
  readonly subnet: ec2.ISubnet;
  /** The VPC. */
  readonly vpc: ec2.IVpc;
  /** The group's launch template. */
  readonly launchTemplate: ec2.ILaunchTemplate;
  /** The group's security group, carried by the slot's interface. */
  readonly securityGroup: ec2.ISecurityGroup;
  /**
   * The data volume's size.
   *
   * @default - no data volume (Memcached slots)
   */
  readonly dataVolumeSize?: Size;
  /** What happens to the data volume when it leaves the stack. */
  readonly removalPolicy: RemovalPolicy;
  /** The zone of the node's record. */
  readonly hostedZone: route53.IHostedZone;
  /** Whether a termination lifecycle hook holds the instance for `pre-stop`. */
  readonly preStopHook: boolean;
  /** How long CloudFormation waits for the node's signal. */
  readonly signalTimeout: Duration;
}

/**
 * One node of a fleet: an auto scaling group of exactly one instance in one subnet, with a data
 * volume and a fixed-address network interface that the agent attaches at boot, so that a replaced
 * instance comes back as the same node with the same data and address.
 */
export class NodeSlot extends Construct {
  /** The slot's auto scaling group. */
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  /** The slot's data volume, when it has one. */
  public readonly dataVolume?: ec2.Volume;
  /** The slot's network interface. */
  public readonly networkInterface: ec2.CfnNetworkInterface;
  /** The node's record `<slot>.<zone>`. */
  public readonly record: route53.ARecord;
  /** The slot's fixed address. */
  public readonly address: string;

  constructor(scope: Construct, id: string, props: NodeSlotProps) {
    super(scope, id);
    const { slot, subnet } = props;
    this.address = slot.address;

    if (props.dataVolumeSize) {
      this.dataVolume = new ec2.Volume(this, 'DataVolume', {
        // The subnet's zone as CloudFormation knows it when the subnet is in the stack: a literal
        // zone name is what cfn-lint's W3010 warns of (a template tied to one account's zone names).
        availabilityZone: subnet instanceof ec2.Subnet ? subnet.subnetAvailabilityZone : subnet.availabilityZone,
        size: props.dataVolumeSize,
        volumeType: ec2.EbsDeviceVolumeType.GP3,
        encrypted: true,
        removalPolicy: props.removalPolicy,
      });
    }

    this.networkInterface = new ec2.CfnNetworkInterface(this, 'Interface', {
      subnetId: subnet.subnetId,
      privateIpAddress: slot.address,
      groupSet: [props.securityGroup.securityGroupId],
      description: `cachefleet ${slot.name}: the node's fixed address`,
    });

    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Group', {
      vpc: props.vpc,
      vpcSubnets: { subnets: [subnet] },
      launchTemplate: props.launchTemplate,
      minCapacity: 1,
      maxCapacity: 1,
      signals: autoscaling.Signals.waitForCount(1, { timeout: props.signalTimeout }),
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({
        maxBatchSize: 1,
        minInstancesInService: 0,
        waitOnResourceSignals: true,
        pauseTime: props.signalTimeout,
      }),
    });
    const cfnGroup = this.autoScalingGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup;
    if (props.preStopHook) {
      cfnGroup.lifecycleHookSpecificationList = [{
        lifecycleHookName: PRE_STOP_HOOK_NAME,
        lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        heartbeatTimeout: 120,
        defaultResult: 'CONTINUE',
      }];
    }

    const tag = (key: string, value: string) => Tags.of(this.autoScalingGroup).add(`cachefleet:${key}`, value, { applyToLaunchedInstances: true });
    tag('slot', slot.name);
    tag('cfn-resource', Stack.of(this).getLogicalId(cfnGroup));
    tag('interface-id', this.networkInterface.ref);
    if (this.dataVolume) tag('volume-id', this.dataVolume.volumeId);

    this.record = new route53.ARecord(this, 'Record', {
      zone: props.hostedZone,
      recordName: slot.name,
      target: route53.RecordTarget.fromIpAddresses(slot.address),
      ttl: Duration.seconds(5),
    });
  }
}
