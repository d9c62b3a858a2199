import { useEffect, useId, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api } from '../api/client';
import { fieldProblems, problemOf, unreachableProblem, type ApiProblem } from '../api/problems';
import { useHasScope } from '../auth/session';
import { fromLocalInput, toLocalInput } from '../jobs/jobs-query';
import { FieldError } from '../ui/form';
import { formatTime } from '../ui/format';
import { TableRows } from '../ui/table-rows';
import {
  AUDIT_ACTION_FAMILIES,
  auditExportHref,
  auditListQuery,
  describeDetails,
  describeVerification,
  isListedAction,
  NO_AUDIT_FILTERS,
  readAuditSearch,
  targetPath,
  writeAuditSearch,
  type AuditEntry,
  type AuditFilters,
  type AuditVerification,
} from './audit-query';

const PAGE_SIZE = 50;
/** The select's value for "I will type the action". */
const OTHER_ACTION = '(other)';
const FILTER_FIELDS = ['action', 'actorId', 'from', 'to'] as const;

type LogState =
  | { readonly kind: 'loading' }
  | { readonly kind: 'loaded'; readonly entries: readonly AuditEntry[]; readonly hasOlder: boolean }
  | { readonly kind: 'failed'; readonly problem: ApiProblem };

/** `/audit`: the organisation's admin audit log, newest first, filtered by the URL's query; admins only (audit:read). */
export function AuditPage() {
  const canRead = useHasScope('audit:read');
  if (!canRead) {
    return (
      <>
        <title>Audit log — Airlock</title>
        <h1 tabIndex={-1}>Audit log</h1>
        <p>Reading the audit log needs the audit:read scope, which only admins hold.</p>
      </>
    );
  }
  return <AuditLog />;
}

function AuditLog() {
  const [searchParams, setSearchParams] = useSearchParams();
  const { filters, beforeSeq } = readAuditSearch(searchParams);
  const search = searchParams.toString();
  const [state, setState] = useState<LogState>({ kind: 'loading' });

  useEffect(() => {
    let current = true;
    setState({ kind: 'loading' });
    const requested = readAuditSearch(new URLSearchParams(search));
    // One more than a page: its presence says whether an older page exists.
    api.GET('/api/v1/audit-log', { params: { query: auditListQuery(requested.filters, requested.beforeSeq, PAGE_SIZE + 1) } }).then(
      ({ data, response, error }) => {
        if (!current) return;
        setState(data ? { kind: 'loaded', entries: data.slice(0, PAGE_SIZE), hasOlder: data.length > PAGE_SIZE } : { kind: 'failed', problem: problemOf(response, error) });
      },
      () => current && setState({ kind: 'failed', problem: unreachableProblem() }),
    );
    return () => {
      current = false;
    };
  }, [search]);

  const applyFilters = (next: AuditFilters) => setSearchParams(writeAuditSearch(next));
  // A 400 names the filter it refuses: shown under that filter.
  const refused = state.kind === 'failed' && state.problem.status === 400 ? fieldProblems(state.problem.message, FILTER_FIELDS) : null;
  const oldest = state.kind === 'loaded' ? state.entries.at(-1) : undefined;

  return (
    <>
      <title>Audit log — Airlock</title>
      <div className="page-heading">
        <h1 tabIndex={-1}>Audit log</h1>
      </div>
      <p className="prose">
        Every change an admin or an API token made — people, tokens, workers, enrollment, policies, analytics settings — with who, when and from which
        address. Each entry holds the hash of the one before it, so a rewritten or removed entry breaks the chain.
      </p>
      <AuditFiltersForm key={search} filters={filters} problems={refused?.byField ?? {}} onApply={applyFilters} onClear={() => applyFilters(NO_AUDIT_FILTERS)} />
      <div className="toolbar">
        <VerifyChain />
        <div className="export-links">
          <span className="muted">Export what the filters match:</span>
          <a className="button secondary" href={auditExportHref(filters, 'jsonl')} download>
            JSON Lines
          </a>
          <a className="button secondary" href={auditExportHref(filters, 'csv')} download>
            CSV
          </a>
        </div>
      </div>
      {state.kind === 'failed' && !(refused && refused.other.length === 0) ? (
        <p className="form-problem" role="alert">
          {refused ? refused.other.join('; ') : state.problem.message}
        </p>
      ) : null}
      <AuditTable state={state} filters={filters} />
      <nav className="pager" aria-label="Pages of the audit log">
        {beforeSeq !== null ? <Link to={{ search: writeAuditSearch(filters).toString() }}>Newest entries</Link> : null}
        {state.kind === 'loaded' && state.hasOlder && oldest ? <Link to={{ search: writeAuditSearch(filters, oldest.seq).toString() }}>Older entries</Link> : null}
      </nav>
    </>
  );
}

function VerifyChain() {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ readonly verification: AuditVerification; readonly at: string } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const verify = async () => {
    setBusy(true);
    setProblem(null);
    try {
      const { data, response, error } = await api.GET('/api/v1/audit-log/verify');
      if (data) setResult({ verification: data, at: new Date().toISOString() });
      else setProblem(problemOf(response, error).message);
    } catch {
      setProblem(unreachableProblem().message);
    } finally {
      setBusy(false);
    }
  };

  const broken = result !== null && !result.verification.ok;
  return (
    <div className="verify-chain">
      <button type="button" onClick={() => void verify()} disabled={busy}>
        {busy ? 'Verifying…' : 'Verify chain'}
      </button>
      <p role="status" className={broken ? 'verify-result verify-broken' : 'verify-result verify-ok'}>
        {result ? (
          <>
            <span aria-hidden="true">{broken ? '✗ ' : '✓ '}</span>
            {describeVerification(result.verification)} <span className="muted">(checked {formatTime(result.at)})</span>
          </>
        ) : null}
      </p>
      <p role="alert" className="form-problem">
        {problem}
      </p>
    </div>
  );
}

interface ActorOption {
  readonly id: string;
  readonly label: string;
}

/** The people and API tokens that may have acted, for the actor filter; empty without people:read. */
function useActorOptions(): readonly ActorOption[] | null {
  const canSeePeople = useHasScope('people:read');
  const [options, setOptions] = useState<readonly ActorOption[] | null>(null);
  useEffect(() => {
    if (!canSeePeople) return undefined;
    let current = true;
    Promise.all([api.GET('/api/v1/users'), api.GET('/api/v1/api-tokens')]).then(
      ([users, tokens]) => {
        if (!current) return;
        setOptions([
          ...(users.data ?? []).map((user) => ({ id: user.id, label: `${user.displayName} (${user.email})` })),
          ...(tokens.data ?? []).map((token) => ({ id: token.id, label: `API token: ${token.name}` })),
        ]);
      },
      // Without the lists, the filter takes an id typed in: still usable.
      () => current && setOptions([]),
    );
    return () => {
      current = false;
    };
  }, [canSeePeople]);
  return canSeePeople ? options : [];
}

function AuditFiltersForm({
  filters,
  problems,
  onApply,
  onClear,
}: {
  readonly filters: AuditFilters;
  readonly problems: Readonly<Record<string, string>>;
  readonly onApply: (filters: AuditFilters) => void;
  readonly onClear: () => void;
}) {
  const id = useId();
  const actors = useActorOptions();
  const [actionChoice, setActionChoice] = useState(filters.action === '' || isListedAction(filters.action) ? filters.action : OTHER_ACTION);
  const [actionText, setActionText] = useState(isListedAction(filters.action) ? '' : filters.action);
  const [actorId, setActorId] = useState(filters.actorId);
  const [from, setFrom] = useState(toLocalInput(filters.from));
  const [to, setTo] = useState(toLocalInput(filters.to));
  const actorListed = actors !== null && actors.length > 0 && (actorId === '' || actors.some((actor) => actor.id === actorId));

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    onApply({ action: actionChoice === OTHER_ACTION ? actionText.trim() : actionChoice, actorId: actorId.trim(), from: fromLocalInput(from), to: fromLocalInput(to) });
  };

  const describedBy = (field: string, extra?: string) => [extra, problems[field] ? `${id}-${field}-error` : undefined].filter(Boolean).join(' ') || undefined;

  return (
    <form className="filters" role="search" aria-label="Filter the audit log" onSubmit={submit}>
      <div className="field">
        <label htmlFor={`${id}-action`}>Action</label>
        <select
          id={`${id}-action`}
          value={actionChoice}
          onChange={(event) => setActionChoice(event.target.value)}
          aria-invalid={problems['action'] && actionChoice !== OTHER_ACTION ? true : undefined}
          aria-describedby={actionChoice !== OTHER_ACTION ? describedBy('action') : undefined}
        >
          <option value="">Any action</option>
          {AUDIT_ACTION_FAMILIES.map((family) => (
            <optgroup key={family.family} label={family.label}>
              <option value={family.family}>Every {family.family}* action</option>
              {family.actions.map((action) => (
                <option key={action} value={action}>
                  {action}
                </option>
              ))}
            </optgroup>
          ))}
          <option value={OTHER_ACTION}>Another action (type it)</option>
        </select>
      </div>
      {actionChoice === OTHER_ACTION ? (
        <div className="field">
          <label htmlFor={`${id}-actionText`}>Action or family</label>
          <input
            id={`${id}-actionText`}
            type="text"
            autoComplete="off"
            spellCheck={false}
            value={actionText}
            onChange={(event) => setActionText(event.target.value)}
            aria-invalid={problems['action'] ? true : undefined}
            aria-describedby={describedBy('action', `${id}-actionText-hint`)}
          />
          <p className="field-hint" id={`${id}-actionText-hint`}>
            Exact, or a family ending in a dot: <code>policy.</code>
          </p>
        </div>
      ) : null}
      <div className="field">
        <label htmlFor={`${id}-actor`}>Who</label>
        {actorListed ? (
          <select id={`${id}-actor`} value={actorId} onChange={(event) => setActorId(event.target.value)} aria-describedby={describedBy('actorId')}>
            <option value="">Anyone</option>
            {actors.map((actor) => (
              <option key={actor.id} value={actor.id}>
                {actor.label}
              </option>
            ))}
          </select>
        ) : (
          <input
            id={`${id}-actor`}
            type="text"
            autoComplete="off"
            spellCheck={false}
            value={actorId}
            onChange={(event) => setActorId(event.target.value)}
            aria-invalid={problems['actorId'] ? true : undefined}
            aria-describedby={describedBy('actorId', `${id}-actor-hint`)}
          />
        )}
        {actorListed ? null : (
          <p className="field-hint" id={`${id}-actor-hint`}>
            The id of a person or API token
          </p>
        )}
      </div>
      <div className="field">
        <label htmlFor={`${id}-from`}>From</label>
        <input
          id={`${id}-from`}
          type="datetime-local"
          value={from}
          onChange={(event) => setFrom(event.target.value)}
          aria-invalid={problems['from'] ? true : undefined}
          aria-describedby={describedBy('from')}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-to`}>Before</label>
        <input
          id={`${id}-to`}
          type="datetime-local"
          value={to}
          onChange={(event) => setTo(event.target.value)}
          aria-invalid={problems['to'] ? true : undefined}
          aria-describedby={describedBy('to')}
        />
      </div>
      <div className="form-actions">
        <button type="submit">Apply</button>
        <button type="button" className="secondary" onClick={onClear}>
          Clear
        </button>
      </div>
      {FILTER_FIELDS.some((field) => problems[field]) ? (
        <div className="filter-problems" role="alert">
          {FILTER_FIELDS.map((field) => (
            <FieldError key={field} id={`${id}-${field}-error`} problem={problems[field] ? `${field}: ${problems[field]}` : undefined} />
          ))}
        </div>
      ) : null}
    </form>
  );
}

const ACTOR_KIND_LABEL: Readonly<Record<AuditEntry['actorKind'], string>> = { USER: 'person', API_TOKEN: 'API token' };

function AuditTable({ state, filters }: { readonly state: LogState; readonly filters: AuditFilters }) {
  const captionId = useId();
  return (
    <div className="table-scroll">
      <table className="data-table audit-table" aria-labelledby={captionId} aria-busy={state.kind === 'loading'}>
        <caption id={captionId} className="visually-hidden">
          Audit log entries, newest first
        </caption>
        <thead>
          <tr>
            <th scope="col" className="numeric">
              #
            </th>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">What</th>
            <th scope="col">Target</th>
            <th scope="col">From</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          <TableRows rows={state.kind === 'loaded' ? state.entries : null} awaitingFirstAnswer={state.kind === 'loading'} columns={7} empty="No entry matches.">
            {(entries) => entries.map((entry) => <AuditRow key={entry.seq} entry={entry} filters={filters} />)}
          </TableRows>
        </tbody>
      </table>
    </div>
  );
}

function AuditRow({ entry, filters }: { readonly entry: AuditEntry; readonly filters: AuditFilters }) {
  const target = targetPath(entry.target);
  const details = describeDetails(entry.details);
  return (
    <tr data-seq={entry.seq} data-action={entry.action}>
      <td className="numeric">{entry.seq}</td>
      <td className="nowrap">{formatTime(entry.at)}</td>
      <td>
        {filters.actorId === entry.actorId ? (
          entry.actorName
        ) : (
          <Link to={{ search: writeAuditSearch({ ...filters, actorId: entry.actorId }).toString() }} title={`Show only what ${entry.actorName} did`}>
            {entry.actorName}
          </Link>
        )}
        <span className="muted cell-note">{ACTOR_KIND_LABEL[entry.actorKind]}</span>
      </td>
      <td className="mono nowrap">{entry.action}</td>
      <td className="mono target">{target ? <Link to={target}>{entry.target}</Link> : entry.target}</td>
      <td className="mono">{entry.sourceIp ?? '—'}</td>
      <td>
        {details.length === 0 ? (
          <span className="muted">—</span>
        ) : (
          <ul className="details-list">
            {details.map(([name, value]) => (
              <li key={name}>
                <span className="muted">{name}:</span> <span className="mono">{value}</span>
              </li>
            ))}
          </ul>
        )}
      </td>
    </tr>
  );
}
