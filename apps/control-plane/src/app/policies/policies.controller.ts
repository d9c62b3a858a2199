import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { AuditActor, PolicyDetail, PolicySummary, PolicyVersionDetail } from '@airlock/data-access';
import { CurrentActor, CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { ErrorResponse } from '../common/error.response';
import { positiveIntParam, uuidParam } from '../common/request-validation';
import { CreatePolicyDto, CreatePolicyVersionDto } from './dto/create-policy.dto';
import { PolicyDiffQuery } from './dto/policy-queries';
import {
  PolicyDetailResponse,
  PolicyDiffResponse,
  PolicySummaryResponse,
  PolicyVersionResponse,
  PublishResponse,
} from './dto/policy.response';
import { PolicySlotDto } from './dto/publish-policy.dto';
import { toLayerResponse } from './policy.responses';
import { PoliciesService } from './policies.service';

@ApiTags('policy')
@ApiBearerAuth()
@ApiBadRequestResponse({ type: ErrorResponse, description: 'The request is malformed; the message names each field (document errors by their path, e.g. document.rules.max-files-changed.max)' })
@ApiForbiddenResponse({ type: ErrorResponse, description: 'Writes need an ADMIN token (FORBIDDEN)' })
@Controller('policies')
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  @Post()
  @RequireScope('policy:write')
  @ApiOperation({ summary: 'Create a policy', description: 'Creates the policy and its version 1 from a validated document. Audited as policy.created.' })
  @ApiCreatedResponse({ type: PolicyDetailResponse })
  @ApiConflictResponse({ type: ErrorResponse, description: 'Another policy of the tenant has that name (POLICY_NAME_TAKEN)' })
  async create(@CurrentPrincipal() principal: Principal, @CurrentActor() actor: AuditActor, @Body() body: CreatePolicyDto): Promise<PolicyDetailResponse> {
    return toDetailResponse(await this.policies.create(principal.tenantId, actor, body.name, body.document));
  }

  @Get()
  @RequireScope('policy:read')
  @ApiOperation({ summary: "The tenant's policies", description: 'Any role.' })
  @ApiOkResponse({ type: [PolicySummaryResponse] })
  async list(@CurrentPrincipal() principal: Principal): Promise<PolicySummaryResponse[]> {
    return (await this.policies.list(principal.tenantId)).map(toSummaryResponse);
  }

  @Get(':id')
  @RequireScope('policy:read')
  @ApiOperation({ summary: 'A policy with the list of its versions', description: 'Any role.' })
  @ApiOkResponse({ type: PolicyDetailResponse })
  @ApiNotFoundResponse({ type: ErrorResponse, description: "No such policy in the caller's tenant (POLICY_NOT_FOUND)" })
  async get(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('id')) id: string): Promise<PolicyDetailResponse> {
    return toDetailResponse(await this.policies.get(principal.tenantId, id));
  }

  @Post(':id/versions')
  @RequireScope('policy:write')
  @ApiOperation({
    summary: 'Add a version',
    description: 'Versions are numbered 1, 2, 3 … and never change once written; there is no route to edit one. Audited as policy.version.created.',
  })
  @ApiCreatedResponse({ type: PolicyVersionResponse })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'POLICY_NOT_FOUND' })
  async addVersion(
    @CurrentPrincipal() principal: Principal,
    @CurrentActor() actor: AuditActor,
    @Param('id', uuidParam('id')) id: string,
    @Body() body: CreatePolicyVersionDto,
  ): Promise<PolicyVersionResponse> {
    return toVersionResponse(await this.policies.addVersion(principal.tenantId, actor, id, body.document, body.comment));
  }

  @Get(':id/versions/:number')
  @RequireScope('policy:read')
  @ApiOperation({ summary: 'One version with its document', description: 'Any role.' })
  @ApiOkResponse({ type: PolicyVersionResponse })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'POLICY_NOT_FOUND or POLICY_VERSION_NOT_FOUND' })
  async getVersion(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuidParam('id')) id: string,
    @Param('number', positiveIntParam('number')) number: number,
  ): Promise<PolicyVersionResponse> {
    return toVersionResponse(await this.policies.getVersion(principal.tenantId, id, number));
  }

  @Get(':id/diff')
  @RequireScope('policy:read')
  @ApiOperation({
    summary: 'What changed between two versions',
    description: 'Field by field, in path order: added, removed or changed, with the values before and after. Any two versions, in either order. Any role.',
  })
  @ApiOkResponse({ type: PolicyDiffResponse })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'POLICY_NOT_FOUND or POLICY_VERSION_NOT_FOUND' })
  async diff(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('id')) id: string, @Query() query: PolicyDiffQuery): Promise<PolicyDiffResponse> {
    const changes = await this.policies.diff(principal.tenantId, id, query.from, query.to);
    return { policyId: id, from: query.from, to: query.to, changes };
  }

  @Post(':id/versions/:number/publish')
  @RequireScope('policy:write')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Publish a version',
    description:
      'Puts the version in force at a scope (the tenant, a pool of workers by label, a repository by alias) in enforce or shadow mode, replacing ' +
      "what was there, as the tenant's next revision. The signed bundle of that revision is sent at once to the tenant's workers connected to " +
      'this control-plane process; the others get it when they connect. Audited as policy.published.',
  })
  @ApiOkResponse({ type: PublishResponse })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'POLICY_NOT_FOUND or POLICY_VERSION_NOT_FOUND' })
  @ApiUnprocessableEntityResponse({
    type: ErrorResponse,
    description: 'The largest bundle a worker could then receive would not fit on the wire (POLICY_BUNDLE_TOO_LARGE); nothing was published',
  })
  async publish(
    @CurrentPrincipal() principal: Principal,
    @CurrentActor() actor: AuditActor,
    @Param('id', uuidParam('id')) id: string,
    @Param('number', positiveIntParam('number')) number: number,
    @Body() body: PolicySlotDto,
  ): Promise<PublishResponse> {
    const outcome = await this.policies.publish(principal.tenantId, actor, id, number, body);
    return { revision: outcome.revision, sentToConnectedWorkers: outcome.sentToConnectedWorkers, layer: toLayerResponse(outcome.layer) };
  }
}

function toSummaryResponse(policy: PolicySummary): PolicySummaryResponse {
  return { id: policy.id, name: policy.name, createdAt: policy.createdAt, latestVersion: policy.latestVersion };
}

function toDetailResponse(policy: PolicyDetail): PolicyDetailResponse {
  return { ...toSummaryResponse(policy), versions: policy.versions.map((version) => ({ ...version })) };
}

function toVersionResponse(version: PolicyVersionDetail): PolicyVersionResponse {
  return {
    policyId: version.policyId,
    number: version.number,
    comment: version.comment,
    authorId: version.authorId,
    authorName: version.authorName,
    createdAt: version.createdAt,
    document: version.document,
  };
}
