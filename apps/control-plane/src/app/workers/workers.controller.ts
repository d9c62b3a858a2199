import { Controller, Get, HttpCode, HttpStatus, Inject, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { AuditActor, LedgerCheckpoint, WorkerDetail, WorkerSummary } from '@airlock/data-access';
import { describeResultFields, isReportedMetadataLevel } from '@airlock/policy';
import { CurrentActor, CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { ErrorResponse } from '../common/error.response';
import { uuidParam } from '../common/request-validation';
import { CLOCK, type Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { layersForWorker, MODE_NAMES, SCOPE_NAMES, workerPools } from '../policies/policy-bundle.layers';
import {
  DEFAULT_WORKERS_LISTED,
  LedgerHeadResponse,
  ListWorkersQuery,
  MAX_LEDGER_CHECKPOINTS_LISTED,
  WorkerDetailResponse,
  WorkerLedgerHeadsResponse,
  WorkerResponse,
} from './worker.response';
import { isAcceptedVersionStatus, judgeWorkerVersion } from './worker-version';
import { WorkersService } from './workers.service';

const NOT_FOUND = { type: ErrorResponse, description: "No such worker in the caller's tenant (WORKER_NOT_FOUND)" };

@ApiTags('workers')
@ApiBearerAuth()
@ApiBadRequestResponse({ type: ErrorResponse, description: 'The request is malformed; the message names each field and what was expected' })
@Controller('workers')
export class WorkersController {
  constructor(
    private readonly workers: WorkersService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get()
  @RequireScope('fleet:read')
  @ApiOperation({ summary: "The tenant's workers", description: 'Connection, drain and revocation, version window, pools, load and policy of each, oldest enrollment first.' })
  @ApiOkResponse({ type: [WorkerResponse] })
  async list(@CurrentPrincipal() principal: Principal, @Query() query: ListWorkersQuery): Promise<WorkerResponse[]> {
    const workers = await this.workers.list(principal.tenantId, query.limit ?? DEFAULT_WORKERS_LISTED);
    return workers.map((worker) => this.toResponse(worker));
  }

  @Get(':id')
  @RequireScope('fleet:read')
  @ApiOperation({
    summary: 'A worker and its trust view',
    description:
      'What GET /workers shows, plus what the worker may send: the metadata level of its last result with every JobResult field and whether, ' +
      "and how, it is sent at that level; and the central policy revision it applied with that revision's layers.",
  })
  @ApiOkResponse({ type: WorkerDetailResponse })
  @ApiNotFoundResponse(NOT_FOUND)
  async get(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('id')) id: string): Promise<WorkerDetailResponse> {
    return this.toDetailResponse(await this.workers.get(principal.tenantId, id));
  }

  @Get(':id/ledger-heads')
  @RequireScope('fleet:read')
  @ApiOperation({
    summary: "What the control plane received of the worker's egress audit log",
    description:
      'The head (last line number and chain hash) of the log each heartbeat reported: the latest, and one every five minutes. Save the answer and run ' +
      '`airlock-worker audit verify --against <file>` on the worker: it proves the local log was neither cut back nor rewritten after each head was reported.',
  })
  @ApiOkResponse({ type: WorkerLedgerHeadsResponse })
  @ApiNotFoundResponse(NOT_FOUND)
  async ledgerHeads(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('id')) id: string): Promise<WorkerLedgerHeadsResponse> {
    const { latest, checkpoints } = await this.workers.ledgerHeads(principal.tenantId, id, MAX_LEDGER_CHECKPOINTS_LISTED);
    return { workerId: id, latest: latest && toLedgerHeadResponse(latest), checkpoints: checkpoints.map(toLedgerHeadResponse) };
  }

  @Post(':id/revoke')
  @RequireScope('fleet:write')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Revoke a worker, for good',
    description:
      'Its open stream ends at once (PERMISSION_DENIED, naming the revocation) and every later Hello is refused the same way, so the worker stops; ' +
      'the attempts it held go back to the queue at once and any result it still sends is refused. Nothing un-revokes: enroll the machine anew. ' +
      'Revoking again answers 200 and changes nothing. Audited as worker.revoked.',
  })
  @ApiOkResponse({ type: WorkerDetailResponse, description: 'The worker, now revoked' })
  @ApiForbiddenResponse({ type: ErrorResponse, description: 'Needs the fleet:write scope (FORBIDDEN)' })
  @ApiNotFoundResponse(NOT_FOUND)
  async revoke(@CurrentPrincipal() principal: Principal, @CurrentActor() actor: AuditActor, @Param('id', uuidParam('id')) id: string): Promise<WorkerDetailResponse> {
    return this.toDetailResponse(await this.workers.revoke(principal.tenantId, actor, id));
  }

  @Post(':id/drain')
  @RequireScope('fleet:write')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Drain a worker',
    description:
      'It keeps running what it holds and is given nothing new, across reconnects and restarts, until undrained. Draining a draining worker ' +
      'changes nothing. Audited as worker.drained.',
  })
  @ApiOkResponse({ type: WorkerDetailResponse, description: 'The worker, now draining' })
  @ApiForbiddenResponse({ type: ErrorResponse, description: 'Needs the fleet:write scope (FORBIDDEN)' })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse({ type: ErrorResponse, description: 'The worker is revoked (WORKER_REVOKED)' })
  async drain(@CurrentPrincipal() principal: Principal, @CurrentActor() actor: AuditActor, @Param('id', uuidParam('id')) id: string): Promise<WorkerDetailResponse> {
    return this.toDetailResponse(await this.workers.drain(principal.tenantId, actor, id));
  }

  @Post(':id/undrain')
  @RequireScope('fleet:write')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'End the drain of a worker',
    description: 'It is given work again. Undraining a worker that is not draining changes nothing. Audited as worker.undrained.',
  })
  @ApiOkResponse({ type: WorkerDetailResponse, description: 'The worker, no longer draining' })
  @ApiForbiddenResponse({ type: ErrorResponse, description: 'Needs the fleet:write scope (FORBIDDEN)' })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse({ type: ErrorResponse, description: 'The worker is revoked (WORKER_REVOKED)' })
  async undrain(@CurrentPrincipal() principal: Principal, @CurrentActor() actor: AuditActor, @Param('id', uuidParam('id')) id: string): Promise<WorkerDetailResponse> {
    return this.toDetailResponse(await this.workers.undrain(principal.tenantId, actor, id));
  }

  private toResponse(worker: WorkerSummary): WorkerResponse {
    const version = judgeWorkerVersion(worker.version, this.config.workerVersions, this.clock.now());
    return {
      id: worker.id,
      name: worker.name,
      status: worker.status,
      draining: worker.drainingAt !== null,
      drainingAt: worker.drainingAt,
      revoked: worker.revokedAt !== null,
      revokedAt: worker.revokedAt,
      version: worker.version,
      versionSupported: isAcceptedVersionStatus(version.status),
      versionStatus: version.status,
      endOfSupport: version.status === 'DEPRECATED' ? version.endOfSupport : null,
      labels: [...worker.labels],
      pool: worker.pool,
      capacity: worker.capacity,
      activeAttempts: worker.activeAttempts,
      lastSeenAt: worker.lastSeenAt,
      enrolledAt: worker.enrolledAt,
      localPolicyDigest: worker.localPolicyDigest,
      policyRevision: worker.policyRevision,
      policyAppliedAt: worker.policyAppliedAt,
      narrowedRules: [...worker.narrowedRules],
      implausibleResults: worker.implausibleResults,
      lastImplausibleAt: worker.lastImplausibleAt,
    };
  }

  private toDetailResponse(worker: WorkerDetail): WorkerDetailResponse {
    const level = isReportedMetadataLevel(worker.lastResultMetadataLevel) ? worker.lastResultMetadataLevel : null;
    return {
      ...this.toResponse(worker),
      metadataLevel: level,
      allowedFields: level === null ? [] : describeResultFields(level),
      policy: {
        revision: worker.policyRevision,
        appliedAt: worker.policyAppliedAt,
        layers: layersForWorker(worker.appliedRevisionLayers, workerPools(worker)).map((layer) => ({
          scope: SCOPE_NAMES[layer.scope],
          key: layer.scope === 'TENANT' ? null : layer.key,
          mode: MODE_NAMES[layer.mode],
          policyId: layer.policyId,
          policyName: layer.policyName,
          version: layer.version,
        })),
      },
    };
  }
}

function toLedgerHeadResponse(checkpoint: LedgerCheckpoint): LedgerHeadResponse {
  return { seq: checkpoint.seq, head: checkpoint.head.toString('hex'), receivedAt: checkpoint.receivedAt.toISOString() };
}
