import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Route, Routes } from 'react-router';
import { AppShell } from './app/app-shell';
import { NotFoundPage } from './app/not-found-page';
import { RequireSession } from './app/require-session';
import { LoginPage } from './auth/login-page';
import { SessionProvider } from './auth/session';
import { JobDetailPage } from './jobs/job-detail-page';
import { JobsPage } from './jobs/jobs-page';
import { FleetRoutes } from './fleet/fleet-routes';
import { AuditPage } from './audit/audit-page';
import { PolicyRoutes } from './policies/policy-routes';
import { PeopleRoutes } from './people/people-routes';
import { AccountPage } from './account/account-page';
import { AnalyticsRoute, StartPageRedirect } from './analytics/analytics-routes';
import './styles.css';

// Declarative routing: the screens load their own data, so the data router (loaders,
// actions) would only add weight — about 50 kB of the bundle.
const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <BrowserRouter>
      <SessionProvider>
        <Routes>
          <Route path="/login" element={<LoginPage />} />
          <Route
            element={
              <RequireSession>
                <AppShell />
              </RequireSession>
            }
          >
            <Route index element={<StartPageRedirect />} />
            <Route path="/analytics" element={<AnalyticsRoute />} />
            <Route path="/jobs" element={<JobsPage />} />
            <Route path="/jobs/:jobId" element={<JobDetailPage />} />
            <Route path="/fleet/*" element={<FleetRoutes />} />
            <Route path="/audit" element={<AuditPage />} />
            <Route path="/policies/*" element={<PolicyRoutes />} />
            <Route path="/people/*" element={<PeopleRoutes />} />
            <Route path="/account" element={<AccountPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Routes>
      </SessionProvider>
    </BrowserRouter>
  </StrictMode>,
);
