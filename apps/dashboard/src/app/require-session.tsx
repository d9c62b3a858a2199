import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { loginPath, useSession } from '../auth/session';

/** Renders its children for a signed-in person; sends anyone else to the login page. */
export function RequireSession({ children }: { readonly children: ReactNode }) {
  const { state, reload } = useSession();
  const location = useLocation();
  switch (state.kind) {
    case 'loading':
      return (
        <main className="centered" aria-busy="true">
          <p>Loading…</p>
        </main>
      );
    case 'signed-out':
      return <Navigate to={loginPath(`${location.pathname}${location.search}`)} replace />;
    case 'failed':
      return (
        <main className="centered">
          <title>Airlock — unavailable</title>
          <h1>The control plane is not answering</h1>
          <p role="alert">{state.problem.message}</p>
          <button type="button" onClick={reload}>
            Try again
          </button>
        </main>
      );
    case 'signed-in':
      return children;
  }
}
