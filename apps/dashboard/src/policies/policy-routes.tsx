import { Route, Routes } from 'react-router';
import { NotFoundPage } from '../app/not-found-page';
import { NewPolicyPage, NewPolicyVersionPage } from './policy-editor-page';
import { PoliciesPage } from './policies-page';
import { PolicyPage } from './policy-page';
import { PolicyVersionPage } from './policy-version-page';
import { RolloutPage } from './rollout-page';

/** The policy screens, under /policies (main.tsx mounts them at /policies/*). */
export function PolicyRoutes() {
  return (
    <Routes>
      <Route index element={<PoliciesPage />} />
      <Route path="new" element={<NewPolicyPage />} />
      <Route path="rollout" element={<RolloutPage />} />
      <Route path=":policyId" element={<PolicyPage />} />
      <Route path=":policyId/versions/new" element={<NewPolicyVersionPage />} />
      <Route path=":policyId/versions/:versionNumber" element={<PolicyVersionPage />} />
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}
