import { useCallback, useId, useRef, useState, type FormEvent } from 'react';
import { settle, useApiResource } from '../api/api-resource';
import { api } from '../api/client';
import { fieldProblems, problemOf, unreachableProblem } from '../api/problems';
import { useHasScope, useSession, useSignedInSession } from '../auth/session';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { FieldError, FormProblem, ReadProblem } from '../ui/form';
import { RelativeTime, useNow } from '../ui/relative-time';
import { TableRows } from '../ui/table-rows';
import { isRole, ROLE_DESCRIPTION, ROLE_LABEL, ROLES, type Role } from './access-labels';
import { NeedsPeopleRead, PeopleNav, PersonStatusBadge } from './people-parts';
import { generatePassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, personStatus, signInMethod, type Person } from './person-view';

/** `/people`: the organisation's people; admins (people:write) add them, change their role, disable and enable them. */
export function PeoplePage() {
  const canRead = useHasScope('people:read');
  return canRead ? <PeopleDirectory /> : <NeedsPeopleRead title="People" />;
}

function PeopleDirectory() {
  const canWrite = useHasScope('people:write');
  // A failed re-read keeps the list on screen; the problem is shown above it.
  const people = useApiResource('users', () => settle(api.GET('/api/v1/users')));
  const [formOpen, setFormOpen] = useState(false);
  const [outcome, setOutcome] = useState<string | null>(null);
  const addButton = useRef<HTMLButtonElement>(null);
  const formId = useId();

  const replacePerson = (changed: Person) => people.update((shown) => shown.map((person) => (person.id === changed.id ? changed : person)));

  return (
    <>
      <title>People — Airlock</title>
      <div className="page-heading">
        <h1 tabIndex={-1}>People</h1>
        {canWrite ? (
          <button type="button" ref={addButton} onClick={() => setFormOpen((open) => !open)} aria-expanded={formOpen} aria-controls={formId}>
            Add person
          </button>
        ) : null}
      </div>
      <PeopleNav />
      {canWrite && formOpen ? (
        <AddPersonForm
          id={formId}
          onAdded={(person) => {
            setOutcome(`Added ${person.displayName} (${person.email}) as ${ROLE_LABEL[person.role]}. Give them their first password out of band.`);
            people.reload();
          }}
          onClose={() => {
            setFormOpen(false);
            addButton.current?.focus();
          }}
        />
      ) : null}
      <ReadProblem problem={people.problem} />
      <p role="status" className="form-success action-outcome">
        {outcome}
      </p>
      <PeopleTable
        people={people.data}
        awaitingFirstAnswer={people.awaitingFirstAnswer}
        canWrite={canWrite}
        onChanged={(person, said) => {
          replacePerson(person);
          setOutcome(said);
        }}
      />
    </>
  );
}

const ADD_FIELDS = ['email', 'displayName', 'role', 'password'] as const;
type AddField = (typeof ADD_FIELDS)[number];
const EMPTY_PERSON: Readonly<Record<AddField, string>> = { email: '', displayName: '', role: 'VIEWER', password: '' };

/**
 * Adds a person with a first password. The password lives in this form's state only until the
 * person is created (or the form closes): the admin hands it over themselves, out of band.
 */
function AddPersonForm({ id: sectionId, onAdded, onClose }: { readonly id: string; readonly onAdded: (person: Person) => void; readonly onClose: () => void }) {
  const id = useId();
  const [fields, setFields] = useState<Record<AddField, string>>({ ...EMPTY_PERSON });
  const [showPassword, setShowPassword] = useState(false);
  const [byField, setByField] = useState<Readonly<Record<string, string>>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const role: Role = isRole(fields.role) ? fields.role : 'VIEWER';

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    setByField({});
    try {
      const { data, response, error } = await api.POST('/api/v1/users', {
        body: { email: fields.email.trim(), displayName: fields.displayName.trim(), role, password: fields.password },
      });
      if (data) {
        setFields({ ...EMPTY_PERSON });
        setShowPassword(false);
        onAdded(data);
        return;
      }
      // 400 names each field, and so does 409 EMAIL_TAKEN ("email: another account has this email already").
      const split = fieldProblems(problemOf(response, error).message, ADD_FIELDS);
      setByField(split.byField);
      setProblem(split.other.length > 0 ? split.other.join('; ') : null);
    } catch {
      setProblem(unreachableProblem().message);
    } finally {
      setBusy(false);
    }
  };

  const update = (field: AddField) => (event: { target: { value: string } }) => setFields((current) => ({ ...current, [field]: event.target.value }));
  const describedBy = (field: AddField, hint?: string) => [hint, byField[field] ? `${id}-${field}-error` : undefined].filter(Boolean).join(' ') || undefined;
  const invalid = (field: AddField) => (byField[field] ? true : undefined);

  return (
    <section id={sectionId} className="panel" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>Add person</h2>
      <form className="grid-form" onSubmit={(event) => void submit(event)} aria-describedby={problem ? `${id}-problem` : undefined}>
        <div className="field">
          <label htmlFor={`${id}-email`}>Email</label>
          <input
            id={`${id}-email`}
            type="email"
            autoComplete="off"
            spellCheck={false}
            required
            autoFocus
            value={fields.email}
            onChange={update('email')}
            aria-invalid={invalid('email')}
            aria-describedby={describedBy('email', `${id}-email-hint`)}
          />
          <p className="field-hint" id={`${id}-email-hint`}>
            Their login, unique across the control plane.
          </p>
          <FieldError id={`${id}-email-error`} problem={byField['email']} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-displayName`}>Name</label>
          <input
            id={`${id}-displayName`}
            type="text"
            autoComplete="off"
            required
            maxLength={100}
            value={fields.displayName}
            onChange={update('displayName')}
            aria-invalid={invalid('displayName')}
            aria-describedby={describedBy('displayName', `${id}-displayName-hint`)}
          />
          <p className="field-hint" id={`${id}-displayName-hint`}>
            As others see it in lists and the audit log.
          </p>
          <FieldError id={`${id}-displayName-error`} problem={byField['displayName']} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-role`}>Role</label>
          <select id={`${id}-role`} value={role} onChange={update('role')} aria-invalid={invalid('role')} aria-describedby={describedBy('role', `${id}-role-hint`)}>
            {ROLES.map((option) => (
              <option key={option} value={option}>
                {ROLE_LABEL[option]}
              </option>
            ))}
          </select>
          <ul className="field-hint role-descriptions" id={`${id}-role-hint`}>
            {ROLES.map((option) => (
              <li key={option} aria-current={option === role ? 'true' : undefined}>
                <strong>{ROLE_LABEL[option]}</strong>: {ROLE_DESCRIPTION[option]}
              </li>
            ))}
          </ul>
          <FieldError id={`${id}-role-error`} problem={byField['role']} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-password`}>First password</label>
          <div className="input-with-actions">
            <input
              id={`${id}-password`}
              type={showPassword ? 'text' : 'password'}
              // Not the admin's own password: nothing for a password manager to offer or save.
              autoComplete="off"
              spellCheck={false}
              required
              minLength={MIN_PASSWORD_LENGTH}
              maxLength={MAX_PASSWORD_LENGTH}
              value={fields.password}
              onChange={update('password')}
              aria-invalid={invalid('password')}
              aria-describedby={describedBy('password', `${id}-password-hint`)}
            />
            <button
              type="button"
              className="secondary compact"
              onClick={() => {
                setFields((current) => ({ ...current, password: generatePassword() }));
                setShowPassword(true);
              }}
            >
              Generate
            </button>
          </div>
          <label className="checkbox-label">
            <input type="checkbox" checked={showPassword} onChange={(event) => setShowPassword(event.target.checked)} /> Show the password
          </label>
          <p className="field-hint" id={`${id}-password-hint`}>
            {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters. Share it with them out of band (in person or by phone, not in the email
            that tells them their login); they can change it on their Account page once signed in.
          </p>
          <FieldError id={`${id}-password-error`} problem={byField['password']} />
        </div>
        <FormProblem id={`${id}-problem`} problem={problem} />
        <div className="form-actions wide">
          <button type="submit" disabled={busy}>
            {busy ? 'Adding…' : 'Add person'}
          </button>
          <button type="button" className="secondary" onClick={onClose}>
            Close
          </button>
        </div>
      </form>
    </section>
  );
}

function PeopleTable({
  people,
  awaitingFirstAnswer,
  canWrite,
  onChanged,
}: {
  readonly people: readonly Person[] | null;
  readonly awaitingFirstAnswer: boolean;
  readonly canWrite: boolean;
  readonly onChanged: (person: Person, said: string) => void;
}) {
  const captionId = useId();
  const now = useNow();
  const self = useSignedInSession().user.id;
  const columns = canWrite ? 7 : 6;
  return (
    <div className="table-scroll">
      <table className="data-table people-table" aria-labelledby={captionId} aria-busy={awaitingFirstAnswer}>
        <caption id={captionId} className="visually-hidden">
          People of the organisation, oldest first
        </caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            <th scope="col">Last login</th>
            <th scope="col">Status</th>
            <th scope="col">Signs in with</th>
            {canWrite ? <th scope="col">Actions</th> : null}
          </tr>
        </thead>
        <tbody>
          <TableRows rows={people} awaitingFirstAnswer={awaitingFirstAnswer} columns={columns}>
            {(rows) =>
              rows.map((person) => (
                <tr key={person.id} data-person-id={person.id} data-email={person.email}>
                  <th scope="row">
                    {person.displayName}
                    {person.id === self ? <span className="muted"> (you)</span> : null}
                  </th>
                  <td>{person.email}</td>
                  <td>
                    {canWrite ? (
                      <RoleChanger key={person.role} person={person} isSelf={person.id === self} onChanged={onChanged} />
                    ) : (
                      <span data-role={person.role}>{ROLE_LABEL[person.role]}</span>
                    )}
                  </td>
                  <td>{person.lastLoginAt ? <RelativeTime iso={person.lastLoginAt} now={now} /> : <span className="muted">never</span>}</td>
                  <td>
                    <PersonStatusBadge status={personStatus(person)} />
                  </td>
                  <td>{signInMethod(person)}</td>
                  {canWrite ? (
                    <td>
                      <AccessToggle person={person} isSelf={person.id === self} onChanged={onChanged} />
                    </td>
                  ) : null}
                </tr>
              ))
            }
          </TableRows>
        </tbody>
      </table>
    </div>
  );
}

/** Reads the session again after a change to one's own account: its scopes follow the role at once. */
function useRefreshOwnSession(isSelf: boolean): () => void {
  const { reload } = useSession();
  return useCallback(() => {
    if (isSelf) reload();
  }, [isSelf, reload]);
}

/**
 * The role as a select and a Save button. Keyed by the person's role, so a re-read list with
 * another role starts the draft afresh. A refusal (LAST_ADMIN above all) is said under it.
 */
function RoleChanger({ person, isSelf, onChanged }: { readonly person: Person; readonly isSelf: boolean; readonly onChanged: (person: Person, said: string) => void }) {
  const id = useId();
  const [draft, setDraft] = useState<Role>(person.role);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const refreshOwnSession = useRefreshOwnSession(isSelf);

  const save = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (draft === person.role) return;
    setBusy(true);
    setProblem(null);
    try {
      const { data, response, error } = await api.PATCH('/api/v1/users/{id}', { params: { path: { id: person.id } }, body: { role: draft } });
      if (data) {
        onChanged(data, `${data.displayName} is now ${ROLE_LABEL[data.role]}.`);
        refreshOwnSession();
        return;
      }
      // The select goes back to the role the person still has; the message says why.
      setDraft(person.role);
      setProblem(problemOf(response, error).message);
    } catch {
      setProblem(unreachableProblem().message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="inline-form" onSubmit={(event) => void save(event)}>
      <label htmlFor={`${id}-role`} className="visually-hidden">
        Role of {person.displayName}
      </label>
      <select
        id={`${id}-role`}
        value={draft}
        data-role={person.role}
        onChange={(event) => {
          setProblem(null);
          if (isRole(event.target.value)) setDraft(event.target.value);
        }}
        aria-describedby={problem ? `${id}-problem` : undefined}
      >
        {ROLES.map((option) => (
          <option key={option} value={option}>
            {ROLE_LABEL[option]}
          </option>
        ))}
      </select>
      <button type="submit" className="compact" disabled={busy || draft === person.role}>
        {busy ? 'Saving…' : 'Save'}
        <span className="visually-hidden"> role of {person.displayName}</span>
      </button>
      <FormProblem id={`${id}-problem`} problem={problem} />
    </form>
  );
}

/** Disable or enable, after a confirmation that says what it does. */
function AccessToggle({ person, isSelf, onChanged }: { readonly person: Person; readonly isSelf: boolean; readonly onChanged: (person: Person, said: string) => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const refreshOwnSession = useRefreshOwnSession(isSelf);
  const disabling = !person.disabled;
  const verb = disabling ? 'Disable' : 'Enable';

  const apply = async () => {
    setBusy(true);
    try {
      const { data, response, error } = await api.PATCH('/api/v1/users/{id}', { params: { path: { id: person.id } }, body: { disabled: disabling } });
      if (data) {
        setConfirming(false);
        onChanged(data, data.disabled ? `${data.displayName} is disabled and signed out everywhere.` : `${data.displayName} is enabled and can sign in again.`);
        // Disabling oneself ended this session too: re-reading it leads to the login page.
        refreshOwnSession();
      } else {
        setProblem(problemOf(response, error).message);
      }
    } catch {
      setProblem(unreachableProblem().message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button
        type="button"
        className={disabling ? 'danger compact' : 'secondary compact'}
        onClick={() => {
          setProblem(null);
          setConfirming(true);
        }}
      >
        {verb}
        <span className="visually-hidden"> {person.displayName}</span>
      </button>
      <ConfirmDialog
        open={confirming}
        title={`${verb} ${person.displayName}?`}
        confirmLabel={`${verb} person`}
        busy={busy}
        problem={problem}
        onConfirm={() => void apply()}
        onCancel={() => setConfirming(false)}
      >
        {disabling ? (
          <p>
            {person.displayName} ({person.email}) is signed out everywhere at once and cannot sign in until enabled again. Nothing they did is removed,
            and the audit log keeps naming them.
            {isSelf ? <strong> This is you: you will be signed out too.</strong> : null}
          </p>
        ) : (
          <p>
            {person.displayName} ({person.email}) can sign in again, as {ROLE_LABEL[person.role]}
            {person.passwordLogin ? ', with the password they had' : ''}.
          </p>
        )}
      </ConfirmDialog>
    </>
  );
}
