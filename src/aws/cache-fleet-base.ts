import { Resource } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Endpoint } from './endpoint';
import { ICacheFleet } from './fleet';
import { NODE_METRICS } from './private/boot-scripts';
import { fleetMetric } from './private/metric-methods';

/**
 * What every fleet, created or imported, has: the metrics its nodes publish (the agent's `metrics`:
 * sampled every minute, sent every 5 minutes; namespace `CacheFleet`, dimension `Fleet`) read the same way.
 */
export abstract class CacheFleetBase extends Resource implements ICacheFleet {
  public abstract readonly fleetId: string;
  public abstract readonly endpoint: Endpoint;
  public abstract readonly connections: ec2.Connections;

  public abstract grantConnect(grantee: iam.IGrantable): iam.Grant;

  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fleetMetric(this.fleetId, metricName, props);
  }

  /** The nodes' CPU use, percent (`CPUUtilization`, Average over 1 minute). */
  public metricCPUUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(NODE_METRICS.cpuUtilization, props);
  }

  /** Client connections (`CurrConnections`, Average over 1 minute). */
  public metricCurrConnections(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(NODE_METRICS.currConnections, props);
  }

  /** Memory used as a percentage of the engine's limit (`DatabaseMemoryUsagePercentage`, Average over 1 minute). */
  public metricDatabaseMemoryUsagePercentage(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(NODE_METRICS.memoryUsagePercentage, props);
  }

  /**
   * Whether the last scheduled backup failed (`BackupFailed`, Maximum over 1 minute): 1 from the node
   * that claimed the day's backup and could not finish it, until a later one succeeds. Only nodes that
   * took a scheduled backup publish it: alarm on `>= 1`, with missing data as not breaching.
   */
  public metricBackupFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(NODE_METRICS.backupFailed, { statistic: 'Maximum', ...props });
  }
}
