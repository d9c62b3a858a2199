// Only the pieces drawn here are imported: recharts is large, and the bundler keeps only what
// is named (these cost about 125 kB gzipped, all of recharts about 185 kB). No Tooltip: a
// hover box serves the mouse alone, and every figure is in the table beside the chart.
import { Bar, BarChart, CartesianGrid, LabelList, Line, LineChart, ResponsiveContainer, XAxis, YAxis } from 'recharts';
import { shortDay, truncateLabel } from './analytics-figures';
import type { SeriesTone } from './chart-figure';

/** One row of a chart: its category (a stage, a slice, a day) and a value (and maybe a label) per series. */
export type ChartRow = Readonly<Record<string, string | number>>;

export interface ChartSeries {
  /** The row field holding the series' value. */
  readonly key: string;
  readonly name: string;
  readonly tone: SeriesTone;
  /** The row field holding the text drawn at the end of the bar, if any. */
  readonly labelKey?: string;
}

const BAR_THICKNESS = 20;
const ROW_GAP = 10;
const CATEGORY_KEY = 'category';
const DAY_KEY = 'day';

/**
 * Bars running left to right, one row per category (funnel stages, repositories, rules),
 * with the figure written at the end of each: the numbers are read, not estimated from
 * lengths. Stacked series share a row; their total is written in a column on the right,
 * since a stack may end in an empty segment that would carry no label.
 */
export function HorizontalBars({
  rows,
  series,
  stacked = false,
  totalLabelKey,
  domainMax,
  categoryWidth = 190,
  labelRoom = 170,
}: {
  readonly rows: readonly ChartRow[];
  readonly series: readonly ChartSeries[];
  readonly stacked?: boolean;
  /** Stacked only: the row field with the row's total, written right of the bars. */
  readonly totalLabelKey?: string;
  /** The value a full-width bar stands for (100 for percentages); else the largest value. */
  readonly domainMax?: number;
  readonly categoryWidth?: number;
  /** Room right of the longest bar for its label, px. */
  readonly labelRoom?: number;
}) {
  const barsPerRow = stacked ? 1 : series.length;
  const height = rows.length * (barsPerRow * BAR_THICKNESS + ROW_GAP * 2) + 8;
  const drawnRows = rows.map((row) => ({ ...row, [CATEGORY_KEY]: truncateLabel(String(row[CATEGORY_KEY] ?? '')) }));
  const totalsColumn = stacked && totalLabelKey !== undefined;
  return (
    <ResponsiveContainer width="100%" height={height}>
      <BarChart
        data={drawnRows}
        layout="vertical"
        margin={{ top: 4, right: totalsColumn ? 4 : labelRoom, bottom: 4, left: 4 }}
        barCategoryGap={ROW_GAP}
        barGap={2}
        accessibilityLayer={false}
      >
        <XAxis type="number" hide domain={[0, domainMax ?? 'dataMax']} />
        <YAxis type="category" dataKey={CATEGORY_KEY} width={categoryWidth} tickLine={false} axisLine={false} interval={0} />
        {totalsColumn ? (
          <YAxis yAxisId="totals" orientation="right" type="category" dataKey={totalLabelKey} width={labelRoom} tickLine={false} axisLine={false} interval={0} className="totals-axis" />
        ) : null}
        {series.map((entry) => (
          <Bar
            key={entry.key}
            dataKey={entry.key}
            name={entry.name}
            stackId={stacked ? 'stack' : undefined}
            className={`series series-${entry.tone}`}
            barSize={BAR_THICKNESS}
            // A zero still gets a sliver, and with it its label: "0%" is a figure, not a gap.
            minPointSize={stacked ? 0 : 2}
            isAnimationActive={false}
          >
            {!stacked && entry.labelKey ? <LabelList dataKey={entry.labelKey} position="right" className="bar-label" /> : null}
          </Bar>
        ))}
      </BarChart>
    </ResponsiveContainer>
  );
}

interface DailyChartProps {
  /** One row per day of the range, `day` as YYYY-MM-DD. */
  readonly rows: readonly ChartRow[];
  readonly series: readonly ChartSeries[];
  readonly formatValue: (value: number) => string;
}

const DAILY_HEIGHT = 240;
const DAILY_MARGIN = { top: 8, right: 12, bottom: 0, left: 0 };

function dayAxis() {
  return <XAxis dataKey={DAY_KEY} tickFormatter={shortDay} minTickGap={18} tickLine={false} />;
}

/** Columns per day; `stacked` piles the series (busy over idle slot-hours) so the column is their sum. */
export function DailyBars({ rows, series, formatValue, stacked = false }: DailyChartProps & { readonly stacked?: boolean }) {
  return (
    <ResponsiveContainer width="100%" height={DAILY_HEIGHT}>
      <BarChart data={[...rows]} margin={DAILY_MARGIN} accessibilityLayer={false}>
        <CartesianGrid vertical={false} />
        {dayAxis()}
        <YAxis width={72} tickFormatter={(value: number) => formatValue(value)} />
        {series.map((entry) => (
          <Bar key={entry.key} dataKey={entry.key} name={entry.name} stackId={stacked ? 'stack' : undefined} className={`series series-${entry.tone}`} isAnimationActive={false} />
        ))}
      </BarChart>
    </ResponsiveContainer>
  );
}

/** Lines per day; each series has its own line style (solid, dashed) besides its colour. */
export function DailyLines({ rows, series, formatValue }: DailyChartProps) {
  // Dots help on a few weeks; on a year they would be a smear.
  const dots = rows.length <= 31;
  return (
    <ResponsiveContainer width="100%" height={DAILY_HEIGHT}>
      <LineChart data={[...rows]} margin={DAILY_MARGIN} accessibilityLayer={false}>
        <CartesianGrid vertical={false} />
        {dayAxis()}
        <YAxis width={72} allowDecimals={false} tickFormatter={(value: number) => formatValue(value)} />
        {series.map((entry) => (
          <Line key={entry.key} dataKey={entry.key} name={entry.name} type="monotone" className={`series series-${entry.tone}`} dot={dots} isAnimationActive={false} />
        ))}
      </LineChart>
    </ResponsiveContainer>
  );
}
