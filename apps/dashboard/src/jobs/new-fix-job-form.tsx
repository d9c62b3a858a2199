import { useId, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { api, type Schemas } from '../api/client';
import { fieldProblems, problemOf, unreachableProblem } from '../api/problems';
import { FieldError, FormProblem } from '../ui/form';
import { shortId } from '../ui/format';
import { fixJobRequest, type FixJobFields, type TicketSource } from './job-ticket';

/** The form's fields by the names the API's 400 messages use for them. */
const FIELDS = ['repoAlias', 'baseRef', 'ticket.title', 'ticket.description', 'ticketRef'] as const;
type Field = (typeof FIELDS)[number];

const EMPTY: FixJobFields = { repoAlias: '', baseRef: 'main', 'ticket.title': '', 'ticket.description': '', ticketRef: '' };

const TICKET_SOURCES: readonly { readonly value: TicketSource; readonly label: string; readonly hint: string }[] = [
  { value: 'typed', label: 'Type the ticket', hint: 'Its title and description travel to the worker in the signed instruction.' },
  {
    value: 'reference',
    label: 'Ticket reference',
    hint: "Name it as <tracker>:<key>, e.g. jira:PROJ-123: the worker reads it from your own tracker, and its text never reaches Airlock.",
  },
];

/**
 * Hands a ticket to the fleet: repository alias (as the workers' catalogs name it), base ref,
 * and the ticket, typed in or named by reference. The server's 400 names the field; its
 * problem is shown under that input.
 */
export function NewFixJobForm({ id: sectionId, onCreated, onClose }: { readonly id: string; readonly onCreated: (job: Schemas['JobResponse']) => void; readonly onClose: () => void }) {
  const id = useId();
  const [fields, setFields] = useState<FixJobFields>({ ...EMPTY });
  const [ticketSource, setTicketSource] = useState<TicketSource>('typed');
  const [byField, setByField] = useState<Readonly<Record<string, string>>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [created, setCreated] = useState<Schemas['JobResponse'] | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    setByField({});
    setCreated(null);
    try {
      const { data, response, error } = await api.POST('/api/v1/jobs', { body: fixJobRequest(fields, ticketSource) });
      if (data) {
        setCreated(data);
        setFields((current) => ({ ...EMPTY, repoAlias: current.repoAlias, baseRef: current.baseRef }));
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
      <h2 id={`${id}-heading`}>New fix job</h2>
      <form className="grid-form" onSubmit={(event) => void submit(event)} aria-describedby={problem ? `${id}-problem` : undefined}>
        <div className="field">
          <label htmlFor={`${id}-repoAlias`}>Repository alias</label>
          <input {...input('repoAlias')} required autoComplete="off" spellCheck={false} placeholder="e.g. billing-service" autoFocus />
          <FieldError id={`${id}-repoAlias-error`} problem={byField['repoAlias']} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-baseRef`}>Base ref</label>
          <input {...input('baseRef')} required autoComplete="off" spellCheck={false} />
          <FieldError id={`${id}-baseRef-error`} problem={byField['baseRef']} />
        </div>
        <fieldset className="wide ticket-source">
          <legend>Ticket</legend>
          {TICKET_SOURCES.map((option) => (
            <div className="choice" key={option.value}>
              <input
                type="radio"
                id={`${id}-source-${option.value}`}
                name={`${id}-source`}
                value={option.value}
                checked={ticketSource === option.value}
                onChange={() => setTicketSource(option.value)}
                aria-describedby={`${id}-source-${option.value}-hint`}
              />
              <label htmlFor={`${id}-source-${option.value}`}>{option.label}</label>
              <span className="field-hint" id={`${id}-source-${option.value}-hint`}>
                {option.hint}
              </span>
            </div>
          ))}
        </fieldset>
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
        <FormProblem id={`${id}-problem`} problem={problem} />
        <div className="form-actions wide">
          <button type="submit" disabled={busy}>
            {busy ? 'Creating…' : 'Create fix job'}
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
