import type { Schemas } from '../api/client';
import type { Scope } from '../auth/session';

export type Role = Schemas['Role'];

/** The roles, least to most: the order a select offers them in. */
export const ROLES: readonly Role[] = ['VIEWER', 'MANAGER', 'ADMIN'];

export const ROLE_LABEL: Readonly<Record<Role, string>> = { VIEWER: 'Viewer', MANAGER: 'Manager', ADMIN: 'Admin' };

/**
 * What each role's scopes let a person do, in one line (docs/access.md holds the table). A
 * Record over the API's Role type: a new role fails the type check until it is described here.
 */
export const ROLE_DESCRIPTION: Readonly<Record<Role, string>> = {
  VIEWER: 'sees jobs, analytics, the fleet and policies; changes nothing.',
  MANAGER: 'what a viewer sees, and hands over, cancels and retries jobs and sets the analytics assumptions.',
  ADMIN: 'everything: also governs the fleet, policies, people and API tokens, and reads the audit log.',
};

/** Every scope, in the order docs/access.md lists them, with what it lets its holder do. */
export const SCOPE_DESCRIPTION: Readonly<Record<Scope, string>> = {
  'jobs:read': 'see jobs, their events and results; follow live events',
  'jobs:write': 'hand a ticket over, cancel or retry a job',
  'analytics:read': 'see the analytics',
  'analytics:write': 'set the analytics assumptions (prices, hours saved)',
  'fleet:read': 'see workers, enrollment tokens, signing keys',
  'fleet:write': 'enroll, drain and revoke workers; rotate the instruction-signing key',
  'policy:read': 'see policies, what is in force, rollout, decisions',
  'policy:write': 'write, publish and withdraw policies',
  'audit:read': 'read and verify the admin audit log',
  'people:read': 'see people and API tokens',
  'people:write': 'add people, change their role, disable them; create and revoke API tokens',
};

const SCOPE_ORDER = Object.keys(SCOPE_DESCRIPTION);

/** `scopes` in the documented order (a session lists them in whatever order the server keeps). */
export function inScopeOrder(scopes: readonly Scope[]): Scope[] {
  return [...scopes].sort((a, b) => SCOPE_ORDER.indexOf(a) - SCOPE_ORDER.indexOf(b));
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
