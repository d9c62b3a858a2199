import { lazy, Suspense } from 'react';
import { Navigate } from 'react-router';
import { useHasScope } from '../auth/session';

// The charts bring recharts (and d3's scales) along: loaded with the analytics screen, in a
// script of their own, so no other screen pays for them.
const AnalyticsPage = lazy(() => import('./analytics-page').then((module) => ({ default: module.AnalyticsPage })));

/** `/analytics` (main.tsx mounts it), its script fetched on the first visit. */
export function AnalyticsRoute() {
  return (
    <Suspense
      fallback={
        <>
          <title>Analytics — Airlock</title>
          <h1 tabIndex={-1}>Analytics</h1>
          <p aria-busy="true">Loading the analytics…</p>
        </>
      }
    >
      <AnalyticsPage />
    </Suspense>
  );
}

/** Where `/` leads: the analytics for those who may read them (managers look there first), else the jobs. */
export function StartPageRedirect() {
  const canReadAnalytics = useHasScope('analytics:read');
  return <Navigate to={canReadAnalytics ? '/analytics' : '/jobs'} replace />;
}
