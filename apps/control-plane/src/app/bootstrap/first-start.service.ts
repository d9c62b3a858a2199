import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataAccess } from '@airlock/data-access';
import { SCOPES } from '../auth/access';
import { API_TOKEN_PREFIX, generateSecretToken, hashSecretToken } from '../auth/secret-token';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { DEFAULT_TENANT_NAME } from './default-tenant';

/** What start-up established. */
export interface StartupState {
  readonly defaultTenantId: string;
  /** Set only when this start made the bootstrap admin token (it is then in `bootstrapTokenFile`). */
  readonly bootstrapToken: string | null;
}

/** Raised when the bootstrap admin token cannot be written: the start stops, and no token is made. */
export class BootstrapTokenFileError extends Error {
  override readonly name = 'BootstrapTokenFileError';
}

/**
 * Creates the default tenant and, while it has no API token at all, the bootstrap admin
 * token. The token goes to one place only, `bootstrapTokenFile` (mode 0600, its folder
 * 0700 when created), never to stdout or a log: whatever collects a process's output
 * (a journal, a container log, the demo's log files) would keep an admin credential. It is
 * written before its hash is stored, so a start that cannot write it makes no token, and the
 * next start tries again. Whoever holds it makes the first admin with POST
 * /api/v1/auth/bootstrap (docs/access.md).
 */
@Injectable()
export class FirstStartService {
  private readonly logger = new Logger(FirstStartService.name);
  private defaultTenant: string | null = null;

  constructor(
    private readonly data: DataAccess,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The default tenant's id, known once `ensureDefaults` ran (before the control plane serves). */
  defaultTenantId(): string {
    if (this.defaultTenant === null) throw new Error('FirstStartService.defaultTenantId read before ensureDefaults');
    return this.defaultTenant;
  }

  async ensureDefaults(): Promise<StartupState> {
    const { tenant } = await this.data.tenants.ensure(DEFAULT_TENANT_NAME);
    this.defaultTenant = tenant.id;
    if (await this.data.apiTokens.anyForTenant(tenant.id)) return { defaultTenantId: tenant.id, bootstrapToken: null };
    const token = generateSecretToken(API_TOKEN_PREFIX);
    const file = this.config.bootstrapTokenFile;
    try {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      await writeFile(file, `${token}\n`, { mode: 0o600 });
      // The mode above applies only to a new file; one left by an earlier install keeps its own.
      await chmod(file, 0o600);
    } catch (error) {
      throw new BootstrapTokenFileError(`cannot write the bootstrap admin token to ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).name}); set AIRLOCK_BOOTSTRAP_TOKEN_FILE to a writable path`);
    }
    await this.data.apiTokens.create({ tenantId: tenant.id, name: 'bootstrap admin', scopes: SCOPES, tokenHash: hashSecretToken(token) });
    this.logger.log({ event: 'bootstrap_token_created', tenantId: tenant.id, tokenFile: file });
    return { defaultTenantId: tenant.id, bootstrapToken: token };
  }
}
