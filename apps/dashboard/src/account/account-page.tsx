import { useId, useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { fieldProblems, problemOf, unreachableProblem } from '../api/problems';
import { useSignedInSession } from '../auth/session';
import { inScopeOrder, ROLE_DESCRIPTION, ROLE_LABEL, SCOPE_DESCRIPTION } from '../people/access-labels';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../people/person-view';
import { FieldError, FormProblem } from '../ui/form';
import { RelativeTime, useNow } from '../ui/relative-time';
import { EMPTY_PASSWORD_CHANGE, localPasswordProblems, PASSWORD_FIELDS, type PasswordField } from './password-change';

/** `/account`: who is signed in, what they may do, when the session ends; and changing one's password. */
export function AccountPage() {
  const session = useSignedInSession();
  const now = useNow();
  const id = useId();
  return (
    <>
      <title>Your account — Airlock</title>
      <div className="page-heading">
        <h1 tabIndex={-1}>Your account</h1>
      </div>
      <dl className="summary">
        <div>
          <dt>Name</dt>
          <dd>{session.user.displayName}</dd>
        </div>
        <div>
          <dt>Email</dt>
          <dd>{session.user.email}</dd>
        </div>
        <div>
          <dt>Role</dt>
          <dd>
            {ROLE_LABEL[session.user.role]}: <span className="muted">{ROLE_DESCRIPTION[session.user.role]}</span>
          </dd>
        </div>
        <div>
          <dt>This session ends</dt>
          <dd>
            <RelativeTime iso={session.expiresAt} now={now} /> <span className="muted">at the latest; sooner after a while without use</span>
          </dd>
        </div>
      </dl>
      <section aria-labelledby={`${id}-scopes`}>
        <h2 id={`${id}-scopes`}>What you may do</h2>
        <p className="prose muted">Your role&apos;s scopes. An admin changes roles; a change applies at once, to this session too.</p>
        <ul className="plain-list held-scopes">
          {inScopeOrder(session.scopes).map((scope) => (
            <li key={scope} data-scope={scope}>
              <code>{scope}</code> <span className="choice-note">{SCOPE_DESCRIPTION[scope]}</span>
            </li>
          ))}
        </ul>
      </section>
      <ChangePasswordForm email={session.user.email} />
    </>
  );
}

/**
 * Current, new and again. Lengths and the match are checked here; whether the current password
 * is right only the server knows (400 INVALID_CURRENT_PASSWORD, shown under that field). Each
 * wrong current password counts towards the account's lock, like a wrong login.
 */
function ChangePasswordForm({ email }: { readonly email: string }) {
  const id = useId();
  const [fields, setFields] = useState<Record<PasswordField, string>>({ ...EMPTY_PASSWORD_CHANGE });
  const [byField, setByField] = useState<Readonly<Record<string, string>>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [changed, setChanged] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setProblem(null);
    setChanged(false);
    const local = localPasswordProblems(fields);
    setByField(local);
    if (Object.keys(local).length > 0) {
      document.getElementById(`${id}-${Object.keys(local)[0] ?? 'currentPassword'}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      const { response, error } = await api.POST('/api/v1/auth/password', { body: { currentPassword: fields.currentPassword, newPassword: fields.newPassword } });
      if (response.ok) {
        setFields({ ...EMPTY_PASSWORD_CHANGE });
        setChanged(true);
        return;
      }
      const split = fieldProblems(problemOf(response, error).message, PASSWORD_FIELDS);
      setByField(split.byField);
      setProblem(split.other.length > 0 ? split.other.join('; ') : null);
      if (split.byField['currentPassword']) {
        setFields((current) => ({ ...current, currentPassword: '' }));
        document.getElementById(`${id}-currentPassword`)?.focus();
      }
    } catch {
      setProblem(unreachableProblem().message);
    } finally {
      setBusy(false);
    }
  };

  const input = (field: PasswordField, hint?: string) => ({
    id: `${id}-${field}`,
    type: 'password',
    value: fields[field],
    onChange: (event: { target: { value: string } }) => {
      setChanged(false);
      setFields((current) => ({ ...current, [field]: event.target.value }));
    },
    'aria-invalid': byField[field] ? true : undefined,
    'aria-describedby': [hint, byField[field] ? `${id}-${field}-error` : undefined].filter(Boolean).join(' ') || undefined,
  });

  return (
    <section className="panel narrow-panel" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>Change password</h2>
      <form className="stacked-form" noValidate onSubmit={(event) => void submit(event)} aria-describedby={problem ? `${id}-problem` : undefined}>
        {/* For password managers: which account the new password belongs to. */}
        <input type="email" name="username" autoComplete="username" value={email} readOnly hidden />
        <label htmlFor={`${id}-currentPassword`}>Current password</label>
        <input {...input('currentPassword')} autoComplete="current-password" />
        <FieldError id={`${id}-currentPassword-error`} problem={byField['currentPassword']} />
        <label htmlFor={`${id}-newPassword`}>New password</label>
        <input {...input('newPassword', `${id}-newPassword-hint`)} autoComplete="new-password" />
        <p className="field-hint" id={`${id}-newPassword-hint`}>
          {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters. A long phrase is easier to remember than a short jumble.
        </p>
        <FieldError id={`${id}-newPassword-error`} problem={byField['newPassword']} />
        <label htmlFor={`${id}-confirmPassword`}>New password again</label>
        <input {...input('confirmPassword')} autoComplete="new-password" />
        <FieldError id={`${id}-confirmPassword-error`} problem={byField['confirmPassword']} />
        <FormProblem id={`${id}-problem`} problem={problem} />
        <button type="submit" disabled={busy}>
          {busy ? 'Changing…' : 'Change password'}
        </button>
        <p role="status" className="form-success">
          {changed ? 'Your password is changed. Your other sessions were signed out; this one stays signed in.' : null}
        </p>
      </form>
    </section>
  );
}
