import type { Role } from '@airlock/data-access';

/**
 * What a principal may do, one scope per kind of action. Every route but the public and the
 * self-service ones (@Public, @Authenticated) declares exactly one (@RequireScope); a session
 * holds its user's role's scopes, an API token the scopes it was created with, never more
 * than its creator held. docs/access.md shows the table.
 */
export const SCOPES = [
  'jobs:read',
  'jobs:write',
  'analytics:read',
  'analytics:write',
  'fleet:read',
  'fleet:write',
  'policy:read',
  'policy:write',
  'audit:read',
  'people:read',
  'people:write',
] as const;
export type Scope = (typeof SCOPES)[number];

export const ROLES = ['ADMIN', 'MANAGER', 'VIEWER'] as const satisfies readonly Role[];

const VIEWER_SCOPES = ['jobs:read', 'analytics:read', 'fleet:read', 'policy:read'] as const satisfies readonly Scope[];

/**
 * The scopes of each role. A viewer reads jobs, analytics, the fleet and policies; a manager
 * also hands over and cancels jobs and sets the analytics assumptions (prices, hours saved);
 * an admin does everything, including the fleet, policies, people and the audit log.
 * The people-and-fleet migration holds the same table for tokens that had a role.
 */
export const ROLE_SCOPES: Readonly<Record<Role, readonly Scope[]>> = {
  VIEWER: VIEWER_SCOPES,
  MANAGER: [...VIEWER_SCOPES, 'jobs:write', 'analytics:write'],
  ADMIN: SCOPES,
};

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}
