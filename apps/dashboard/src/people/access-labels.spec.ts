import { inScopeOrder, isRole } from './access-labels';

describe('access labels', () => {
  it('orders scopes as docs/access.md lists them', () => {
    expect(inScopeOrder(['people:read', 'jobs:write', 'jobs:read', 'fleet:read'])).toEqual(['jobs:read', 'jobs:write', 'fleet:read', 'people:read']);
  });

  it('knows the three roles and nothing else', () => {
    expect(['VIEWER', 'MANAGER', 'ADMIN'].every(isRole)).toBe(true);
    expect(isRole('OWNER')).toBe(false);
  });
});
