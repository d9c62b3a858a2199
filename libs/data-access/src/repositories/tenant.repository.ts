import { randomUUID } from 'node:crypto';
import type { DatabaseClient } from '../database-client';

/** A tenant: every tenant-owned row points at one. */
export interface TenantRecord {
  readonly id: string;
  readonly name: string;
}

/** Tenants. Created by the control plane itself (default tenant) or by tests for now. */
export class TenantRepository {
  constructor(private readonly db: DatabaseClient) {}

  /**
   * Creates the tenant if no tenant of that name exists. `created` is true for exactly one
   * caller even when several replicas race, so it can gate first-start work.
   */
  async ensure(name: string): Promise<{ tenant: TenantRecord; created: boolean }> {
    const inserted = await this.db.tenant.createMany({ data: [{ id: randomUUID(), name }], skipDuplicates: true });
    const tenant = await this.db.tenant.findUniqueOrThrow({ where: { name }, select: { id: true, name: true } });
    return { tenant, created: inserted.count === 1 };
  }

  /** The tenant of that name, or null. */
  async findByName(name: string): Promise<TenantRecord | null> {
    return this.db.tenant.findUnique({ where: { name }, select: { id: true, name: true } });
  }

  async create(name: string): Promise<TenantRecord> {
    return this.db.tenant.create({ data: { name }, select: { id: true, name: true } });
  }
}
