import { BootedFleet, Slot } from './aws-instance';

/** What the AWS boot tests read of the metrics the nodes publish (CloudWatch in the emulator). */

/** The metrics in the account's CloudWatch namespace: name, dimensions (`Fleet=…,Node=…`) and how many datapoints the last hour holds. */
export async function publishedMetrics(fleet: BootedFleet): Promise<Array<{ name: string; dimensions: string; datapoints: number }>> {
  const listed = (await fleet.aws.api('cloudwatch', 'list_metrics', { Namespace: 'CacheFleet' })).Metrics;
  const now = Date.now();
  return Promise.all(listed.map(async (metric: any) => {
    const statistics = await fleet.aws.api('cloudwatch', 'get_metric_statistics', {
      Namespace: 'CacheFleet',
      MetricName: metric.MetricName,
      Dimensions: metric.Dimensions,
      StartTime: new Date(now - 3_600_000).toISOString(),
      EndTime: new Date(now + 60_000).toISOString(),
      Period: 60,
      Statistics: ['SampleCount'],
    });
    return {
      name: metric.MetricName as string,
      dimensions: metric.Dimensions.map((d: any) => `${d.Name}=${d.Value}`).join(','),
      datapoints: statistics.Datapoints.reduce((sum: number, point: any) => sum + point.SampleCount, 0) as number,
    };
  }));
}

/** Runs `work` while the slot's CPU counters move (3 busy ticks and 7 idle every 100 ms), so that CPUUtilization has a value. */
export async function withMovingCpu<T>(fleet: BootedFleet, slot: Slot, work: () => Promise<T>): Promise<T> {
  const ticker = setInterval(() => fleet.advanceCpu(slot, 3, 7), 100);
  try {
    return await work();
  } finally {
    clearInterval(ticker);
  }
}
