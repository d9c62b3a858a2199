import { DomainError } from '../common/domain.error';

/** Signing keys sign for every tenant's workers: only the tenant that operates the control plane may change them. */
export class NotPlatformTenantError extends DomainError {
  override readonly name = 'NotPlatformTenantError';
  readonly code = 'PLATFORM_TENANT_ONLY';

  constructor(action: string) {
    super(`${action} changes what every tenant's workers trust: only the tenant that operates this control plane (AIRLOCK_PLATFORM_TENANT) may do it`);
  }
}
