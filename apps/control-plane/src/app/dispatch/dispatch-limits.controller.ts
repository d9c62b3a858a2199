import { Body, Controller, Get, Inject, Logger, Put } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataAccess, type AuditActor, type DispatchLimits } from '@airlock/data-access';
import { CurrentActor, CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { CLOCK, type Clock } from '../common/clock';
import { ErrorResponse } from '../common/error.response';
import { DispatchLimitsDto } from './dto/dispatch-limits.dto';
import { JOB_DISPATCHER, type JobDispatcher } from './job-dispatcher';

@ApiTags('dispatch')
@ApiBearerAuth()
@ApiBadRequestResponse({ type: ErrorResponse, description: 'The request is malformed; the message names each field and what was expected' })
@ApiForbiddenResponse({ type: ErrorResponse, description: 'Reading needs fleet:read, changing the limits fleet:write (FORBIDDEN)' })
@Controller('dispatch-limits')
export class DispatchLimitsController {
  private readonly logger = new Logger(DispatchLimitsController.name);

  constructor(
    private readonly data: DataAccess,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(JOB_DISPATCHER) private readonly dispatcher: JobDispatcher,
  ) {}

  @Get()
  @RequireScope('fleet:read')
  @ApiOperation({ summary: "The tenant's running-jobs limits", description: 'The most jobs dispatched or running at once: of the tenant, and of each pool that has a limit of its own.' })
  @ApiOkResponse({ type: DispatchLimitsDto })
  get(@CurrentPrincipal() principal: Principal): Promise<DispatchLimits> {
    return this.data.jobs.dispatchLimits(principal.tenantId);
  }

  @Put()
  @RequireScope('fleet:write')
  @ApiOperation({
    summary: "Replace the tenant's running-jobs limits",
    description:
      'Every field is required. A queued job is dispatched only while the tenant, and the pool it is targeted at, are below their limits; ' +
      'jobs already running keep running when a limit is lowered. Audited as dispatch.limits-changed.',
  })
  @ApiOkResponse({ type: DispatchLimitsDto })
  async put(@CurrentPrincipal() principal: Principal, @CurrentActor() actor: AuditActor, @Body() body: DispatchLimitsDto): Promise<DispatchLimits> {
    const limits = await this.data.jobs.setDispatchLimits(principal.tenantId, { maxRunningJobs: body.maxRunningJobs, pools: body.pools }, actor, this.clock.now());
    this.logger.log({ event: 'dispatch_limits_changed', tenantId: principal.tenantId, actorKind: actor.kind, actorId: actor.id, maxRunningJobs: limits.maxRunningJobs, poolLimits: limits.pools.length });
    // A raised limit makes room at once.
    this.dispatcher.capacityAvailable();
    return limits;
  }
}
