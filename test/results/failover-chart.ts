import { FailoverResult, FaultResults } from '../faults/results';

/**
 * An SVG chart of the failover time of every trial, one series per engine, with the targets
 * (p50 and max) as lines: deterministic text from results/faults.json, so the committed chart
 * changes only when the figures do.
 */

const WIDTH = 720;
const HEIGHT = 320;
const PLOT = { left: 56, right: 16, top: 62, bottom: 40 } as const;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fixed = (value: number) => Number(value.toFixed(1)).toString();
/** The legend: two entries a row, so that four series (two engines, two settings) fit. */
const LEGEND_STEP = 320;
/** `Redis 7.0, FAST`: a series, engine and detection setting. */
const label = (series: FailoverResult) => `${series.engine}, ${series.detection}`;

export function renderFailoverChart(faults: FaultResults): string {
  const series = faults.failover;
  const target = series[0]?.targets;
  const trials = Math.max(1, ...series.map((engine) => engine.trials.length));
  const top = Math.max(target?.max.limit ?? 0, ...series.flatMap((engine) => engine.trials.map((t) => t.failoverSeconds))) * 1.1;
  const plotWidth = WIDTH - PLOT.left - PLOT.right;
  const plotHeight = HEIGHT - PLOT.top - PLOT.bottom;
  const x = (trial: number) => PLOT.left + ((trial - 0.5) / trials) * plotWidth;
  const y = (s: number) => PLOT.top + plotHeight - (s / top) * plotHeight;
  const barWidth = (plotWidth / trials) * 0.8 / Math.max(1, series.length);

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<title>Failover time per trial (kill -9 of the primary), ${escapeXml(faults.date.slice(0, 10))}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${PLOT.left}" y="18" font-size="14">Failover time per trial: kill -9 of the primary's engine, write through Sentinel succeeds</text>`,
  ];
  // The axis: whole seconds.
  for (let s = 0; s <= top; s += 1) {
    parts.push(`<line x1="${PLOT.left}" x2="${WIDTH - PLOT.right}" y1="${fixed(y(s))}" y2="${fixed(y(s))}" stroke="#e0e0e0"/>`);
    parts.push(`<text x="${PLOT.left - 8}" y="${fixed(y(s) + 4)}" text-anchor="end">${s} s</text>`);
  }
  series.forEach((engine, index) => {
    for (const trial of engine.trials) {
      const left = x(trial.trial) - (barWidth * series.length) / 2 + index * barWidth;
      parts.push(`<rect x="${fixed(left)}" y="${fixed(y(trial.failoverSeconds))}" width="${fixed(barWidth)}" height="${fixed(y(0) - y(trial.failoverSeconds))}" fill="${COLORS[index % COLORS.length]}"><title>${escapeXml(label(engine))} trial ${trial.trial}: ${trial.failoverSeconds.toFixed(2)} s</title></rect>`);
    }
    const legendX = PLOT.left + (index % 2) * LEGEND_STEP;
    const legendY = 26 + Math.floor(index / 2) * 14;
    parts.push(`<rect x="${legendX}" y="${legendY}" width="10" height="10" fill="${COLORS[index % COLORS.length]}"/>`);
    parts.push(`<text x="${legendX + 14}" y="${legendY + 9}">${escapeXml(label(engine))} (p50 ${engine.p50Seconds.toFixed(2)} s)</text>`);
  });
  if (target) {
    for (const [name, limit, dash] of [['p50 target', target.p50.limit, '6 3'], ['max target', target.max.limit, '2 2']] as const) {
      parts.push(`<line x1="${PLOT.left}" x2="${WIDTH - PLOT.right}" y1="${fixed(y(limit))}" y2="${fixed(y(limit))}" stroke="#555555" stroke-dasharray="${dash}"/>`);
      parts.push(`<text x="${WIDTH - PLOT.right - 4}" y="${fixed(y(limit) - 4)}" text-anchor="end" fill="#555555">${name} ${limit} s</text>`);
    }
  }
  for (let trial = 1; trial <= trials; trial += Math.max(1, Math.ceil(trials / 20))) {
    parts.push(`<text x="${fixed(x(trial))}" y="${PLOT.top + plotHeight + 16}" text-anchor="middle">${trial}</text>`);
  }
  parts.push(`<text x="${fixed(PLOT.left + plotWidth / 2)}" y="${PLOT.top + plotHeight + 32}" text-anchor="middle">trial</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
