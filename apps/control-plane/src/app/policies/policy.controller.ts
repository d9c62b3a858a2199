import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { AuditActor } from '@airlock/data-access';
import { CurrentActor, CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { ErrorResponse } from '../common/error.response';
import { positiveIntParam } from '../common/request-validation';
import { PolicyDecisionsQuery, RolloutQuery } from './dto/policy-queries';
import {
  CurrentPolicyResponse,
  PolicyDecisionResponse,
  RevisionHistoryResponse,
  RolloutResponse,
  WithdrawResponse,
} from './dto/policy.response';
import { PolicySlotDto } from './dto/publish-policy.dto';
import { workerPools } from './policy-bundle.layers';
import { toLayerRefResponse, toLayerResponse } from './policy.responses';
import { PoliciesService } from './policies.service';

const DEFAULT_DECISIONS_PAGE = 50;

/** The tenant's policy as a whole: what is in force, its revisions, the workers' rollout, the decisions of jobs. */
@ApiTags('policy')
@ApiBearerAuth()
@ApiBadRequestResponse({ type: ErrorResponse, description: 'The request is malformed; the message names each field' })
@Controller('policy')
export class PolicyController {
  constructor(private readonly policies: PoliciesService) {}

  @Get()
  @RequireScope('policy:read')
  @ApiOperation({ summary: 'The current revision and the layers in force', description: 'Any role.' })
  @ApiOkResponse({ type: CurrentPolicyResponse })
  async current(@CurrentPrincipal() principal: Principal): Promise<CurrentPolicyResponse> {
    const current = await this.policies.current(principal.tenantId);
    return { revision: current.revision, layers: current.layers.map(toLayerResponse) };
  }

  @Post('withdraw')
  @RequireScope('policy:write')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Withdraw a layer',
    description:
      "Takes the layer at a scope, key and mode out of force as the tenant's next revision and sends the new bundle to the connected workers. " +
      'Audited as policy.withdrawn.',
  })
  @ApiOkResponse({ type: WithdrawResponse })
  @ApiForbiddenResponse({ type: ErrorResponse, description: 'Needs the policy:write scope (FORBIDDEN)' })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'Nothing is published there (POLICY_LAYER_NOT_FOUND)' })
  async withdraw(@CurrentPrincipal() principal: Principal, @CurrentActor() actor: AuditActor, @Body() body: PolicySlotDto): Promise<WithdrawResponse> {
    const outcome = await this.policies.withdraw(principal.tenantId, actor, body);
    return { revision: outcome.revision, sentToConnectedWorkers: outcome.sentToConnectedWorkers, withdrawn: toLayerRefResponse(outcome.withdrawn) };
  }

  @Get('revisions/:revision')
  @RequireScope('policy:read')
  @ApiOperation({ summary: 'What one revision changed, and every layer in force after it', description: 'Any role.' })
  @ApiOkResponse({ type: RevisionHistoryResponse })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'The policy never reached that revision (POLICY_REVISION_NOT_FOUND)' })
  async revision(@CurrentPrincipal() principal: Principal, @Param('revision', positiveIntParam('revision')) revision: number): Promise<RevisionHistoryResponse> {
    const found = await this.policies.revision(principal.tenantId, revision);
    return {
      revision: found.revision,
      change: found.change === 'PUBLISHED' ? 'published' : 'withdrawn',
      layer: toLayerRefResponse(found),
      layers: found.layers.map(toLayerRefResponse),
      actorId: found.actorId,
      actorName: found.actorName,
      at: found.at,
    };
  }

  @Get('rollout')
  @RequireScope('policy:read')
  @ApiOperation({
    summary: 'Which workers run a revision',
    description:
      'Every worker of the tenant with the revision in force on it, whether that is at least the revision asked about (the current one by ' +
      'default), the rules its local policy keeps stricter, and the last bundle it refused. Any role.',
  })
  @ApiOkResponse({ type: RolloutResponse })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'The policy has not reached that revision (POLICY_REVISION_NOT_FOUND)' })
  async rollout(@CurrentPrincipal() principal: Principal, @Query() query: RolloutQuery): Promise<RolloutResponse> {
    const rollout = await this.policies.rollout(principal.tenantId, query.revision);
    return {
      revision: rollout.revision,
      workers: rollout.workers.map((worker) => ({
        workerId: worker.id,
        name: worker.name,
        status: worker.status,
        labels: workerPools(worker),
        appliedRevision: worker.appliedRevision,
        appliedAt: worker.appliedAt,
        upToDate: worker.upToDate,
        narrowedRules: [...worker.narrowedRules],
        lastRefusal: worker.lastRefusal,
      })),
    };
  }

  @Get('decisions')
  @RequireScope('policy:read')
  @ApiOperation({
    summary: 'Policy decisions on jobs',
    description: 'The rules that fired on jobs, as workers reported them (rule, level, outcome, revision — never the input that fired them), newest first. Any role.',
  })
  @ApiOkResponse({ type: [PolicyDecisionResponse] })
  async decisions(@CurrentPrincipal() principal: Principal, @Query() query: PolicyDecisionsQuery): Promise<PolicyDecisionResponse[]> {
    const decisions = await this.policies.decisions(principal.tenantId, {
      limit: query.limit ?? DEFAULT_DECISIONS_PAGE,
      ...(query.jobId ? { jobId: query.jobId } : {}),
      ...(query.rule ? { rule: query.rule } : {}),
    });
    return decisions.map((decision) => ({ ...decision }));
  }
}
