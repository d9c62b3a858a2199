import { createContext, use, useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { api, setCsrfToken, setUnauthenticatedHandler, type SuccessBody } from '../api/client';
import { problemOf, unreachableProblem, type ApiProblem } from '../api/problems';

export type Session = SuccessBody<'/api/v1/auth/session', 'get'>;
export type Scope = Session['scopes'][number];

type SessionState =
  | { readonly kind: 'loading' }
  | { readonly kind: 'signed-out' }
  | { readonly kind: 'signed-in'; readonly session: Session }
  | { readonly kind: 'failed'; readonly problem: ApiProblem };

interface SessionContextValue {
  readonly state: SessionState;
  /** Takes the session a login or the bootstrap form opened. */
  signedIn(session: Session): void;
  logout(): Promise<void>;
  /** Reads the session again (after the control plane could not be reached). */
  reload(): void;
}

const SessionContext = createContext<SessionContextValue | null>(null);

/** The login page, remembering where to come back to. */
export function loginPath(next: string): string {
  return next === '/' || next.startsWith('/login') ? '/login' : `/login?next=${encodeURIComponent(next)}`;
}

/**
 * Holds who is signed in. Reads the session once at start; any later 401 (the session
 * expired or was revoked) drops it and sends the person to the login page.
 */
export function SessionProvider({ children }: { readonly children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ kind: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const navigate = useNavigate();
  const location = useLocation();
  const here = `${location.pathname}${location.search}`;

  useEffect(() => {
    let current = true;
    api.GET('/api/v1/auth/session').then(
      ({ data, response, error }) => {
        if (!current) return;
        if (data) {
          setCsrfToken(data.csrfToken);
          setState({ kind: 'signed-in', session: data });
        } else if (response.status === 401) {
          setState({ kind: 'signed-out' });
        } else {
          setState({ kind: 'failed', problem: problemOf(response, error) });
        }
      },
      () => current && setState({ kind: 'failed', problem: unreachableProblem() }),
    );
    return () => {
      current = false;
    };
  }, [attempt]);

  useEffect(() => {
    setUnauthenticatedHandler(() => {
      setCsrfToken(null);
      setState({ kind: 'signed-out' });
      navigate(loginPath(here), { replace: true });
    });
  }, [navigate, here]);

  const signedIn = useCallback((session: Session) => {
    setCsrfToken(session.csrfToken);
    setState({ kind: 'signed-in', session });
  }, []);

  const logout = useCallback(async () => {
    // Signed out here whatever the answer: a failed logout leaves a session the server ends on expiry.
    await api.POST('/api/v1/auth/logout').catch(() => undefined);
    setCsrfToken(null);
    setState({ kind: 'signed-out' });
    navigate('/login', { replace: true });
  }, [navigate]);

  const reload = useCallback(() => {
    setState({ kind: 'loading' });
    setAttempt((n) => n + 1);
  }, []);

  const value = useMemo(() => ({ state, signedIn, logout, reload }), [state, signedIn, logout, reload]);
  return <SessionContext value={value}>{children}</SessionContext>;
}

export function useSession(): SessionContextValue {
  const value = use(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

/** The signed-in session; only under RequireSession. */
export function useSignedInSession(): Session {
  const { state } = useSession();
  if (state.kind !== 'signed-in') throw new Error('useSignedInSession outside RequireSession');
  return state.session;
}

/** Whether the session may do what `scope` covers. The server checks again; this only hides what would be refused. */
export function useHasScope(scope: Scope): boolean {
  return useSignedInSession().scopes.includes(scope);
}
