import { writeFile } from 'node:fs/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataAccess } from '@airlock/data-access';
import { API_TOKEN_PREFIX, generateSecretToken, hashSecretToken } from '../auth/secret-token';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

/** The tenant a single-organisation installation runs as. */
export const DEFAULT_TENANT_NAME = 'default';

/** What start-up established. */
export interface StartupState {
  readonly defaultTenantId: string;
  /** Set only on the very first start: the admin token, shown exactly once. */
  readonly bootstrapToken: string | null;
}

/** Creates the default tenant and, on the first start only, the bootstrap admin token. */
@Injectable()
export class FirstStartService {
  private readonly logger = new Logger(FirstStartService.name);

  constructor(
    private readonly data: DataAccess,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async ensureDefaults(): Promise<StartupState> {
    const { tenant, created } = await this.data.tenants.ensure(DEFAULT_TENANT_NAME);
    if (!created) return { defaultTenantId: tenant.id, bootstrapToken: null };
    const token = generateSecretToken(API_TOKEN_PREFIX);
    await this.data.apiTokens.create({ tenantId: tenant.id, name: 'bootstrap admin', role: 'ADMIN', tokenHash: hashSecretToken(token) });
    if (this.config.bootstrapTokenFile) {
      await writeFile(this.config.bootstrapTokenFile, `${token}\n`, { mode: 0o600 });
    }
    this.logger.log({ event: 'bootstrap_token_created', tenantId: tenant.id, tokenFile: this.config.bootstrapTokenFile ?? null });
    return { defaultTenantId: tenant.id, bootstrapToken: token };
  }
}
