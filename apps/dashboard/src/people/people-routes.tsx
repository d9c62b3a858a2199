import { Route, Routes } from 'react-router';
import { NotFoundPage } from '../app/not-found-page';
import { ApiTokensPage } from './api-tokens-page';
import { PeoplePage } from './people-page';

/** Everything under `/people`: one route in main.tsx (`/people/*`) keeps these screens together here. */
export function PeopleRoutes() {
  return (
    <Routes>
      <Route index element={<PeoplePage />} />
      <Route path="api-tokens" element={<ApiTokensPage />} />
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}
