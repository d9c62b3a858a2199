import { useEffect, useId, useState, type FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { api, type SuccessBody } from '../api/client';
import { describeLoginRefusal, fieldProblems, problemOf, unreachableProblem, type ApiProblem } from '../api/problems';
import { FieldError, FormProblem } from '../ui/form';
import { useSession, type Session } from './session';

type Providers = SuccessBody<'/api/v1/auth/providers', 'get'>;

const MIN_PASSWORD_LENGTH = 12;
const BOOTSTRAP_FIELDS = ['bootstrapToken', 'email', 'displayName', 'password'] as const;

/** What the login page says when single sign-on sent the browser back with `?error=<CODE>`; never the parameter itself. */
const SINGLE_SIGN_ON_PROBLEMS: Readonly<Record<string, string>> = {
  OIDC_STATE_MISMATCH: 'Single sign-on could not be finished: the answer did not belong to a sign-in started in this browser, or it came after more than 10 minutes. Please try again.',
  OIDC_FAILED: 'Your identity provider did not complete the sign-in. Please try again.',
  OIDC_NO_VERIFIED_EMAIL: 'Your identity provider did not confirm your email address, so Airlock cannot tell who you are. Verify your email there, or ask an admin.',
  OIDC_UNKNOWN_USER: 'Airlock has no account for your email address. Ask an admin of your organisation to add you.',
  OIDC_ACCOUNT_LINKED_ELSEWHERE: 'The Airlock account with your email address is linked to another account at your identity provider. Ask an admin of your organisation.',
  OIDC_UNAVAILABLE: 'Your identity provider cannot be reached right now. Try again in a moment, or sign in with your password.',
  ACCOUNT_DISABLED: 'Your Airlock account is disabled. An admin of your organisation can enable it again.',
  RATE_LIMITED: 'Too many sign-in attempts from this address. Wait a minute, then try again.',
};
const SINGLE_SIGN_ON_FAILED = 'Single sign-on did not succeed. Please try again.';

/** The message for a code from the address bar, which anyone can write: only own keys, never `constructor` and the like. */
function describeSingleSignOnProblem(code: string): string {
  return Object.hasOwn(SINGLE_SIGN_ON_PROBLEMS, code) ? (SINGLE_SIGN_ON_PROBLEMS[code] ?? SINGLE_SIGN_ON_FAILED) : SINGLE_SIGN_ON_FAILED;
}

/** The paths the control plane takes back after single sign-on (its OidcLoginQuery.next). */
const SAME_ORIGIN_PATH = /^\/(?![/\\])[\x21-\x5b\x5d-\x7e]*$/;

/** The single sign-on link, asking to come back to `next` when the control plane would take it. */
function singleSignOnHref(loginUrl: string, next: string): string {
  if (!SAME_ORIGIN_PATH.test(next)) return loginUrl;
  return `${loginUrl}${loginUrl.includes('?') ? '&' : '?'}next=${encodeURIComponent(next)}`;
}

/**
 * Where to go after signing in: a path of this app only, never another site. Without one, the
 * home route, which leads each person to the first screen their role reads (analytics for
 * managers and admins).
 */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/';
}

/**
 * `/login`: email and password, a button for the organisation's identity provider when one is
 * configured, and on a fresh installation the form that creates the first admin.
 */
export function LoginPage() {
  const { state, signedIn } = useSession();
  const [searchParams] = useSearchParams();
  const navigate = useNavigate();
  const [providers, setProviders] = useState<Providers | null>(null);
  const [providersProblem, setProvidersProblem] = useState<ApiProblem | null>(null);
  const [attempt, setAttempt] = useState(0);
  const next = safeNext(searchParams.get('next'));
  const singleSignOnError = searchParams.get('error');

  useEffect(() => {
    let current = true;
    api.GET('/api/v1/auth/providers').then(
      ({ data, response, error }) => {
        if (!current) return;
        if (data) setProviders(data);
        else setProvidersProblem(problemOf(response, error));
      },
      () => current && setProvidersProblem(unreachableProblem()),
    );
    return () => {
      current = false;
    };
  }, [attempt]);

  if (state.kind === 'signed-in') return <Navigate to={next} replace />;

  const enter = (session: Session) => {
    signedIn(session);
    navigate(next, { replace: true });
  };

  return (
    <main className="login-page">
      <title>{providers?.needsBootstrap ? 'Create the first admin — Airlock' : 'Sign in — Airlock'}</title>
      <div className="login-card">
        <p className="brand">Airlock</p>
        {providersProblem ? (
          <>
            <h1>Sign in</h1>
            <p className="form-problem" role="alert">
              {providersProblem.message}
            </p>
            <button
              type="button"
              onClick={() => {
                setProvidersProblem(null);
                setAttempt((n) => n + 1);
              }}
            >
              Try again
            </button>
          </>
        ) : !providers ? (
          <p aria-busy="true">Loading…</p>
        ) : providers.needsBootstrap ? (
          <BootstrapForm onCreated={enter} onAlreadyDone={() => setAttempt((n) => n + 1)} />
        ) : (
          <>
            <h1>Sign in</h1>
            {singleSignOnError ? (
              <p className="form-problem" role="alert">
                {describeSingleSignOnProblem(singleSignOnError)}
              </p>
            ) : null}
            <PasswordLoginForm onSignedIn={enter} />
            {providers.oidc ? (
              <>
                <p className="divider">or</p>
                <a className="button secondary wide" href={singleSignOnHref(providers.oidc.loginUrl, next)}>
                  Sign in with {providers.oidc.displayName}
                </a>
              </>
            ) : null}
          </>
        )}
      </div>
    </main>
  );
}

function PasswordLoginForm({ onSignedIn }: { readonly onSignedIn: (session: Session) => void }) {
  const id = useId();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      const { data, response, error } = await api.POST('/api/v1/auth/login', { body: { email, password } });
      if (data) {
        onSignedIn(data);
        return;
      }
      setProblem(describeLoginRefusal(problemOf(response, error)));
      setPassword('');
    } catch {
      setProblem(unreachableProblem().message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="stacked-form" onSubmit={(event) => void submit(event)} aria-describedby={problem ? `${id}-problem` : undefined}>
      <label htmlFor={`${id}-email`}>Email</label>
      <input id={`${id}-email`} type="email" autoComplete="username" required value={email} onChange={(event) => setEmail(event.target.value)} />
      <label htmlFor={`${id}-password`}>Password</label>
      <input
        id={`${id}-password`}
        type="password"
        autoComplete="current-password"
        required
        value={password}
        onChange={(event) => setPassword(event.target.value)}
      />
      <FormProblem id={`${id}-problem`} problem={problem} />
      <button type="submit" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}

function BootstrapForm({ onCreated, onAlreadyDone }: { readonly onCreated: (session: Session) => void; readonly onAlreadyDone: () => void }) {
  const id = useId();
  const [fields, setFields] = useState<Record<(typeof BOOTSTRAP_FIELDS)[number], string>>({ bootstrapToken: '', email: '', displayName: '', password: '' });
  const [byField, setByField] = useState<Readonly<Record<string, string>>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const update = (field: (typeof BOOTSTRAP_FIELDS)[number]) => (event: { target: { value: string } }) => setFields((current) => ({ ...current, [field]: event.target.value }));

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    setByField({});
    try {
      const { data, response, error } = await api.POST('/api/v1/auth/bootstrap', { body: { ...fields, bootstrapToken: fields.bootstrapToken.trim() } });
      if (data) {
        onCreated(data);
        return;
      }
      const refused = problemOf(response, error);
      if (refused.code === 'ALREADY_BOOTSTRAPPED') {
        onAlreadyDone();
        return;
      }
      const split = response.status === 400 ? fieldProblems(refused.message, BOOTSTRAP_FIELDS) : { byField: {}, other: [refused.message] };
      setByField(split.byField);
      setProblem(split.other.length > 0 ? split.other.join('; ') : null);
    } catch {
      setProblem(unreachableProblem().message);
    } finally {
      setBusy(false);
    }
  };

  const describedBy = (field: string, hint?: string) => [hint, byField[field] ? `${id}-${field}-error` : undefined].filter(Boolean).join(' ') || undefined;

  return (
    <>
      <h1>Create the first admin</h1>
      <p>
        This control plane has no people yet. Its first start wrote a bootstrap token to <code>&lt;data dir&gt;/bootstrap-admin-token</code> on the
        control plane&apos;s machine (the data dir is <code>AIRLOCK_DATA_DIR</code>, by default <code>.airlock/control-plane</code>;{' '}
        <code>AIRLOCK_BOOTSTRAP_TOKEN_FILE</code> moves the file). Paste it here to create the first admin.
      </p>
      <form className="stacked-form" onSubmit={(event) => void submit(event)} aria-describedby={problem ? `${id}-problem` : undefined}>
        <label htmlFor={`${id}-bootstrapToken`}>Bootstrap token</label>
        <input
          id={`${id}-bootstrapToken`}
          type="password"
          autoComplete="off"
          spellCheck={false}
          required
          value={fields.bootstrapToken}
          onChange={update('bootstrapToken')}
          aria-invalid={byField['bootstrapToken'] ? true : undefined}
          aria-describedby={describedBy('bootstrapToken')}
        />
        <FieldError id={`${id}-bootstrapToken-error`} problem={byField['bootstrapToken']} />
        <label htmlFor={`${id}-email`}>Email</label>
        <input
          id={`${id}-email`}
          type="email"
          autoComplete="username"
          required
          value={fields.email}
          onChange={update('email')}
          aria-invalid={byField['email'] ? true : undefined}
          aria-describedby={describedBy('email')}
        />
        <FieldError id={`${id}-email-error`} problem={byField['email']} />
        <label htmlFor={`${id}-displayName`}>Display name</label>
        <input
          id={`${id}-displayName`}
          type="text"
          autoComplete="name"
          required
          value={fields.displayName}
          onChange={update('displayName')}
          aria-invalid={byField['displayName'] ? true : undefined}
          aria-describedby={describedBy('displayName')}
        />
        <FieldError id={`${id}-displayName-error`} problem={byField['displayName']} />
        <label htmlFor={`${id}-password`}>Password</label>
        <input
          id={`${id}-password`}
          type="password"
          autoComplete="new-password"
          required
          minLength={MIN_PASSWORD_LENGTH}
          value={fields.password}
          onChange={update('password')}
          aria-invalid={byField['password'] ? true : undefined}
          aria-describedby={describedBy('password', `${id}-password-hint`)}
        />
        <p className="field-hint" id={`${id}-password-hint`}>
          At least {MIN_PASSWORD_LENGTH} characters.
        </p>
        <FieldError id={`${id}-password-error`} problem={byField['password']} />
        <FormProblem id={`${id}-problem`} problem={problem} />
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create admin and sign in'}
        </button>
      </form>
    </>
  );
}
