import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, type Schemas } from '../api/client';
import { problemOf, unreachableProblem, type ApiProblem } from '../api/problems';
import { useHasScope } from '../auth/session';
import { useLiveEvent } from '../live/live-events';
import { formatTime, humanize, shortId } from '../ui/format';
import { StatusBadge } from '../ui/job-status';
import { TableRows } from '../ui/table-rows';
import {
  fromLocalInput,
  isOneOf,
  JOB_KIND_OPTIONS,
  JOB_STATUS_OPTIONS,
  jobListQuery,
  NO_FILTERS,
  readJobsSearch,
  toLocalInput,
  writeJobsSearch,
  type JobFilters,
} from './jobs-query';
import { ticketOf } from './job-ticket';
import { jobTargetOf } from './job-target';
import { NewJobForm } from './new-job-form';
import { TicketLabel } from './ticket-label';

type Job = Schemas['JobResponse'];

const PAGE_SIZE = 50;
const NEXT_CURSOR_HEADER = 'X-Next-Cursor';
// Several jobs often change at once (a worker picks up a batch): one reload for the lot.
const RELOAD_DEBOUNCE_MS = 400;

type PageState =
  | { readonly kind: 'loading' }
  | { readonly kind: 'loaded'; readonly jobs: readonly Job[]; readonly nextCursor: string | null }
  | { readonly kind: 'failed'; readonly problem: ApiProblem };

/** `/jobs`: the tenant's jobs, newest first, filtered by the URL's query, updated live. */
export function JobsPage() {
  const [searchParams, setSearchParams] = useSearchParams();
  const { filters, before } = readJobsSearch(searchParams);
  const search = searchParams.toString();
  const [page, setPage] = useState<PageState>({ kind: 'loading' });
  const [reloads, setReloads] = useState(0);
  const [formOpen, setFormOpen] = useState(false);
  const canWrite = useHasScope('jobs:write');
  const reloadTimer = useRef<number | undefined>(undefined);
  const newJobButton = useRef<HTMLButtonElement>(null);
  const newJobFormId = useId();

  useEffect(() => {
    let current = true;
    const requested = readJobsSearch(new URLSearchParams(search));
    api.GET('/api/v1/jobs', { params: { query: jobListQuery(requested.filters, requested.before, PAGE_SIZE) } }).then(
      ({ data, response, error }) => {
        if (!current) return;
        if (data) setPage({ kind: 'loaded', jobs: data, nextCursor: response.headers.get(NEXT_CURSOR_HEADER) });
        else setPage({ kind: 'failed', problem: problemOf(response, error) });
      },
      () => current && setPage({ kind: 'failed', problem: unreachableProblem() }),
    );
    return () => {
      current = false;
    };
  }, [search, reloads]);

  useEffect(() => () => window.clearTimeout(reloadTimer.current), []);

  const reloadSoon = useCallback(() => {
    window.clearTimeout(reloadTimer.current);
    reloadTimer.current = window.setTimeout(() => setReloads((n) => n + 1), RELOAD_DEBOUNCE_MS);
  }, []);

  const refreshJob = useCallback(async (jobId: string) => {
    const { data } = await api.GET('/api/v1/jobs/{id}', { params: { path: { id: jobId } } }).catch(() => ({ data: undefined }));
    if (!data) return;
    setPage((current) => (current.kind === 'loaded' ? { ...current, jobs: current.jobs.map((job) => (job.id === data.id ? { ...job, ...pickSummary(data) } : job)) } : current));
  }, []);

  useLiveEvent('job.changed', (event) => {
    const shown = page.kind === 'loaded' && page.jobs.some((job) => job.id === event.jobId);
    if (shown) {
      // The status now, the rest (attempt, failure code, times) once re-read.
      setPage((current) =>
        current.kind === 'loaded' ? { ...current, jobs: current.jobs.map((job) => (job.id === event.jobId && isOneOf(JOB_STATUS_OPTIONS, event.status) ? { ...job, status: event.status } : job)) } : current,
      );
      void refreshJob(event.jobId);
    } else if (before === null) {
      // A job this page does not show yet: new, or newly matching the filters.
      reloadSoon();
    }
  });
  useLiveEvent('resync', reloadSoon);

  const applyFilters = (next: JobFilters) => setSearchParams(writeJobsSearch(next));

  return (
    <>
      <title>Jobs — Airlock</title>
      <div className="page-heading">
        <h1 tabIndex={-1}>Jobs</h1>
        {canWrite ? (
          <button type="button" ref={newJobButton} onClick={() => setFormOpen((open) => !open)} aria-expanded={formOpen} aria-controls={newJobFormId}>
            New job
          </button>
        ) : null}
      </div>
      {canWrite && formOpen ? (
        <NewJobForm
          id={newJobFormId}
          onCreated={() => before === null && reloadSoon()}
          onClose={() => {
            setFormOpen(false);
            newJobButton.current?.focus();
          }}
        />
      ) : null}
      <JobFiltersForm key={search} filters={filters} onApply={applyFilters} onClear={() => applyFilters(NO_FILTERS)} />
      {page.kind === 'failed' ? (
        <p className="form-problem" role="alert">
          {page.problem.message}
        </p>
      ) : null}
      <JobsTable page={page} />
      <nav className="pager" aria-label="Pages of jobs">
        {before !== null ? <Link to={{ search: writeJobsSearch(filters).toString() }}>Newest jobs</Link> : null}
        {page.kind === 'loaded' && page.nextCursor ? <Link to={{ search: writeJobsSearch(filters, page.nextCursor).toString() }}>Older jobs</Link> : null}
      </nav>
    </>
  );
}

function pickSummary(job: Schemas['JobDetailResponse']): Job {
  const { attempts: _attempts, events: _events, result: _result, implausible: _implausible, deliveryOutcome: _deliveryOutcome, ...summary } = job;
  return summary;
}

function JobsTable({ page }: { readonly page: PageState }) {
  const captionId = useId();
  return (
    <div className="table-scroll">
      <table className="data-table jobs-table" aria-labelledby={captionId} aria-busy={page.kind === 'loading'}>
        <caption id={captionId} className="visually-hidden">
          Jobs, newest first
        </caption>
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Status</th>
            <th scope="col">Kind</th>
            <th scope="col">Repository</th>
            <th scope="col">Target</th>
            <th scope="col">Ticket</th>
            <th scope="col" className="numeric">
              Attempt
            </th>
            <th scope="col">Failure</th>
            <th scope="col">Created</th>
            <th scope="col">Finished</th>
          </tr>
        </thead>
        <tbody>
          <TableRows rows={page.kind === 'loaded' ? page.jobs : null} awaitingFirstAnswer={page.kind === 'loading'} columns={10} empty="No jobs match.">
            {(jobs) =>
              jobs.map((job) => (
                <tr key={job.id} data-job-id={job.id}>
                  <td>
                    <Link to={`/jobs/${job.id}`} className="mono">
                      {shortId(job.id)}
                    </Link>
                  </td>
                  <td>
                    <StatusBadge status={job.status} />
                  </td>
                  <td>{job.kind}</td>
                  <td>{job.repoAlias ?? '—'}</td>
                  <td className="mono">{jobTargetOf(job)?.cell ?? '—'}</td>
                  <td>
                    <TicketLabel ticket={ticketOf(job)} />
                  </td>
                  <td className="numeric">
                    {job.currentAttempt} / {job.maxAttempts}
                  </td>
                  <td>{job.failureCode ? humanize(job.failureCode) : '—'}</td>
                  <td className="nowrap">{formatTime(job.createdAt)}</td>
                  <td className="nowrap">{formatTime(job.finishedAt)}</td>
                </tr>
              ))
            }
          </TableRows>
        </tbody>
      </table>
    </div>
  );
}

function JobFiltersForm({ filters, onApply, onClear }: { readonly filters: JobFilters; readonly onApply: (filters: JobFilters) => void; readonly onClear: () => void }) {
  const id = useId();
  const [draft, setDraft] = useState({ ...filters, createdFrom: toLocalInput(filters.createdFrom), createdTo: toLocalInput(filters.createdTo) });

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    onApply({ ...draft, repoAlias: draft.repoAlias.trim(), createdFrom: fromLocalInput(draft.createdFrom), createdTo: fromLocalInput(draft.createdTo) });
  };

  return (
    <form className="filters" role="search" aria-label="Filter jobs" onSubmit={submit}>
      <div className="field">
        <label htmlFor={`${id}-status`}>Status</label>
        <select
          id={`${id}-status`}
          value={draft.status}
          onChange={(event) => setDraft({ ...draft, status: isOneOf(JOB_STATUS_OPTIONS, event.target.value) ? event.target.value : '' })}
        >
          <option value="">Any</option>
          {JOB_STATUS_OPTIONS.map((status) => (
            <option key={status} value={status}>
              {humanize(status)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-kind`}>Kind</label>
        <select id={`${id}-kind`} value={draft.kind} onChange={(event) => setDraft({ ...draft, kind: isOneOf(JOB_KIND_OPTIONS, event.target.value) ? event.target.value : '' })}>
          <option value="">Any</option>
          {JOB_KIND_OPTIONS.map((kind) => (
            <option key={kind} value={kind}>
              {kind}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-repoAlias`}>Repository alias</label>
        <input
          id={`${id}-repoAlias`}
          type="text"
          autoComplete="off"
          spellCheck={false}
          value={draft.repoAlias}
          onChange={(event) => setDraft({ ...draft, repoAlias: event.target.value })}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-createdFrom`}>Created from</label>
        <input id={`${id}-createdFrom`} type="datetime-local" value={draft.createdFrom} onChange={(event) => setDraft({ ...draft, createdFrom: event.target.value })} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-createdTo`}>Created before</label>
        <input id={`${id}-createdTo`} type="datetime-local" value={draft.createdTo} onChange={(event) => setDraft({ ...draft, createdTo: event.target.value })} />
      </div>
      <div className="form-actions">
        <button type="submit">Apply</button>
        <button type="button" className="secondary" onClick={onClear}>
          Clear
        </button>
      </div>
    </form>
  );
}
