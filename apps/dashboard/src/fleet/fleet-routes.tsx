import { Route, Routes } from 'react-router';
import { NotFoundPage } from '../app/not-found-page';
import { EnrollmentTokensPage } from './enrollment-tokens-page';
import { FleetPage } from './fleet-page';
import { WorkerPage } from './worker-page';

/** Everything under `/fleet`: one route in main.tsx (`/fleet/*`) keeps the fleet's screens together here. */
export function FleetRoutes() {
  return (
    <Routes>
      <Route index element={<FleetPage />} />
      <Route path="workers/:workerId" element={<WorkerPage />} />
      <Route path="enrollment-tokens" element={<EnrollmentTokensPage />} />
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}
