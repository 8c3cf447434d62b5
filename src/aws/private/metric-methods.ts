import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_NAMESPACE } from './boot-scripts';

/**
 * A metric the nodes publish (the agent's `metrics`): namespace `CacheFleet`, dimension `Fleet` (and
 * `dimensions`, such as a cluster-mode group's `Shard`), Average over 1 minute unless `props` say
 * otherwise. Created and imported fleets both read it so.
 */
export function fleetMetric(
  fleetId: string,
  metricName: string,
  props?: cloudwatch.MetricOptions,
  dimensions: Record<string, string> = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { Fleet: fleetId, ...dimensions },
    statistic: 'Average',
    period: Duration.minutes(1),
    ...props,
  });
}
