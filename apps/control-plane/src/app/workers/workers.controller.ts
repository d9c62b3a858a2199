import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { DataAccess } from '@airlock/data-access';
import { CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';

export class WorkerResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['ONLINE', 'OFFLINE'] }) status!: string;
  @ApiProperty() version!: string;
  @ApiProperty() capacity!: number;
  @ApiPropertyOptional({ nullable: true, type: Date }) lastSeenAt!: Date | null;
  @ApiProperty() enrolledAt!: Date;
  @ApiProperty({ description: 'Results it reported whose figures cannot be true (recorded, flagged on the job, left out of analytics)' }) implausibleResults!: number;
  @ApiPropertyOptional({ nullable: true, type: Date, description: 'When the last such result came' }) lastImplausibleAt!: Date | null;
}

@ApiTags('workers')
@ApiBearerAuth()
@Controller('workers')
export class WorkersController {
  constructor(private readonly data: DataAccess) {}

  /** The tenant's enrolled workers and whether their stream is open. */
  @Get()
  @RequireScope('fleet:read')
  @ApiOkResponse({ type: [WorkerResponse] })
  async list(@CurrentPrincipal() principal: Principal): Promise<WorkerResponse[]> {
    const workers = await this.data.workers.listForTenant(principal.tenantId);
    return workers.map(({ id, status, version, capacity, lastSeenAt, enrolledAt, implausibleResults, lastImplausibleAt }) => ({
      id,
      status,
      version,
      capacity,
      lastSeenAt,
      enrolledAt,
      implausibleResults,
      lastImplausibleAt,
    }));
  }
}
