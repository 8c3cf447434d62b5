import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_NAMESPACE, NODE_METRICS } from './boot-scripts';

/**
 * A metric the nodes publish (`metrics.sh`): namespace `CacheFleet`, dimension `Fleet`, Average
 * over 1 minute unless `props` say otherwise. Created and imported fleets both read it so.
 */
export function fleetMetric(fleetId: string, metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { Fleet: fleetId },
    statistic: 'Average',
    period: Duration.minutes(1),
    ...props,
  });
}

/** The named metrics, shared by created and imported fleets. */
export function namedMetric(
  metric: (name: string, props?: cloudwatch.MetricOptions) => cloudwatch.Metric,
  which: keyof typeof NODE_METRICS,
  props?: cloudwatch.MetricOptions,
): cloudwatch.Metric {
  return metric(NODE_METRICS[which], props);
}
