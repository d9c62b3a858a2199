import { useCallback, useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useSearchParams } from 'react-router';
import { api } from '../api/client';
import { fieldProblems } from '../api/problems';
import { useHasScope } from '../auth/session';
import { useLiveEvent } from '../live/live-events';
import { settle, useApiResource } from '../api/api-resource';
import { FieldError } from '../ui/form';
import { formatCount } from '../ui/format';
import { RelativeTime, useNow } from '../ui/relative-time';
import { DailyCostChart, DailyJobsChart, DurationsChart, FleetUtilisationChart, FunnelChart, PolicyFrictionChart, SuccessBySliceChart, TokensChart } from './analytics-charts';
import {
  countOf,
  describeBudget,
  describeGrouping,
  describeLeftOut,
  describeMergeRequests,
  describeReviews,
  describeReportFilters,
  formatHours,
  formatMoney,
  formatPercentile,
  formatRate,
  hoursSavedAssumption,
  pricesSet,
  refreshDelayMs,
  TERMINAL_JOB_STATUSES,
  type AnalyticsReport,
} from './analytics-figures';
import {
  addDays,
  ANALYTICS_KIND_OPTIONS,
  analyticsExportHref,
  analyticsQuery,
  DEFAULT_ANALYTICS_FILTERS,
  describeRangeChoice,
  RANGE_PRESET_DAYS,
  readAnalyticsSearch,
  utcDayOf,
  writeAnalyticsSearch,
  type AnalyticsFilters,
  type AnalyticsRange,
} from './analytics-query';
import { AnalyticsSettingsPanel } from './analytics-settings-form';
import { ChartFigure, ChartPatterns } from './chart-figure';

/** A finished job changes the figures; several finish together, so the report is read at most this often. */
const REFRESH_GAP_MS = 5_000;
/** The query fields a 400 of GET /analytics may name, each shown under its filter. */
const FILTER_FIELDS = ['from', 'to', 'repoAlias', 'pool', 'kind'] as const;

/** `/analytics`: outcomes and cost per outcome for managers, filtered by the address, refreshed as jobs end. */
export function AnalyticsPage() {
  const canRead = useHasScope('analytics:read');
  if (!canRead) {
    return (
      <>
        <title>Analytics — Airlock</title>
        <h1 tabIndex={-1}>Analytics</h1>
        <p>Reading the analytics needs the analytics:read scope, which every role holds; this session does not.</p>
      </>
    );
  }
  return <Analytics />;
}

function Analytics() {
  const [searchParams, setSearchParams] = useSearchParams();
  const filters = readAnalyticsSearch(searchParams);
  // The normalised query: two addresses that mean the same filters share one read.
  const search = writeAnalyticsSearch(filters).toString();
  const canWrite = useHasScope('analytics:write');
  const [settingsOpen, setSettingsOpen] = useState(false);
  const settingsButton = useRef<HTMLButtonElement>(null);
  const settingsId = useId();
  const today = utcDayOf(new Date());

  const report = useApiResource(`analytics?${search}`, () =>
    settle(api.GET('/api/v1/analytics', { params: { query: analyticsQuery(readAnalyticsSearch(new URLSearchParams(search)), utcDayOf(new Date())) } })),
  );
  const { reload } = report;

  // Live: a job that ended changes the figures. Reads are spaced REFRESH_GAP_MS apart, and a
  // burst of endings while one is pending costs nothing more.
  const refreshTimer = useRef<number | undefined>(undefined);
  const lastRefreshAt = useRef<number | null>(null);
  useEffect(() => {
    lastRefreshAt.current = Date.now();
  }, [search]);
  useEffect(() => () => window.clearTimeout(refreshTimer.current), []);
  const refreshSoon = useCallback(() => {
    if (refreshTimer.current !== undefined) return;
    refreshTimer.current = window.setTimeout(
      () => {
        refreshTimer.current = undefined;
        lastRefreshAt.current = Date.now();
        reload();
      },
      refreshDelayMs(lastRefreshAt.current, Date.now(), REFRESH_GAP_MS),
    );
  }, [reload]);
  useLiveEvent('job.changed', (event) => {
    if (TERMINAL_JOB_STATUSES.has(event.status)) refreshSoon();
  });
  useLiveEvent('resync', refreshSoon);

  const filterProblems = report.status === 400 && report.problem ? fieldProblems(report.problem.message, FILTER_FIELDS) : { byField: {}, other: report.problem ? [report.problem.message] : [] };

  return (
    <>
      <title>Analytics — Airlock</title>
      <ChartPatterns />
      <div className="page-heading">
        <h1 tabIndex={-1}>Analytics</h1>
        <div className="heading-actions analytics-actions">
          <a className="button secondary" href={analyticsExportHref(filters, today)} download>
            Export CSV
          </a>
          {canWrite ? (
            <button type="button" ref={settingsButton} onClick={() => setSettingsOpen((open) => !open)} aria-expanded={settingsOpen} aria-controls={settingsId}>
              Settings
            </button>
          ) : null}
        </div>
      </div>
      {canWrite && settingsOpen ? (
        <AnalyticsSettingsPanel
          id={settingsId}
          onSaved={reload}
          onClose={() => {
            setSettingsOpen(false);
            settingsButton.current?.focus();
          }}
        />
      ) : null}
      <AnalyticsFiltersForm
        key={search}
        filters={filters}
        today={today}
        byField={filterProblems.byField}
        report={report.data}
        onApply={(next) => setSearchParams(writeAnalyticsSearch(next))}
      />
      {filterProblems.other.length > 0 ? (
        <p className="form-problem" role="alert">
          {filterProblems.other.join('; ')}
        </p>
      ) : null}
      {report.data ? (
        <Report report={report.data} refreshing={report.loading} canWrite={canWrite} />
      ) : report.loading ? (
        <p aria-busy="true">Loading the figures…</p>
      ) : null}
    </>
  );
}

/** Repositories and pools the report names, offered as the filters' suggestions. */
function suggestionsOf(slices: readonly { readonly key: string; readonly other: boolean }[]): string[] {
  // Keys in parentheses are not names ("(not dispatched)", "(none)"): nothing to filter by.
  return slices.filter((slice) => !slice.other && !slice.key.startsWith('(')).map((slice) => slice.key);
}

function AnalyticsFiltersForm({
  filters,
  today,
  byField,
  report,
  onApply,
}: {
  readonly filters: AnalyticsFilters;
  readonly today: string;
  readonly byField: Readonly<Record<string, string>>;
  readonly report: AnalyticsReport | null;
  readonly onApply: (filters: AnalyticsFilters) => void;
}) {
  const id = useId();
  const range = filters.range;
  const [draft, setDraft] = useState({
    // A preset shows the days it stands for, so editing one starts from them.
    from: range.kind === 'custom' ? range.from : addDays(today, -(range.days - 1)),
    to: range.kind === 'custom' ? range.to : today,
    repoAlias: filters.repoAlias,
    pool: filters.pool,
    kind: filters.kind,
  });
  // Until a day is edited, Apply keeps the range as it is (a preset stays relative).
  const [rangeEdited, setRangeEdited] = useState(false);

  const collect = (chosen: AnalyticsRange): AnalyticsFilters => ({ range: chosen, repoAlias: draft.repoAlias.trim(), pool: draft.pool.trim(), kind: draft.kind });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    onApply(collect(rangeEdited ? { kind: 'custom', from: draft.from, to: draft.to } : range));
  };
  const setDay = (field: 'from' | 'to', value: string) => {
    setDraft((current) => ({ ...current, [field]: value }));
    setRangeEdited(true);
  };
  const problemProps = (field: string, hintId?: string) => ({
    'aria-invalid': byField[field] ? true : undefined,
    'aria-describedby': [hintId ?? '', byField[field] ? `${id}-${field}-error` : ''].filter(Boolean).join(' ') || undefined,
  });

  const repositories = report ? suggestionsOf(report.successRate.byRepository) : [];
  const pools = report ? suggestionsOf(report.successRate.byPool) : [];

  return (
    <form className="filters analytics-filters" role="search" aria-label="Filter analytics" noValidate onSubmit={submit}>
      <fieldset className="range-choice">
        <legend>Range</legend>
        <div className="presets" role="group" aria-label="Range presets">
          {RANGE_PRESET_DAYS.map((days) => (
            <button
              key={days}
              type="button"
              className="secondary compact"
              aria-pressed={!rangeEdited && range.kind === 'preset' && range.days === days}
              onClick={() => onApply(collect({ kind: 'preset', days }))}
            >
              {days} days
            </button>
          ))}
        </div>
        <div className="range-days">
          <div className="field">
            <label htmlFor={`${id}-from`}>From</label>
            <input id={`${id}-from`} type="date" value={draft.from} onChange={(event) => setDay('from', event.target.value)} {...problemProps('from', `${id}-range-hint`)} />
            <FieldError id={`${id}-from-error`} problem={byField['from']} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-to`}>To</label>
            <input id={`${id}-to`} type="date" value={draft.to} onChange={(event) => setDay('to', event.target.value)} {...problemProps('to', `${id}-range-hint`)} />
            <FieldError id={`${id}-to-error`} problem={byField['to']} />
          </div>
        </div>
        <p className="field-hint" id={`${id}-range-hint`}>
          {describeRangeChoice(range)}. UTC days, both included; at most 400 days apart.
        </p>
      </fieldset>
      <div className="field">
        <label htmlFor={`${id}-repoAlias`}>Repository alias</label>
        <input
          id={`${id}-repoAlias`}
          type="text"
          autoComplete="off"
          spellCheck={false}
          list={`${id}-repositories`}
          value={draft.repoAlias}
          onChange={(event) => setDraft({ ...draft, repoAlias: event.target.value })}
          {...problemProps('repoAlias')}
        />
        <datalist id={`${id}-repositories`}>
          {repositories.map((repository) => (
            <option key={repository} value={repository} />
          ))}
        </datalist>
        <FieldError id={`${id}-repoAlias-error`} problem={byField['repoAlias']} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-pool`}>Pool</label>
        <input
          id={`${id}-pool`}
          type="text"
          autoComplete="off"
          spellCheck={false}
          list={`${id}-pools`}
          value={draft.pool}
          onChange={(event) => setDraft({ ...draft, pool: event.target.value })}
          {...problemProps('pool')}
        />
        <datalist id={`${id}-pools`}>
          {pools.map((pool) => (
            <option key={pool} value={pool} />
          ))}
        </datalist>
        <FieldError id={`${id}-pool-error`} problem={byField['pool']} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-kind`}>Job kind</label>
        <select
          id={`${id}-kind`}
          value={draft.kind}
          onChange={(event) => {
            const kind = ANALYTICS_KIND_OPTIONS.find((option) => option === event.target.value) ?? '';
            setDraft({ ...draft, kind });
          }}
          {...problemProps('kind')}
        >
          <option value="">Any</option>
          {ANALYTICS_KIND_OPTIONS.map((kind) => (
            <option key={kind} value={kind}>
              {kind}
            </option>
          ))}
        </select>
        <FieldError id={`${id}-kind-error`} problem={byField['kind']} />
      </div>
      <div className="form-actions">
        <button type="submit">Apply</button>
        <button type="button" className="secondary" onClick={() => onApply(DEFAULT_ANALYTICS_FILTERS)}>
          Clear
        </button>
      </div>
    </form>
  );
}

/** One headline figure: what it is, its value, and what it counts (or what it assumes). */
function HeadlineCard({ figure, label, value, children }: { readonly figure: string; readonly label: string; readonly value: ReactNode; readonly children: ReactNode }) {
  return (
    <div className="headline-card" data-figure={figure}>
      <dt>{label}</dt>
      <dd className="headline-value">{value}</dd>
      <dd className="headline-note">{children}</dd>
    </div>
  );
}

function HeadlineCards({ report, canWrite }: { readonly report: AnalyticsReport; readonly canWrite: boolean }) {
  const { cost, successRate, time, hoursSaved } = report;
  const money = (amount: number) => formatMoney(amount, cost.currency);
  const budget = describeBudget(report.budget);
  const setPriceHint = canWrite ? 'set one under Settings' : 'a manager sets it in the analytics settings';

  let costNote: string;
  if (!pricesSet(cost)) costNote = `No price per 1,000 tokens is set, so tokens cost 0: ${setPriceHint}.`;
  else if (cost.deliveredChanges === 0) costNote = 'No change was delivered in this range.';
  else costNote = `${money(cost.total)} of tokens for ${countOf(cost.deliveredChanges, 'delivered change')}${cost.perJob !== null ? `; ${money(cost.perJob)} per finished job` : ''}.`;

  let timeNote: string;
  if (!time.percentilesAvailable) timeNote = 'Not available with both a repository and a pool filter: drop one of them.';
  else if (time.timeToChange.count === 0) timeNote = 'No change was delivered in this range.';
  else timeNote = `From the job's creation to its delivered change, over ${countOf(time.timeToChange.count, 'change')}.`;

  return (
    <section aria-labelledby="analytics-outcomes-heading" className="analytics-outcomes">
      <h2 id="analytics-outcomes-heading">Outcomes</h2>
      <dl className="headline-cards">
        <HeadlineCard figure="delivered" label="Delivered changes" value={formatCount(cost.deliveredChanges)}>
          Fixes delivered in the range, counted on the day their job finished.
        </HeadlineCard>
        <HeadlineCard figure="success-rate" label="Success rate" value={formatRate(successRate.successRate)}>
          {successRate.ran > 0
            ? `${formatCount(successRate.delivered)} of the ${countOf(successRate.ran, 'job')} created in the range that ran delivered a change.`
            : 'No job created in the range ran yet.'}
        </HeadlineCard>
        <HeadlineCard figure="cost-per-change" label="Cost per delivered change" value={cost.perDeliveredChange === null ? '—' : money(cost.perDeliveredChange)}>
          {costNote}
        </HeadlineCard>
        <HeadlineCard
          figure="time-to-change"
          label="Time to change"
          value={
            <>
              <span className="percentile">
                <span className="percentile-name">p50</span> {formatPercentile(time.percentilesAvailable ? time.timeToChange.p50Ms : null)}
              </span>{' '}
              <span className="percentile">
                <span className="percentile-name">p90</span> {formatPercentile(time.percentilesAvailable ? time.timeToChange.p90Ms : null)}
              </span>
            </>
          }
        >
          {timeNote}
        </HeadlineCard>
        <HeadlineCard figure="hours-saved" label="Estimated hours saved" value={formatHours(hoursSaved.hours)}>
          <span className="assumption">Assumption: {hoursSavedAssumption(hoursSaved.byKind)}</span> An estimate — the assumption times{' '}
          {countOf(hoursSaved.deliveredChanges, 'delivered change')} — not a measurement.
        </HeadlineCard>
        <HeadlineCard figure="budget" label={`Budget burn, ${report.budget.month}`} value={budget.burn}>
          {budget.burnNote}
        </HeadlineCard>
        {budget.daysLeft !== null ? (
          <HeadlineCard figure="budget-days-left" label="Budget days left" value={budget.daysLeft}>
            {budget.daysLeftNote}
          </HeadlineCard>
        ) : null}
      </dl>
    </section>
  );
}

/** How often a fallback endpoint had to answer: a single figure, so a sentence rather than a chart. */
function FallbackFigure({ fallback }: { readonly fallback: AnalyticsReport['models']['fallback'] }) {
  return (
    <ChartFigure
      title="Fallback rate"
      summary={`${formatRate(fallback.rate)}: a fallback endpoint answered for ${formatCount(fallback.jobsWithFallback)} of the ${countOf(fallback.jobsWithModelUsage, 'finished job')} that reported model usage.`}
      empty={fallback.jobsWithModelUsage === 0 ? 'No job that finished in this range reported model usage, so there is no fallback rate yet.' : null}
      chart={
        <div className="rate-bar">
          <span className="rate-bar-fill" style={{ width: `${Math.min(100, (fallback.rate ?? 0) * 100)}%` }} />
        </div>
      }
      table={
        <table className="data-table">
          <caption className="table-note">Jobs whose model usage a fallback endpoint (not the first configured) answered for</caption>
          <thead>
            <tr>
              <th scope="col">Finished jobs with model usage</th>
              <th scope="col" className="numeric">
                With a fallback
              </th>
              <th scope="col" className="numeric">
                Fallback rate
              </th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <td className="numeric">{formatCount(fallback.jobsWithModelUsage)}</td>
              <td className="numeric">{formatCount(fallback.jobsWithFallback)}</td>
              <td className="numeric">{formatRate(fallback.rate)}</td>
            </tr>
          </tbody>
        </table>
      }
    />
  );
}

/**
 * What became of the delivered changes on the customer's forge, as the workers watching them
 * reported. The wait for a person's first review leads: agent-made changes tend to wait
 * longer for one than people's, and that wait, not the agent, often decides time to merge.
 */
function MergeRequests({ mergeRequests }: { readonly mergeRequests: AnalyticsReport['mergeRequests'] }) {
  const words = describeMergeRequests(mergeRequests);
  return (
    <section aria-labelledby="analytics-merge-requests-heading" className="analytics-merge-requests">
      <h2 id="analytics-merge-requests-heading">Merge requests</h2>
      <p className="muted">
        For jobs created in the range, as the workers watching their merge requests last reported. Agent-made changes wait longer for a first review: that wait often
        decides how soon a fix lands.
      </p>
      <dl className="headline-cards">
        <HeadlineCard figure="first-review-wait" label="Median wait for a first review" value={words.firstReviewWait}>
          {words.firstReviewNote}
        </HeadlineCard>
      </dl>
      <dl className="secondary-figures">
        {words.outcomes.map((outcome) => (
          <div key={outcome.label}>
            <dt>{outcome.label}</dt>
            <dd>{outcome.value}</dd>
          </div>
        ))}
      </dl>
      <p className="muted">{words.mergeNote}</p>
    </section>
  );
}

/** Review jobs and what their comments said, by severity: counts only, as the workers reported them. */
function Reviews({ reviews }: { readonly reviews: AnalyticsReport['reviews'] }) {
  const words = describeReviews(reviews);
  return (
    <section aria-labelledby="analytics-reviews-heading" className="analytics-reviews">
      <h2 id="analytics-reviews-heading">Reviews</h2>
      <p className="muted">
        Review jobs that finished in the range. The comments are posted on your forge; only their counts reach Airlock. {words.summary}
      </p>
      <dl className="secondary-figures">
        {words.figures.map((figure) => (
          <div key={figure.label}>
            <dt>{figure.label}</dt>
            <dd>{figure.value}</dd>
          </div>
        ))}
      </dl>
      {words.note !== null ? <p className="muted">{words.note}</p> : null}
    </section>
  );
}

/** Lines changed: counted, shown small and last, never a headline — a good fix is often a small one. */
function SecondaryFigures({ secondary }: { readonly secondary: AnalyticsReport['secondary'] }) {
  return (
    <section aria-labelledby="analytics-secondary-heading" className="analytics-secondary">
      <h2 id="analytics-secondary-heading">Secondary: size of the changes</h2>
      <p className="muted">Lines changed are a count, not a measure of value: a good fix is often a small one.</p>
      <dl className="secondary-figures">
        <div>
          <dt>Lines added</dt>
          <dd>{formatCount(secondary.linesAdded)}</dd>
        </div>
        <div>
          <dt>Lines removed</dt>
          <dd>{formatCount(secondary.linesRemoved)}</dd>
        </div>
        <div>
          <dt>Files changed</dt>
          <dd>{formatCount(secondary.filesChanged)}</dd>
        </div>
        <div>
          <dt>Over delivered changes</dt>
          <dd>{formatCount(secondary.deliveredChanges)}</dd>
        </div>
      </dl>
    </section>
  );
}

/** When the figures were read, ticking on its own so the charts are not drawn again every 15 s. */
function ReadAt({ iso }: { readonly iso: string }) {
  const now = useNow();
  return <RelativeTime iso={iso} now={now} />;
}

function Report({ report, refreshing, canWrite }: { readonly report: AnalyticsReport; readonly refreshing: boolean; readonly canWrite: boolean }) {
  return (
    <div className="analytics-report" aria-busy={refreshing}>
      <p className="report-scope">
        <strong>
          {report.range.from} to {report.range.to}
        </strong>{' '}
        ({countOf(report.range.days, 'day')}, UTC) · {describeReportFilters(report.filters)}. Read <ReadAt iso={report.generatedAt} />
        {refreshing ? <span className="muted"> · updating…</span> : null}
      </p>
      <ul className="report-caveats">
        <li data-caveat="implausible">{describeLeftOut(report.leftOut)}</li>
        <li data-caveat="grouping">{describeGrouping(report)}</li>
      </ul>
      <details className="report-notes">
        <summary>How these figures are counted</summary>
        <ul>
          {report.notes.map((note) => (
            <li key={note}>{note}</li>
          ))}
        </ul>
      </details>

      <HeadlineCards report={report} canWrite={canWrite} />

      <MergeRequests mergeRequests={report.mergeRequests} />

      <Reviews reviews={report.reviews} />

      <FunnelChart funnel={report.funnel} kindFilter={report.filters.kind} />

      <section aria-labelledby="analytics-success-heading">
        <h2 id="analytics-success-heading">Success rate by repository, pool and model</h2>
        <p className="muted">Changes delivered of the jobs that ran, for jobs created in the range.</p>
        <div className="chart-grid">
          <SuccessBySliceChart title="By repository" what="repository" slices={report.successRate.byRepository} />
          <SuccessBySliceChart title="By pool" what="pool" slices={report.successRate.byPool} />
          <SuccessBySliceChart title="By model" what="model" slices={report.successRate.byModel} />
        </div>
      </section>

      <div className="chart-grid">
        <DailyJobsChart daily={report.daily} />
        <DailyCostChart daily={report.daily} cost={report.cost} canChangeSettings={canWrite} />
        <TokensChart models={report.models} currency={report.currency} />
        <FallbackFigure fallback={report.models.fallback} />
        <DurationsChart time={report.time} />
        <FleetUtilisationChart fleet={report.fleet} daily={report.daily} poolFilter={report.filters.pool} />
      </div>
      <PolicyFrictionChart policy={report.policy} />

      <SecondaryFigures secondary={report.secondary} />
    </div>
  );
}
