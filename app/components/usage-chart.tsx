/**
 * Spend per day as an SVG bar chart with the daily limit as a line, rendered on the server so it reads without
 * JavaScript. The figures are also in the table beside it; the chart's title and description say what it shows.
 */
export interface ChartDay {
  usageDate: string;
  costGbpMicros: number;
  costLabel: string;
}

const WIDTH = 720;
const HEIGHT = 240;
const PAD = { top: 16, right: 12, bottom: 36, left: 12 };

export function UsageChart({ days, limitGbpMicros, limitLabel }: { days: ChartDay[]; limitGbpMicros: number; limitLabel: string }) {
  const top = Math.max(limitGbpMicros, ...days.map((d) => d.costGbpMicros), 1) * 1.1;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = (WIDTH - PAD.left - PAD.right) / Math.max(days.length, 1);
  const y = (micros: number) => PAD.top + plotHeight - (micros / top) * plotHeight;
  const limitY = y(limitGbpMicros);
  const highest = days.reduce<ChartDay | null>((max, d) => (!max || d.costGbpMicros > max.costGbpMicros ? d : max), null);
  const over = days.filter((d) => d.costGbpMicros > limitGbpMicros).length;
  const description =
    `${days.length} bars, one per day from ${days[0]?.usageDate} to ${days.at(-1)?.usageDate}, against the daily limit of ${limitLabel}. ` +
    (highest && highest.costGbpMicros > 0 ? `The highest day is ${highest.usageDate} at ${highest.costLabel}. ` : "Nothing was spent. ") +
    (over ? `${over} day${over === 1 ? "" : "s"} went over the limit.` : "No day went over the limit.");
  return (
    <svg
      className="usage-chart"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="img"
      aria-labelledby="usage-chart-title usage-chart-desc"
      data-testid="usage-chart"
    >
      <title id="usage-chart-title">{`Spend per day, last ${days.length} days`}</title>
      <desc id="usage-chart-desc">{description}</desc>
      <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(0)} y2={y(0)} className="usage-chart__axis" />
      {days.map((day, i) => {
        const barTop = y(day.costGbpMicros);
        return (
          <rect
            key={day.usageDate}
            x={PAD.left + i * slot + slot * 0.15}
            y={barTop}
            width={slot * 0.7}
            height={Math.max(0, y(0) - barTop)}
            className={day.costGbpMicros > limitGbpMicros ? "usage-chart__bar usage-chart__bar--over" : "usage-chart__bar"}
          >
            <title>{`${day.usageDate}: ${day.costLabel}`}</title>
          </rect>
        );
      })}
      <line x1={PAD.left} x2={WIDTH - PAD.right} y1={limitY} y2={limitY} className="usage-chart__limit" data-testid="usage-chart-limit" />
      <text x={WIDTH - PAD.right} y={limitY - 4} textAnchor="end" className="usage-chart__label">
        {`Limit ${limitLabel}`}
      </text>
      {days.length ? (
        <>
          <text x={PAD.left} y={HEIGHT - 12} className="usage-chart__label">
            {days[0].usageDate}
          </text>
          <text x={WIDTH - PAD.right} y={HEIGHT - 12} textAnchor="end" className="usage-chart__label">
            {days.at(-1)!.usageDate}
          </text>
        </>
      ) : null}
    </svg>
  );
}
