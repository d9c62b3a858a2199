import type { ReactNode } from 'react';
import { formatCount, formatDuration } from '../ui/format';
import {
  countOf,
  describeFunnel,
  describeSuccessSlices,
  formatMoney,
  formatPercentile,
  formatRate,
  funnelStages,
  peakOf,
  phaseLabel,
  pricesSet,
  sliceLabel,
  totalOf,
  usageLabel,
  type AnalyticsReport,
  type Breakdown,
  type SuccessSlice,
} from './analytics-figures';
import { DailyBars, DailyLines, HorizontalBars, type ChartRow, type ChartSeries } from './chart-drawings';
import { ChartFigure } from './chart-figure';

/** A table's header cell for a figure: right-aligned, as its column is. */
function NumberHeader({ children }: { readonly children: ReactNode }) {
  return (
    <th scope="col" className="numeric">
      {children}
    </th>
  );
}

/** Created → ran → tests passed → delivered, as bars with their counts and conversions. */
export function FunnelChart({ funnel, kindFilter }: { readonly funnel: AnalyticsReport['funnel']; readonly kindFilter: AnalyticsReport['filters']['kind'] }) {
  const stages = funnelStages(funnel);
  const rows: ChartRow[] = stages.map((stage) => ({
    category: stage.stage,
    count: stage.count,
    label: stage.ofPrevious === null ? formatCount(stage.count) : `${formatCount(stage.count)} · ${formatRate(stage.ofPrevious)} of the stage before`,
  }));
  const notes: string[] = [];
  if (kindFilter === null) notes.push('Fix and noop jobs: review and index jobs change nothing, and are counted here only when the job kind filter asks for them.');
  if (kindFilter !== 'fix') notes.push('Tests passed and delivered count fix jobs only: noop, review and index jobs change nothing.');
  if (funnel.deliveredWithoutTestsPassed > 0) {
    notes.push(`${countOf(funnel.deliveredWithoutTestsPassed, 'change')} delivered although the tests did not pass: an advisory or switched-off tests-must-pass rule let them through.`);
  }
  if (funnel.notYetDispatched > 0) notes.push(`${countOf(funnel.notYetDispatched, 'job')} created here ${funnel.notYetDispatched === 1 ? 'was' : 'were'} not taken by a worker yet.`);
  return (
    <ChartFigure
      title="Job funnel"
      summary={`${describeFunnel(funnel)} Jobs count on the day they were created.`}
      empty={funnel.created === 0 ? 'No job was created in this range. Jobs created on the Jobs screen or through the API in these days fill the funnel.' : null}
      chart={<HorizontalBars rows={rows} series={[{ key: 'count', name: 'Jobs', tone: 'solid-1', labelKey: 'label' }]} categoryWidth={110} labelRoom={230} />}
      notes={notes.length > 0 ? <ul className="chart-notes">{notes.map((note) => <li key={note}>{note}</li>)}</ul> : null}
      table={
        <table className="data-table">
          <caption className="table-note">Job funnel: jobs created in the range, by the furthest stage they reached</caption>
          <thead>
            <tr>
              <th scope="col">Stage</th>
              <NumberHeader>Jobs</NumberHeader>
              <NumberHeader>Of the stage before</NumberHeader>
              <NumberHeader>Of those created</NumberHeader>
            </tr>
          </thead>
          <tbody>
            {stages.map((stage) => (
              <tr key={stage.stage} data-stage={stage.stage}>
                <th scope="row">{stage.stage}</th>
                <td className="numeric">{formatCount(stage.count)}</td>
                <td className="numeric">{formatRate(stage.ofPrevious)}</td>
                <td className="numeric">{formatRate(stage.ofCreated)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    />
  );
}

/** Success rate (delivered of those that ran) by one breakdown: repository, pool or model. */
export function SuccessBySliceChart({ title, what, slices }: { readonly title: string; readonly what: Breakdown; readonly slices: readonly SuccessSlice[] }) {
  const rows: ChartRow[] = slices.map((slice) => ({
    category: sliceLabel(what, slice.key, slice.other, slice.mergedSlices),
    rate: slice.successRate === null ? 0 : Math.round(slice.successRate * 1_000) / 10,
    label: slice.successRate === null ? 'none ran' : `${formatRate(slice.successRate)} · ${formatCount(slice.delivered)} of ${formatCount(slice.ran)}`,
  }));
  return (
    <ChartFigure
      title={title}
      headingLevel={3}
      summary={describeSuccessSlices(slices, what)}
      empty={slices.length === 0 ? `No job was created in this range, so there is nothing to break down by ${what}.` : null}
      chart={<HorizontalBars rows={rows} series={[{ key: 'rate', name: 'Success rate', tone: 'solid-1', labelKey: 'label' }]} domainMax={100} labelRoom={130} />}
      table={
        <table className="data-table">
          <caption className="table-note">Success rate by {what}: changes delivered of the jobs that ran</caption>
          <thead>
            <tr>
              <th scope="col">{what.charAt(0).toUpperCase() + what.slice(1)}</th>
              <NumberHeader>Jobs created</NumberHeader>
              <NumberHeader>Ran</NumberHeader>
              <NumberHeader>Delivered</NumberHeader>
              <NumberHeader>Success rate</NumberHeader>
            </tr>
          </thead>
          <tbody>
            {slices.map((slice) => (
              <tr key={`${slice.key}-${slice.other}`} data-slice={slice.key}>
                <th scope="row">{sliceLabel(what, slice.key, slice.other, slice.mergedSlices)}</th>
                <td className="numeric">{formatCount(slice.jobs)}</td>
                <td className="numeric">{formatCount(slice.ran)}</td>
                <td className="numeric">{formatCount(slice.delivered)}</td>
                <td className="numeric">{formatRate(slice.successRate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    />
  );
}

/** Jobs created and changes delivered, day by day. */
export function DailyJobsChart({ daily }: { readonly daily: AnalyticsReport['daily'] }) {
  const created = totalOf(daily, (day) => day.created);
  const delivered = totalOf(daily, (day) => day.delivered);
  const busiest = peakOf(daily, (day) => day.created);
  const series: ChartSeries[] = [
    { key: 'created', name: 'Created', tone: 'line-solid-1' },
    { key: 'delivered', name: 'Delivered', tone: 'line-dashed-3' },
  ];
  return (
    <ChartFigure
      title="Jobs created and changes delivered per day"
      summary={
        `${countOf(created, 'job')} created and ${countOf(delivered, 'change')} delivered over ${countOf(daily.length, 'day')}` +
        (busiest ? `; the most jobs were created on ${busiest.point.date} (${formatCount(busiest.value)}).` : '.')
      }
      empty={created + delivered === 0 ? 'No job was created and no change delivered in this range. Each day fills in as jobs are created and finish.' : null}
      chart={<DailyLines rows={daily.map((day) => ({ day: day.date, created: day.created, delivered: day.delivered }))} series={series} formatValue={formatCount} />}
      legend={series}
      table={
        <table className="data-table">
          <caption className="table-note">Jobs created (by the day they were created) and changes delivered (by the day they finished), per UTC day</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <NumberHeader>Created</NumberHeader>
              <NumberHeader>Delivered</NumberHeader>
            </tr>
          </thead>
          <tbody>
            {daily.map((day) => (
              <tr key={day.date}>
                <th scope="row" className="nowrap">
                  {day.date}
                </th>
                <td className="numeric">{formatCount(day.created)}</td>
                <td className="numeric">{formatCount(day.delivered)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    />
  );
}

/** The cost of model tokens, day by day, at the prices set now. */
export function DailyCostChart({ daily, cost, canChangeSettings }: { readonly daily: AnalyticsReport['daily']; readonly cost: AnalyticsReport['cost']; readonly canChangeSettings: boolean }) {
  const money = (amount: number) => formatMoney(amount, cost.currency);
  const peak = peakOf(daily, (day) => day.cost);
  let empty: string | null = null;
  if (cost.total === 0) {
    empty = pricesSet(cost)
      ? 'No job that finished in this range used model tokens, so nothing was spent.'
      : `Every token is priced at 0, so every cost reads 0. ${canChangeSettings ? 'Set a price per 1,000 tokens under Settings' : 'A manager sets a price per 1,000 tokens in the analytics settings'} to see what the jobs cost.`;
  }
  return (
    <ChartFigure
      title="Cost per day"
      summary={
        `${money(cost.total)} in all for ${countOf(cost.jobsFinished, 'finished job')}` +
        (cost.perJob !== null ? ` (${money(cost.perJob)} a job)` : '') +
        (peak ? `; the most on ${peak.point.date}: ${money(peak.value)}.` : '.') +
        ` Tokens are priced at ${money(cost.pricePer1kTokens)} per 1,000` +
        (cost.modelPriceOverrides > 0 ? `, ${countOf(cost.modelPriceOverrides, 'model')} at a price of ${cost.modelPriceOverrides === 1 ? 'its' : 'their'} own.` : '.')
      }
      empty={empty}
      chart={<DailyBars rows={daily.map((day) => ({ day: day.date, cost: day.cost }))} series={[{ key: 'cost', name: 'Cost', tone: 'solid-1' }]} formatValue={money} />}
      table={
        <table className="data-table">
          <caption className="table-note">Cost of the tokens of the jobs that finished each UTC day, in {cost.currency}</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <NumberHeader>Cost</NumberHeader>
            </tr>
          </thead>
          <tbody>
            {daily.map((day) => (
              <tr key={day.date}>
                <th scope="row" className="nowrap">
                  {day.date}
                </th>
                <td className="numeric">{money(day.cost)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    />
  );
}

/** Tokens by inference endpoint and model, prompt and completion stacked. */
export function TokensChart({ models, currency }: { readonly models: AnalyticsReport['models']; readonly currency: string }) {
  const usage = models.usage;
  const tokensOf = (slice: (typeof usage)[number]) => slice.promptTokens + slice.completionTokens;
  const total = totalOf(usage, tokensOf);
  const largest = peakOf(usage, tokensOf);
  const series: ChartSeries[] = [
    { key: 'prompt', name: 'Prompt tokens', tone: 'solid-1' },
    { key: 'completion', name: 'Completion tokens', tone: 'hatch-2' },
  ];
  const rows: ChartRow[] = usage.map((slice) => ({
    category: usageLabel(slice),
    prompt: slice.promptTokens,
    completion: slice.completionTokens,
    label: `${formatCount(tokensOf(slice))} tokens`,
  }));
  return (
    <ChartFigure
      title="Tokens by endpoint and model"
      summary={
        `${formatCount(total)} tokens over ${countOf(usage.length, 'endpoint and model', 'endpoints and models')}` +
        (largest && total > 0 ? `; the most by ${usageLabel(largest.point)}: ${formatRate(largest.value / total)} of them.` : '.')
      }
      empty={usage.length === 0 ? 'No job that finished in this range reported model usage. Finished fix jobs report their tokens per endpoint and model.' : null}
      chart={<HorizontalBars rows={rows} series={series} stacked totalLabelKey="label" labelRoom={110} />}
      legend={series}
      table={
        <table className="data-table">
          <caption className="table-note">Tokens by inference endpoint and model, of the jobs that finished in the range; cost at the prices set now, in {currency}</caption>
          <thead>
            <tr>
              <th scope="col">Endpoint</th>
              <th scope="col">Model</th>
              <NumberHeader>Jobs</NumberHeader>
              <NumberHeader>Requests</NumberHeader>
              <NumberHeader>Prompt tokens</NumberHeader>
              <NumberHeader>Completion tokens</NumberHeader>
              <NumberHeader>Cost</NumberHeader>
            </tr>
          </thead>
          <tbody>
            {usage.map((slice) => (
              <tr key={`${slice.endpoint}\u0000${slice.model}`}>
                <th scope="row">{slice.other ? usageLabel(slice) : sliceLabel('endpoint', slice.endpoint)}</th>
                <td>{slice.other ? '—' : sliceLabel('model', slice.model)}</td>
                <td className="numeric">{formatCount(slice.jobs)}</td>
                <td className="numeric">{formatCount(slice.requests)}</td>
                <td className="numeric">{formatCount(slice.promptTokens)}</td>
                <td className="numeric">{formatCount(slice.completionTokens)}</td>
                <td className="numeric">{formatMoney(slice.cost, currency)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    />
  );
}

/** Queue wait and each phase's duration, p50 and p90. */
export function DurationsChart({ time }: { readonly time: AnalyticsReport['time'] }) {
  const rows = [{ label: 'Waiting in the queue', percentiles: time.queueWait }, ...time.phases.map((phase) => ({ label: phaseLabel(phase.phase), percentiles: phase }))].filter(
    (row) => row.percentiles.count > 0,
  );
  const series: ChartSeries[] = [
    { key: 'p50', name: 'Median (p50)', tone: 'solid-1', labelKey: 'p50Label' },
    { key: 'p90', name: '90th percentile (p90)', tone: 'hatch-2', labelKey: 'p90Label' },
  ];
  const chartRows: ChartRow[] = rows.map((row) => ({
    category: row.label,
    p50: row.percentiles.p50Ms ?? 0,
    p90: row.percentiles.p90Ms ?? 0,
    p50Label: `p50 ${formatPercentile(row.percentiles.p50Ms)}`,
    p90Label: `p90 ${formatPercentile(row.percentiles.p90Ms)}`,
  }));
  const slowest = peakOf(time.phases, (phase) => phase.p50Ms ?? 0);
  let empty: string | null = null;
  if (!time.percentilesAvailable) empty = 'Durations are kept per repository and per pool, not per pair: drop the repository or the pool filter to see them.';
  else if (rows.length === 0) empty = 'No fix job finished in this range, so there are no durations yet. They come with each finished fix job.';
  const accuracy = `Percentiles are read from buckets: each is within ${formatRate(time.resolution.maxRelativeError)} of the true value.`;
  return (
    <ChartFigure
      title="Time in the queue and per phase"
      summary={
        `Queue wait: median ${formatPercentile(time.queueWait.p50Ms)}, p90 ${formatPercentile(time.queueWait.p90Ms)}, over ${countOf(time.queueWait.count, 'job')}.` +
        (slowest ? ` The slowest phase is ${phaseLabel(slowest.point.phase)}, with a median of ${formatDuration(slowest.value)}.` : '') +
        ` ${accuracy}`
      }
      empty={empty}
      chart={<HorizontalBars rows={chartRows} series={series} categoryWidth={160} labelRoom={130} />}
      legend={series}
      table={
        <table className="data-table">
          <caption className="table-note">Time from created to first dispatched, and each phase of the fix jobs that finished in the range</caption>
          <thead>
            <tr>
              <th scope="col">Step</th>
              <NumberHeader>Counted</NumberHeader>
              <NumberHeader>Median (p50)</NumberHeader>
              <NumberHeader>90th percentile (p90)</NumberHeader>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.label}>
                <th scope="row">{row.label}</th>
                <td className="numeric">{formatCount(row.percentiles.count)}</td>
                <td className="numeric">{formatPercentile(row.percentiles.p50Ms)}</td>
                <td className="numeric">{formatPercentile(row.percentiles.p90Ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    />
  );
}

/** Busy and idle worker slot-hours per day, stacked: the column is what the fleet offered. */
export function FleetUtilisationChart({ fleet, daily, poolFilter }: { readonly fleet: AnalyticsReport['fleet']; readonly daily: AnalyticsReport['daily']; readonly poolFilter: string | null }) {
  const hours = (value: number) => `${value.toLocaleString('en-US', { maximumFractionDigits: 2 })} h`;
  const workers = `Workers${poolFilter ? ` of pool ${poolFilter}` : ''}`;
  // The API rounds slot-hours to 2 decimals: a few minutes of slot time read 0 h, while the
  // utilisation (from the exact times) says there was some.
  const summary =
    fleet.onlineSlotHours === 0
      ? `${workers} offered under 0.01 h of job slots while connected, and were busy ${formatRate(fleet.utilisation)} of it.`
      : `${workers} were busy ${hours(fleet.busySlotHours)} of the ${hours(fleet.onlineSlotHours)} of job slots they offered while connected ` +
        `(${formatRate(fleet.utilisation)} utilisation), idle ${hours(fleet.idleSlotHours)}.`;
  const series: ChartSeries[] = [
    { key: 'busy', name: 'Busy slot-hours', tone: 'solid-1' },
    { key: 'idle', name: 'Idle slot-hours', tone: 'hatch-5' },
  ];
  return (
    <ChartFigure
      title="Fleet utilisation"
      summary={summary}
      empty={
        fleet.utilisation === null
          ? `No worker slot time${poolFilter ? ` of pool ${poolFilter}` : ''} is counted in this range yet. The job slots of connected workers fill this chart, by the hour.`
          : null
      }
      chart={<DailyBars rows={daily.map((day) => ({ day: day.date, busy: day.busySlotHours, idle: day.idleSlotHours }))} series={series} formatValue={hours} stacked />}
      legend={series}
      notes={<p className="chart-note">Slot time belongs to workers: only the pool filter applies to it, not the repository or the job kind.</p>}
      table={
        <table className="data-table">
          <caption className="table-note">Worker slot-hours per UTC day: busy with attempts, and online but idle</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <NumberHeader>Busy</NumberHeader>
              <NumberHeader>Idle</NumberHeader>
            </tr>
          </thead>
          <tbody>
            {daily.map((day) => (
              <tr key={day.date}>
                <th scope="row" className="nowrap">
                  {day.date}
                </th>
                <td className="numeric">{hours(day.busySlotHours)}</td>
                <td className="numeric">{hours(day.idleSlotHours)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    />
  );
}

/** What policy rules did to the jobs: blocked (by level), let through, corrected, and what shadow versions would have stopped. */
export function PolicyFrictionChart({ policy }: { readonly policy: AnalyticsReport['policy'] }) {
  const series: ChartSeries[] = [
    { key: 'blockedMandatory', name: 'Blocked (mandatory)', tone: 'solid-bad' },
    { key: 'blockedAdvisory', name: 'Blocked (advisory)', tone: 'hatch-2' },
    { key: 'recorded', name: 'Let through, recorded (advisory)', tone: 'dots-5' },
    { key: 'corrected', name: 'Corrected by the model', tone: 'cross-3' },
    { key: 'shadowWouldBlock', name: 'A shadow version would block', tone: 'vertical-4' },
  ];
  const rows: ChartRow[] = policy.rules.map((rule) => ({
    category: sliceLabel('rule', rule.rule, rule.other, rule.mergedSlices),
    blockedMandatory: rule.blockedMandatory,
    blockedAdvisory: rule.blockedAdvisory,
    recorded: rule.recorded,
    corrected: rule.corrected,
    shadowWouldBlock: rule.shadowWouldBlock,
    label: countOf(rule.blockedMandatory + rule.blockedAdvisory + rule.recorded + rule.corrected + rule.shadowWouldBlock, 'decision'),
  }));
  const { totals } = policy;
  return (
    <ChartFigure
      title="Policy friction"
      summary={
        `${countOf(totals.blocked, 'decision')} blocked a change, ${formatCount(totals.recorded)} let an advisory violation through, ` +
        `${formatCount(totals.corrected)} had the model correct its change, and shadow-published versions would have blocked ${formatCount(totals.shadowWouldBlock)} more.`
      }
      empty={policy.rules.length === 0 ? 'No policy rule fired on the jobs that finished in this range. Blocks, corrections and shadow findings show here as rules fire.' : null}
      chart={<HorizontalBars rows={rows} series={series} stacked totalLabelKey="label" labelRoom={110} />}
      legend={series}
      table={
        <table className="data-table">
          <caption className="table-note">Policy decisions by rule id and outcome, on the jobs that finished in the range</caption>
          <thead>
            <tr>
              <th scope="col">Rule</th>
              <NumberHeader>Jobs</NumberHeader>
              {series.map((entry) => (
                <NumberHeader key={entry.key}>{entry.name}</NumberHeader>
              ))}
            </tr>
          </thead>
          <tbody>
            {policy.rules.map((rule) => (
              <tr key={`${rule.rule}-${rule.other}`}>
                <th scope="row">{sliceLabel('rule', rule.rule, rule.other, rule.mergedSlices)}</th>
                <td className="numeric">{formatCount(rule.jobs)}</td>
                <td className="numeric">{formatCount(rule.blockedMandatory)}</td>
                <td className="numeric">{formatCount(rule.blockedAdvisory)}</td>
                <td className="numeric">{formatCount(rule.recorded)}</td>
                <td className="numeric">{formatCount(rule.corrected)}</td>
                <td className="numeric">{formatCount(rule.shadowWouldBlock)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    />
  );
}
