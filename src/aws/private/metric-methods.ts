import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { NODE_METRICS } from './boot-scripts';

/** The named metrics, shared by created and imported fleets. */
export function namedMetric(
  metric: (name: string, props?: cloudwatch.MetricOptions) => cloudwatch.Metric,
  which: keyof typeof NODE_METRICS,
  props?: cloudwatch.MetricOptions,
): cloudwatch.Metric {
  return metric(NODE_METRICS[which], props);
}
