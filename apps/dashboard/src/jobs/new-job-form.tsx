import { useId, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { api, type Schemas } from '../api/client';
import { fieldProblems, problemOf, unreachableProblem } from '../api/problems';
import { FieldError, FormProblem } from '../ui/form';
import { shortId } from '../ui/format';
import { newJobRequest, type NewJobFields, type NewJobKind, type ReviewTargetSource, type TicketSource } from './new-job-request';

/** The form's fields by the names the API's 400 messages use for them. */
const FIELDS = ['repoAlias', 'baseRef', 'ticket.title', 'ticket.description', 'ticketRef', 'mergeRequest', 'branch', 'ref', 'pool', 'priority'] as const;
type Field = (typeof FIELDS)[number];

const EMPTY: NewJobFields = { repoAlias: '', baseRef: 'main', 'ticket.title': '', 'ticket.description': '', ticketRef: '', mergeRequest: '', branch: '', ref: 'main', pool: '', priority: '' };

interface Option<Value extends string> {
  readonly value: Value;
  readonly label: string;
  readonly hint: string;
}

const KINDS: readonly Option<NewJobKind>[] = [
  { value: 'fix', label: 'Fix', hint: 'Change the repository for a ticket; the worker tests the change and delivers it.' },
  { value: 'review', label: 'Review', hint: 'Review a merge request: the comments are posted on your forge, and only their counts reach Airlock.' },
  { value: 'index', label: 'Index', hint: "Build the repository's context index at a ref, so that fix jobs starting there find it ready." },
];

const TICKET_SOURCES: readonly Option<TicketSource>[] = [
  { value: 'typed', label: 'Type the ticket', hint: 'Its title and description travel to the worker in the signed instruction.' },
  {
    value: 'reference',
    label: 'Ticket reference',
    hint: "Name it as <tracker>:<key>, e.g. jira:PROJ-123: the worker reads it from your own tracker, and its text never reaches Airlock.",
  },
];

const REVIEW_TARGETS: readonly Option<ReviewTargetSource>[] = [
  { value: 'mergeRequest', label: 'Merge request number', hint: "Its number on the repository's forge." },
  { value: 'branch', label: 'Branch', hint: 'A branch whose open merge request is reviewed.' },
];

/** One choice of several, as radio buttons with a hint each. */
function Choices<Value extends string>({
  name,
  legend,
  options,
  value,
  onChange,
}: {
  readonly name: string;
  readonly legend: string;
  readonly options: readonly Option<Value>[];
  readonly value: Value;
  readonly onChange: (value: Value) => void;
}) {
  return (
    <fieldset className="wide choice-group">
      <legend>{legend}</legend>
      {options.map((option) => (
        <div className="choice" key={option.value}>
          <input
            type="radio"
            id={`${name}-${option.value}`}
            name={name}
            value={option.value}
            checked={value === option.value}
            onChange={() => onChange(option.value)}
            aria-describedby={`${name}-${option.value}-hint`}
          />
          <label htmlFor={`${name}-${option.value}`}>{option.label}</label>
          <span className="field-hint" id={`${name}-${option.value}-hint`}>
            {option.hint}
          </span>
        </div>
      ))}
    </fieldset>
  );
}

/**
 * Hands work to the fleet: a fix (base ref and a ticket, typed in or named by reference), a
 * review (a merge request by number or by branch) or an index job (a ref), each on a
 * repository alias as the workers' catalogs name it. The server's 400 names the field; its
 * problem is shown under that input.
 */
export function NewJobForm({ id: sectionId, onCreated, onClose }: { readonly id: string; readonly onCreated: (job: Schemas['JobResponse']) => void; readonly onClose: () => void }) {
  const id = useId();
  const [kind, setKind] = useState<NewJobKind>('fix');
  const [fields, setFields] = useState<NewJobFields>({ ...EMPTY });
  const [ticketSource, setTicketSource] = useState<TicketSource>('typed');
  const [reviewTarget, setReviewTarget] = useState<ReviewTargetSource>('mergeRequest');
  const [byField, setByField] = useState<Readonly<Record<string, string>>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [created, setCreated] = useState<Schemas['JobResponse'] | null>(null);
  const [busy, setBusy] = useState(false);

  const chooseKind = (next: NewJobKind) => {
    setKind(next);
    // Problems with the fields of another kind no longer apply.
    setByField({});
    setProblem(null);
  };

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    setByField({});
    setCreated(null);
    try {
      const { data, response, error } = await api.POST('/api/v1/jobs', { body: newJobRequest(kind, fields, { ticketSource, reviewTarget }) });
      if (data) {
        setCreated(data);
        // The repository and refs are often the same for the next job; the ticket and the merge request rarely are.
        setFields((current) => ({ ...EMPTY, repoAlias: current.repoAlias, baseRef: current.baseRef, ref: current.ref, pool: current.pool }));
        onCreated(data);
        return;
      }
      const refused = problemOf(response, error);
      const split = response.status === 400 ? fieldProblems(refused.message, FIELDS) : { byField: {}, other: [refused.message] };
      setByField(split.byField);
      setProblem(split.other.length > 0 ? split.other.join('; ') : null);
    } catch {
      setProblem(unreachableProblem().message);
    } finally {
      setBusy(false);
    }
  };

  const input = (field: Field) => ({
    id: `${id}-${field}`,
    value: fields[field],
    onChange: (event: { target: { value: string } }) => setFields((current) => ({ ...current, [field]: event.target.value })),
    'aria-invalid': byField[field] ? true : undefined,
    'aria-describedby': byField[field] ? `${id}-${field}-error` : undefined,
  });

  return (
    <section id={sectionId} className="panel" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>New {kind} job</h2>
      <form className="grid-form" onSubmit={(event) => void submit(event)} aria-describedby={problem ? `${id}-problem` : undefined}>
        <Choices name={`${id}-kind`} legend="Kind" options={KINDS} value={kind} onChange={chooseKind} />
        <div className="field">
          <label htmlFor={`${id}-repoAlias`}>Repository alias</label>
          <input {...input('repoAlias')} required autoComplete="off" spellCheck={false} placeholder="e.g. billing-service" autoFocus />
          <FieldError id={`${id}-repoAlias-error`} problem={byField['repoAlias']} />
        </div>
        {kind === 'fix' ? (
          <>
            <div className="field">
              <label htmlFor={`${id}-baseRef`}>Base ref</label>
              <input {...input('baseRef')} required autoComplete="off" spellCheck={false} />
              <FieldError id={`${id}-baseRef-error`} problem={byField['baseRef']} />
            </div>
            <Choices name={`${id}-source`} legend="Ticket" options={TICKET_SOURCES} value={ticketSource} onChange={setTicketSource} />
            {ticketSource === 'reference' ? (
              <div className="field wide">
                <label htmlFor={`${id}-ticketRef`}>Ticket reference</label>
                <input {...input('ticketRef')} required autoComplete="off" spellCheck={false} placeholder="e.g. jira:PROJ-123" />
                <FieldError id={`${id}-ticketRef-error`} problem={byField['ticketRef']} />
              </div>
            ) : (
              <>
                <div className="field wide">
                  <label htmlFor={`${id}-ticket.title`}>Ticket title</label>
                  <input {...input('ticket.title')} required autoComplete="off" maxLength={200} />
                  <FieldError id={`${id}-ticket.title-error`} problem={byField['ticket.title']} />
                </div>
                <div className="field wide">
                  <label htmlFor={`${id}-ticket.description`}>Ticket description</label>
                  <textarea {...input('ticket.description')} rows={5} />
                  <FieldError id={`${id}-ticket.description-error`} problem={byField['ticket.description']} />
                </div>
              </>
            )}
          </>
        ) : null}
        {kind === 'review' ? (
          <>
            <Choices name={`${id}-target`} legend="Merge request" options={REVIEW_TARGETS} value={reviewTarget} onChange={setReviewTarget} />
            {reviewTarget === 'mergeRequest' ? (
              <div className="field">
                <label htmlFor={`${id}-mergeRequest`}>Merge request number</label>
                <input {...input('mergeRequest')} type="number" min={1} step={1} required inputMode="numeric" autoComplete="off" placeholder="e.g. 42" />
                <FieldError id={`${id}-mergeRequest-error`} problem={byField['mergeRequest']} />
              </div>
            ) : (
              <div className="field">
                <label htmlFor={`${id}-branch`}>Branch</label>
                <input {...input('branch')} required autoComplete="off" spellCheck={false} placeholder="e.g. feature/login" />
                <FieldError id={`${id}-branch-error`} problem={byField['branch']} />
              </div>
            )}
          </>
        ) : null}
        {kind === 'index' ? (
          <div className="field">
            <label htmlFor={`${id}-ref`}>Ref to index</label>
            <input {...input('ref')} required autoComplete="off" spellCheck={false} aria-describedby={`${id}-ref-hint${byField['ref'] ? ` ${id}-ref-error` : ''}`} />
            <p className="field-hint" id={`${id}-ref-hint`}>
              A branch or tag fix jobs start from: the worker indexes only refs its config allows as base refs.
            </p>
            <FieldError id={`${id}-ref-error`} problem={byField['ref']} />
          </div>
        ) : null}
        <div className="field">
          <label htmlFor={`${id}-pool`}>Worker pool</label>
          <input {...input('pool')} autoComplete="off" spellCheck={false} placeholder="any worker" aria-describedby={`${id}-pool-hint${byField['pool'] ? ` ${id}-pool-error` : ''}`} />
          <p className="field-hint" id={`${id}-pool-hint`}>
            Only a worker of this pool runs the job; empty for any worker.
          </p>
          <FieldError id={`${id}-pool-error`} problem={byField['pool']} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-priority`}>Priority</label>
          <input {...input('priority')} type="number" min={0} max={9} step={1} inputMode="numeric" autoComplete="off" placeholder="5" aria-describedby={`${id}-priority-hint${byField['priority'] ? ` ${id}-priority-error` : ''}`} />
          <p className="field-hint" id={`${id}-priority-hint`}>
            0 to 9, higher first; 5 when empty.
          </p>
          <FieldError id={`${id}-priority-error`} problem={byField['priority']} />
        </div>
        <FormProblem id={`${id}-problem`} problem={problem} />
        <div className="form-actions wide">
          <button type="submit" disabled={busy}>
            {busy ? 'Creating…' : `Create ${kind} job`}
          </button>
          <button type="button" className="secondary" onClick={onClose}>
            Close
          </button>
          <p role="status" className="form-success">
            {created ? (
              <>
                Created job <Link to={`/jobs/${created.id}`}>{shortId(created.id)}</Link>.
              </>
            ) : null}
          </p>
        </div>
      </form>
    </section>
  );
}
