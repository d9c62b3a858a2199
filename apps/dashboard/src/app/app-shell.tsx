import { useEffect, useRef } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router';
import { useSession, useSignedInSession, type Scope } from '../auth/session';
import { LiveEventsProvider, useLiveStatus } from '../live/live-events';
import { humanize } from '../ui/format';

/** The screens that exist, in the order the navigation lists them. */
const SCREENS: ReadonlyArray<{ readonly path: string; readonly label: string; readonly scope?: Scope }> = [
  { path: '/analytics', label: 'Analytics', scope: 'analytics:read' },
  { path: '/jobs', label: 'Jobs' },
  { path: '/fleet', label: 'Fleet', scope: 'fleet:read' },
  { path: '/policies', label: 'Policies', scope: 'policy:read' },
  // Listed only for those who may read it (admins); the others would meet a refusal.
  { path: '/audit', label: 'Audit log', scope: 'audit:read' },
  { path: '/people', label: 'People', scope: 'people:read' },
];

function LiveIndicator() {
  const status = useLiveStatus();
  const label = status === 'live' ? 'live' : status === 'connecting' ? 'connecting' : 'reconnecting';
  return (
    <p className={`live-indicator live-${status}`} role="status" title="Updates from the control plane's event stream">
      <span className="live-dot" aria-hidden="true" />
      {label}
    </p>
  );
}

/** Moves focus to the new page's heading after a navigation, so a screen reader announces it. */
function useFocusHeadingOnNavigate() {
  const { pathname } = useLocation();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.querySelector<HTMLElement>('main h1')?.focus();
  }, [pathname]);
}

/** Header, navigation and live connection around every signed-in screen. */
export function AppShell() {
  const session = useSignedInSession();
  const { logout } = useSession();
  useFocusHeadingOnNavigate();
  return (
    <LiveEventsProvider>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <span className="brand">Airlock</span>
        <nav aria-label="Main">
          <ul>
            {SCREENS.filter((screen) => !screen.scope || session.scopes.includes(screen.scope)).map((screen) => (
              <li key={screen.path}>
                <NavLink to={screen.path}>{screen.label}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <LiveIndicator />
        <p className="signed-in-as">
          <NavLink to="/account" className="user-name" aria-label={`${session.user.displayName}: your account`}>
            {session.user.displayName}
          </NavLink>{' '}
          <span className="user-role">{humanize(session.user.role)}</span>
        </p>
        <button type="button" className="secondary" onClick={() => void logout()}>
          Log out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </LiveEventsProvider>
  );
}
