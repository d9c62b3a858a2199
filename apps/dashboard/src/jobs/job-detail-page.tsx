import { useCallback, useEffect, useId, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, type Schemas } from '../api/client';
import { fieldProblems, problemOf, unreachableProblem, type ApiProblem } from '../api/problems';
import { useHasScope } from '../auth/session';
import { useLiveEvent } from '../live/live-events';
import { formatCount, formatDuration, formatTime, humanize, shortId } from '../ui/format';
import { FieldError } from '../ui/form';
import { ACTIVE_JOB_STATUSES, RETRYABLE_JOB_STATUSES, StatusBadge } from '../ui/job-status';
import { readDeliveryOutcome } from './delivery-outcome';
import { readJobResult, reviewFigures, type JobResultView } from './job-result';
import { jobTargetOf } from './job-target';
import { DIGEST_PREFIX_CHARS, ticketOf } from './job-ticket';
import { PhaseTimeline } from './phase-timeline-view';

type JobDetail = Schemas['JobDetailResponse'];

type DetailState =
  | { readonly kind: 'loading' }
  | { readonly kind: 'loaded'; readonly job: JobDetail }
  | { readonly kind: 'failed'; readonly problem: ApiProblem };

/** `/jobs/:jobId`: one job — its state, phase timeline, attempts and metadata-only result — updated live. */
export function JobDetailPage() {
  const { jobId = '' } = useParams();
  const [state, setState] = useState<DetailState>({ kind: 'loading' });
  const [reloads, setReloads] = useState(0);
  const reload = useCallback(() => setReloads((n) => n + 1), []);

  useEffect(() => {
    let current = true;
    api.GET('/api/v1/jobs/{id}', { params: { path: { id: jobId } } }).then(
      ({ data, response, error }) => {
        if (!current) return;
        setState(data ? { kind: 'loaded', job: data } : { kind: 'failed', problem: problemOf(response, error) });
      },
      () => current && setState({ kind: 'failed', problem: unreachableProblem() }),
    );
    return () => {
      current = false;
    };
  }, [jobId, reloads]);

  // A different job: show loading, not the last one's data under the new address.
  useEffect(() => setState({ kind: 'loading' }), [jobId]);

  useLiveEvent('job.changed', (event) => event.jobId === jobId && reload());
  useLiveEvent('resync', reload);

  if (state.kind === 'loading') {
    return (
      <>
        <title>Job — Airlock</title>
        <h1 tabIndex={-1}>Job {shortId(jobId)}</h1>
        <p aria-busy="true">Loading…</p>
      </>
    );
  }
  if (state.kind === 'failed') {
    return (
      <>
        <title>Job — Airlock</title>
        <h1 tabIndex={-1}>Job {shortId(jobId)}</h1>
        <p className="form-problem" role="alert">
          {state.problem.status === 404 ? 'No such job in this organisation.' : state.problem.message}
        </p>
        <p>
          <Link to="/jobs">Back to the jobs</Link>
        </p>
      </>
    );
  }
  return <JobDetailView job={state.job} onChanged={reload} />;
}

function JobDetailView({ job, onChanged }: { readonly job: JobDetail; readonly onChanged: () => void }) {
  const result = readJobResult(job.result);
  const active = ACTIVE_JOB_STATUSES.includes(job.status);
  return (
    <>
      <title>{`Job ${shortId(job.id)} — Airlock`}</title>
      <p className="breadcrumb">
        <Link to="/jobs">Jobs</Link> <span aria-hidden="true">/</span>
      </p>
      <div className="page-heading">
        <h1 tabIndex={-1}>
          Job <span className="mono">{shortId(job.id)}</span>
        </h1>
        <StatusBadge status={job.status} />
        <JobActions job={job} onChanged={onChanged} />
      </div>
      {job.implausible.length > 0 ? (
        <div className="warning" role="note">
          <p>
            <strong>
              <span aria-hidden="true">⚠ </span>Implausible result.
            </strong>{' '}
            The figures the worker reported cannot all be true of this attempt; they are kept as reported and left out of analytics.
          </p>
          <ul>
            {job.implausible.map((reason) => (
              <li key={reason} className="mono">
                {reason}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <JobSummary job={job} />
      <section aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">Phases</h2>
        <PhaseTimeline events={job.events} liveAttempt={active ? job.currentAttempt : null} />
      </section>
      <AttemptsTable attempts={job.attempts} />
      {result ? <ResultCounts kind={job.kind} result={result} /> : null}
      <OnTheForge job={job} result={result} />
      <details className="events">
        <summary>All events ({job.events.length})</summary>
        <EventsTable events={job.events} />
      </details>
    </>
  );
}

function JobSummary({ job }: { readonly job: JobDetail }) {
  const finishedIn = job.finishedAt ? Date.parse(job.finishedAt) - Date.parse(job.createdAt) : null;
  const target = jobTargetOf(job);
  return (
    <dl className="summary">
      <div>
        <dt>Job id</dt>
        <dd className="mono">{job.id}</dd>
      </div>
      <div>
        <dt>Kind</dt>
        <dd>{job.kind}</dd>
      </div>
      <div>
        <dt>Repository</dt>
        <dd>{job.repoAlias ?? '—'}</dd>
      </div>
      {target ? (
        <div>
          <dt>{target.label}</dt>
          <dd className="mono">{target.value}</dd>
        </div>
      ) : null}
      <TicketSummary job={job} />
      <div>
        <dt>Pool</dt>
        <dd className={job.pool ? 'mono' : undefined}>{job.pool ?? 'any worker'}</dd>
      </div>
      <div>
        <dt>Priority</dt>
        <dd>{job.priority} of 9</dd>
      </div>
      <div>
        <dt>Attempt</dt>
        <dd>
          {job.currentAttempt} of at most {job.maxAttempts}
        </dd>
      </div>
      <div>
        <dt>Failure</dt>
        <dd>{job.failureCode ? <span className="mono">{job.failureCode}</span> : '—'}</dd>
      </div>
      {job.retryOfJobId ? (
        <div>
          <dt>Re-run of</dt>
          <dd>
            <Link to={`/jobs/${job.retryOfJobId}`} className="mono">
              {shortId(job.retryOfJobId)}
            </Link>
          </dd>
        </div>
      ) : null}
      <div>
        <dt>Created</dt>
        <dd>{formatTime(job.createdAt)}</dd>
      </div>
      <div>
        <dt>Updated</dt>
        <dd>{formatTime(job.updatedAt)}</dd>
      </div>
      {job.cancelRequestedAt ? (
        <div>
          <dt>Cancel requested</dt>
          <dd>{formatTime(job.cancelRequestedAt)}</dd>
        </div>
      ) : null}
      <div>
        <dt>Finished</dt>
        <dd>
          {formatTime(job.finishedAt)}
          {finishedIn !== null ? ` (${formatDuration(finishedIn)} after creation)` : ''}
        </dd>
      </div>
    </dl>
  );
}

/**
 * Where a ticket title would be: a typed ticket's text is never shown (the control plane
 * returns none); a ticket named by reference shows the reference while the job holds it,
 * then the start of the worker's digest of it.
 */
function TicketSummary({ job }: { readonly job: JobDetail }) {
  const ticket = ticketOf(job);
  if (ticket.kind !== 'reference') return null;
  return (
    <div>
      <dt>Ticket</dt>
      <dd>
        Ticket by reference
        {ticket.reference !== null ? (
          <>
            : <span className="mono">{ticket.reference}</span> <span className="muted">(held until the job ends)</span>
          </>
        ) : null}
        {ticket.digest !== null ? (
          <>
            <br />
            Digest{' '}
            <span className="mono" title={`The worker's keyed digest of the reference, first ${DIGEST_PREFIX_CHARS} hex characters: it matches jobs to tickets, and says nothing of the ticket`}>
              {ticket.digest}
            </span>
          </>
        ) : null}
      </dd>
    </div>
  );
}

/** Cancel while the job may still run, re-run once it finished (it updates the same merge request); only for jobs:write. */
function JobActions({ job, onChanged }: { readonly job: JobDetail; readonly onChanged: () => void }) {
  const canWrite = useHasScope('jobs:write');
  const navigate = useNavigate();
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ readonly text: string; readonly problem: boolean } | null>(null);
  // A ticket named by reference was erased when the job ended: a re-run asks for it again.
  const [askingReference, setAskingReference] = useState(false);
  if (!canWrite) return null;

  /** Does it; says why not (the API's message), or null when done. */
  const act = async (action: 'cancel' | 'retry', ticketRef?: string): Promise<string | null> => {
    setBusy(true);
    setMessage(null);
    try {
      const path = { params: { path: { id: job.id } } };
      const { data, response, error } =
        action === 'cancel'
          ? await api.POST('/api/v1/jobs/{id}/cancel', path)
          : await api.POST('/api/v1/jobs/{id}/retry', { ...path, ...(ticketRef === undefined ? {} : { body: { ticketRef } }) });
      if (!data) {
        const refused = problemOf(response, error).message;
        setMessage({ text: refused, problem: true });
        return refused;
      }
      if (action === 'retry') {
        navigate(`/jobs/${data.id}`);
        return null;
      }
      setMessage({ text: response.status === 202 ? 'Cancel requested: the job ends when its worker stops.' : 'Cancelled.', problem: false });
      onChanged();
      return null;
    } catch {
      setMessage({ text: unreachableProblem().message, problem: true });
      return unreachableProblem().message;
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="job-actions">
      {ACTIVE_JOB_STATUSES.includes(job.status) ? (
        <button type="button" className="danger" disabled={busy || job.cancelRequestedAt !== null} onClick={() => void act('cancel')}>
          {job.cancelRequestedAt !== null ? 'Cancel requested' : 'Cancel job'}
        </button>
      ) : null}
      {RETRYABLE_JOB_STATUSES.includes(job.status) && !askingReference ? (
        <button type="button" disabled={busy} onClick={() => (job.ticketByReference ? setAskingReference(true) : void act('retry'))}>
          Re-run job
        </button>
      ) : null}
      {askingReference ? <RerunByReference busy={busy} onRerun={(ticketRef) => act('retry', ticketRef)} onClose={() => setAskingReference(false)} /> : null}
      {/* While the reference is asked for, its form shows the API's answer under its input. */}
      <p role="status" className={message?.problem ? 'form-problem' : 'form-success'}>
        {askingReference ? null : message?.text}
      </p>
    </div>
  );
}

/**
 * Asks for the ticket reference a re-run needs: the control plane kept only the worker's digest
 * of the original's. The API's problem with it is shown under the input.
 */
function RerunByReference({ busy, onRerun, onClose }: { readonly busy: boolean; readonly onRerun: (ticketRef: string) => Promise<string | null>; readonly onClose: () => void }) {
  const id = useId();
  const [reference, setReference] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setProblem(undefined);
    const refused = await onRerun(reference.trim());
    if (refused === null) return;
    const split = fieldProblems(refused, ['ticketRef']);
    setProblem(split.byField['ticketRef'] ?? split.other.join('; '));
  };
  return (
    <form className="rerun-reference" onSubmit={(event) => void submit(event)} aria-label="Re-run with a ticket reference">
      <div className="field">
        <label htmlFor={`${id}-ticketRef`}>Ticket reference</label>
        <input
          id={`${id}-ticketRef`}
          value={reference}
          onChange={(event) => setReference(event.target.value)}
          required
          autoFocus
          autoComplete="off"
          spellCheck={false}
          placeholder="e.g. jira:PROJ-123"
          aria-describedby={`${id}-hint${problem ? ` ${id}-ticketRef-error` : ''}`}
          aria-invalid={problem ? true : undefined}
        />
        <p className="field-hint" id={`${id}-hint`}>
          The reference was erased when this job ended; name the ticket again.
        </p>
        <FieldError id={`${id}-ticketRef-error`} problem={problem} />
      </div>
      <button type="submit" disabled={busy}>
        Re-run job
      </button>
      <button type="button" className="secondary" onClick={onClose}>
        Cancel
      </button>
    </form>
  );
}

function AttemptsTable({ attempts }: { readonly attempts: JobDetail['attempts'] }) {
  return (
    <section aria-labelledby="attempts-heading">
      <h2 id="attempts-heading">Attempts</h2>
      {attempts.length === 0 ? (
        <p className="muted">Not dispatched yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col" className="numeric">
                  #
                </th>
                <th scope="col">Worker</th>
                <th scope="col">Status</th>
                <th scope="col">Dispatched</th>
                <th scope="col">Acknowledged</th>
                <th scope="col">Finished</th>
                <th scope="col">Failure</th>
              </tr>
            </thead>
            <tbody>
              {attempts.map((attempt) => (
                <tr key={attempt.number}>
                  <td className="numeric">{attempt.number}</td>
                  <td className="mono" title={attempt.workerId}>
                    {shortId(attempt.workerId)}
                  </td>
                  <td>
                    <StatusBadge status={attempt.status} />
                  </td>
                  <td className="nowrap">{formatTime(attempt.dispatchedAt)}</td>
                  <td className="nowrap">{formatTime(attempt.ackedAt)}</td>
                  <td className="nowrap">{formatTime(attempt.finishedAt)}</td>
                  <td>{attempt.failureCode ? <span className="mono">{attempt.failureCode}</span> : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Figure({ label, value, secondary = false }: { readonly label: string; readonly value: string; readonly secondary?: boolean }) {
  return (
    <div className={secondary ? 'figure secondary' : 'figure'}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

/** Where the worker put the change, inside the customer's network: a kind only, never a link. */
const DELIVERY_LABELS: Readonly<Record<string, string>> = {
  BRANCH: 'branch pushed',
  MERGE_REQUEST_OPENED: 'merge request opened',
  MERGE_REQUEST_UPDATED: 'merge request updated',
  OUTBOX: "kept in the worker's delivery outbox",
};

/** What each kind of job is for, where its result has no change to show. */
const READ_ONLY_KIND_NOTES: Readonly<Partial<Record<JobDetail['kind'], string>>> = {
  review: 'A review posts its comments on the merge request, on your forge: only their counts reach Airlock. It changes and delivers nothing.',
  index: "An index job builds the repository's context index at its ref, ahead of fix jobs: it changes and delivers nothing.",
};

/** The result's counts: never code, paths or text; the worker sends only these. A review or index job has no tests or change to count. */
function ResultCounts({ kind, result }: { readonly kind: JobDetail['kind']; readonly result: JobResultView }) {
  const { tokens, verification, change, policy } = result;
  const readOnlyNote = READ_ONLY_KIND_NOTES[kind];
  return (
    <section aria-labelledby="result-heading">
      <h2 id="result-heading">Result</h2>
      <p className="muted">
        {result.outcome ? humanize(result.outcome, 'JOB_OUTCOME_') : 'No outcome reported'}
        {result.failedPhase ? ` in ${humanize(result.failedPhase, 'PHASE_').toLowerCase()}` : ''}
        {result.delivery ? ` · ${DELIVERY_LABELS[result.delivery] ?? humanize(result.delivery, '').toLowerCase()}` : ''}
        {result.metadataLevel ? ` · metadata level ${humanize(result.metadataLevel, 'METADATA_LEVEL_').toLowerCase()}` : ''}
      </p>
      {readOnlyNote ? <p className="muted">{readOnlyNote}</p> : null}
      <div className="figures-grid">
        {kind === 'review' ? <ReviewComments review={result.review} /> : null}
        <div>
          <h3>Tokens</h3>
          {tokens ? (
            <dl className="figures">
              <Figure label="Requests" value={formatCount(tokens.requests)} />
              <Figure label="Prompt tokens" value={formatCount(tokens.promptTokens)} />
              <Figure label="Completion tokens" value={formatCount(tokens.completionTokens)} />
              {result.contextFiles !== null ? <Figure label="Context files" value={formatCount(result.contextFiles)} secondary /> : null}
            </dl>
          ) : (
            <p className="muted">Not reported.</p>
          )}
        </div>
        {readOnlyNote ? null : (
          <>
            <div>
              <h3>Verification</h3>
              {verification ? (
                <dl className="figures">
                  <Figure label="Failing before" value={verification.baseTestsRan ? `${verification.failingBefore} of ${verification.testsBefore}` : 'not run'} />
                  <Figure label="Failing after" value={verification.testsRan ? `${verification.failingAfter} of ${verification.testsAfter}` : 'not run'} />
                  <Figure label="Tests fixed" value={formatCount(verification.testsFixed)} />
                  <Figure label="Tests regressed" value={formatCount(verification.testsRegressed)} />
                  <Figure label="Agent test runs" value={formatCount(verification.agentTestRuns)} secondary />
                  <Figure label="Reproduction test added" value={verification.reproductionAdded ? 'yes' : 'no'} secondary />
                </dl>
              ) : (
                <p className="muted">Not reported.</p>
              )}
            </div>
            <div>
              <h3>Change</h3>
              {change ? (
                <dl className="figures">
                  <Figure label="Files changed" value={formatCount(change.filesChanged)} secondary />
                  <Figure label="Lines added" value={formatCount(change.linesAdded)} secondary />
                  <Figure label="Lines removed" value={formatCount(change.linesRemoved)} secondary />
                  <Figure label="Edits applied" value={`${change.editsApplied} of ${change.editsProposed}`} secondary />
                </dl>
              ) : (
                <p className="muted">Not reported.</p>
              )}
            </div>
          </>
        )}
      </div>
      <h3>Policy decisions</h3>
      {policy === null ? (
        <p className="muted">Not reported.</p>
      ) : policy.rules.length === 0 ? (
        <p className="muted">No rule fired (central policy revision {policy.revision}).</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table">
            <caption className="table-note">
              Central policy revision {policy.revision}
              {policy.shadowRevision > 0 ? `, shadow revision ${policy.shadowRevision}` : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">Level</th>
                <th scope="col">Outcome</th>
                <th scope="col" className="numeric">
                  Times
                </th>
              </tr>
            </thead>
            <tbody>
              {policy.rules.map((rule) => (
                <tr key={`${rule.rule}/${rule.level}/${rule.outcome}`}>
                  <td className="mono">{rule.rule}</td>
                  <td>{humanize(rule.level)}</td>
                  <td>{humanize(rule.outcome)}</td>
                  <td className="numeric">{rule.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {result.modelUsage.length > 0 ? (
        <>
          <h3>Models</h3>
          <div className="table-scroll">
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">Endpoint</th>
                  <th scope="col">Model</th>
                  <th scope="col" className="numeric">
                    Requests
                  </th>
                  <th scope="col" className="numeric">
                    Prompt tokens
                  </th>
                  <th scope="col" className="numeric">
                    Completion tokens
                  </th>
                </tr>
              </thead>
              <tbody>
                {result.modelUsage.map((usage) => (
                  <tr key={usage.endpointIndex}>
                    <td>
                      {usage.endpoint}
                      {usage.endpointIndex > 0 ? <span className="muted"> (fallback)</span> : null}
                    </td>
                    <td className="mono">{usage.model}</td>
                    <td className="numeric">{formatCount(usage.requests)}</td>
                    <td className="numeric">{formatCount(usage.promptTokens)}</td>
                    <td className="numeric">{formatCount(usage.completionTokens)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </section>
  );
}

/** A review's comments by severity, and those not posted; counts only, never their text or where they were. */
function ReviewComments({ review }: { readonly review: JobResultView['review'] }) {
  return (
    <div>
      <h3>Review comments</h3>
      {review ? (
        <dl className="figures">
          {reviewFigures(review).map((figure) => (
            <Figure key={figure.label} label={figure.label} value={formatCount(figure.value)} secondary={!figure.posted} />
          ))}
        </dl>
      ) : (
        <p className="muted">Not reported: the minimal metadata level sends no counts, and a review that failed posted none.</p>
      )}
    </div>
  );
}

/** Deliveries that leave a merge request for a worker to watch. */
const MERGE_REQUEST_DELIVERIES: readonly string[] = ['MERGE_REQUEST_OPENED', 'MERGE_REQUEST_UPDATED'];

/**
 * What became of the change's merge request on the customer's forge, as the worker watching it
 * last reported: states, counts and times only, never a title, a name or a link.
 */
function OnTheForge({ job, result }: { readonly job: JobDetail; readonly result: JobResultView | null }) {
  const outcome = job.deliveryOutcome;
  if (outcome === null) {
    const openedRequest = result?.delivery != null && MERGE_REQUEST_DELIVERIES.includes(result.delivery);
    return openedRequest ? (
      <ForgeSection>
        <p className="muted">No report yet: the worker watching the merge request reports when it changes.</p>
      </ForgeSection>
    ) : null;
  }
  const view = readDeliveryOutcome(outcome, job.id);
  return (
    <ForgeSection>
      <p className="muted">
        Last reported {formatTime(outcome.updatedAt)}.
        {view.chainFirstJobId !== null ? (
          <>
            {' '}
            The merge request of this job&apos;s chain, which job{' '}
            <Link to={`/jobs/${view.chainFirstJobId}`} className="mono">
              {shortId(view.chainFirstJobId)}
            </Link>{' '}
            opened and every re-run updates.
          </>
        ) : null}
      </p>
      <dl className="figures">
        {view.figures.map((figure) => (
          <Figure key={figure.label} label={figure.label} value={figure.value} />
        ))}
        <Figure label="Final" value={view.final ? 'yes: the worker stopped watching' : 'no: still watched'} />
      </dl>
      {view.levelNote !== null ? <p className="table-note">{view.levelNote}</p> : null}
    </ForgeSection>
  );
}

function ForgeSection({ children }: { readonly children: ReactNode }) {
  return (
    <section aria-labelledby="forge-heading">
      <h2 id="forge-heading">On the forge</h2>
      {children}
    </section>
  );
}

function EventsTable({ events }: { readonly events: JobDetail['events'] }) {
  return (
    <div className="table-scroll">
      <table className="data-table">
        <thead>
          <tr>
            <th scope="col">At</th>
            <th scope="col" className="numeric">
              Attempt
            </th>
            <th scope="col">Event</th>
            <th scope="col">Phase</th>
            <th scope="col">Failure</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event, index) => (
            <tr key={index}>
              <td className="nowrap">{formatTime(event.at)}</td>
              <td className="numeric">{event.attempt ?? '—'}</td>
              <td>{humanize(event.type)}</td>
              <td>{event.phase ? humanize(event.phase, 'PHASE_') : '—'}</td>
              <td>{event.failureCode ? <span className="mono">{event.failureCode}</span> : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
