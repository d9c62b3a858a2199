import { Body, Controller, Get, HttpStatus, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { ErrorResponse } from '../common/error.response';
import { uuidParam } from '../common/request-validation';
import { CreateJobDto, storedJobKind } from './dto/create-job.dto';
import { JobDetailResponse, JobResponse, toJobDetailResponse, toJobResponse } from './dto/job.response';
import { parseIsoTimestamp } from './dto/iso-timestamp';
import { DEFAULT_PAGE_SIZE, ListJobsQuery } from './dto/list-jobs.query';
import { RetryJobDto } from './dto/retry-job.dto';
import { decodeJobListCursor, encodeJobListCursor } from './job-list-cursor';
import { JobsService } from './jobs.service';

/** The response header that carries the cursor of the next page of GET /jobs. */
export const NEXT_CURSOR_HEADER = 'X-Next-Cursor';

/** The slice of the platform response the cancel route uses to pick 200 or 202. */
interface StatusResponse {
  status(code: number): unknown;
}

/** The slice of the platform response the list route uses to name the next page. */
interface HeaderResponse {
  setHeader(name: string, value: string): unknown;
}

@ApiTags('jobs')
@ApiBearerAuth()
@ApiBadRequestResponse({ type: ErrorResponse, description: 'The request is malformed; the message names each field and what was expected' })
@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  /** Queues a job; it is dispatched when a worker of the tenant has a free slot. */
  @Post()
  @RequireScope('jobs:write')
  @ApiCreatedResponse({ type: JobResponse })
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreateJobDto): Promise<JobResponse> {
    return toJobResponse(await this.jobs.create(principal.tenantId, body));
  }

  @Get()
  @RequireScope('jobs:read')
  @ApiOperation({
    summary: 'List jobs, newest first',
    description:
      'Filters combine (all must match). A page holds at most `limit` jobs; when more match, the X-Next-Cursor response header holds the cursor ' +
      'to pass as `before` (with the same filters) for the next page, and is absent on the last page. Paging neither skips nor repeats a job.',
  })
  @ApiOkResponse({
    type: [JobResponse],
    headers: {
      [NEXT_CURSOR_HEADER]: {
        description: 'Present when more jobs match: pass it as `before` for the next page. Opaque; absent on the last page.',
        schema: { type: 'string' },
        required: false,
      },
    },
  })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListJobsQuery,
    @Res({ passthrough: true }) response: HeaderResponse,
  ): Promise<JobResponse[]> {
    // The query DTO has validated each of these, so none fails to parse here.
    const createdFrom = query.createdFrom === undefined ? null : parseIsoTimestamp(query.createdFrom);
    const createdTo = query.createdTo === undefined ? null : parseIsoTimestamp(query.createdTo);
    const olderThan = query.before === undefined ? null : decodeJobListCursor(query.before);
    const page = await this.jobs.list(principal.tenantId, {
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      ...(query.status ? { status: query.status } : {}),
      ...(query.kind ? { kind: storedJobKind(query.kind) } : {}),
      ...(query.repoAlias !== undefined ? { repoAlias: query.repoAlias } : {}),
      ...(createdFrom ? { createdFrom } : {}),
      ...(createdTo ? { createdTo } : {}),
      ...(olderThan ? { olderThan } : {}),
    });
    if (page.next) response.setHeader(NEXT_CURSOR_HEADER, encodeJobListCursor(page.next));
    return page.jobs.map(toJobResponse);
  }

  /** A job with its attempts, events and metadata-only result. */
  @Get(':id')
  @RequireScope('jobs:read')
  @ApiOkResponse({ type: JobDetailResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  async get(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('id')) id: string): Promise<JobDetailResponse> {
    return toJobDetailResponse(await this.jobs.get(principal.tenantId, id));
  }

  /** Cancels a job: a queued one at once, a dispatched or running one once its worker stops. */
  @Post(':id/cancel')
  @RequireScope('jobs:write')
  @ApiOperation({
    summary: 'Cancel a job',
    description:
      'A QUEUED job ends CANCELLED at once (200). For a DISPATCHED or RUNNING job the cancel is recorded (cancelRequestedAt) and the worker ' +
      'holding the current attempt is told to stop (202); the job ends CANCELLED when the worker reports so, or when the attempt\'s lease ' +
      'expires. A worker that finished first keeps its real outcome. Repeating the request answers 202 again.',
  })
  @ApiOkResponse({ type: JobResponse, description: 'The job was queued and is now CANCELLED' })
  @ApiAcceptedResponse({ type: JobResponse, description: 'The cancel is recorded; the job ends when its worker stops or its lease expires' })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'No such job in the caller\'s tenant' })
  @ApiConflictResponse({ type: ErrorResponse, description: 'The job already finished (JOB_ALREADY_FINISHED); the message names its status' })
  async cancel(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuidParam('id')) id: string,
    @Res({ passthrough: true }) response: StatusResponse,
  ): Promise<JobResponse> {
    const outcome = await this.jobs.cancel(principal.tenantId, id);
    response.status(outcome.kind === 'CANCELLED' ? HttpStatus.OK : HttpStatus.ACCEPTED);
    return toJobResponse(outcome.job);
  }

  @Post(':id/retry')
  @RequireScope('jobs:write')
  @ApiOperation({
    summary: 'Re-run a finished job',
    description:
      'Queues a new job with the same task and maxAttempts as a SUCCEEDED, FAILED or CANCELLED job; its retryOfJobId names the original, which stays as it ended. ' +
      "The re-run delivers to the branch and merge request of its chain's first job, so it updates that request rather than opening a second one, and the worker never lets an older attempt overwrite a newer one there. " +
      'A review or index job delivers nothing: its re-run reviews the same merge request, or indexes the same ref, again. ' +
      'A job that named its ticket by reference lost the reference when it ended: the body names it again as ticketRef (400 without it; 400 with it for a typed ticket or a job without one). ' +
      'Each request creates another job.',
  })
  @ApiBody({ type: RetryJobDto, required: false })
  @ApiCreatedResponse({ type: JobResponse, description: 'The new, QUEUED job' })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'No such job in the caller\'s tenant' })
  @ApiConflictResponse({ type: ErrorResponse, description: 'The job has not finished, or its chain holds the most re-runs one chain may have (JOB_NOT_RETRYABLE); the message says which' })
  async retry(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('id')) id: string, @Body() body: RetryJobDto): Promise<JobResponse> {
    // A request without a body is validated, and arrives here, as an empty one.
    return toJobResponse(await this.jobs.retry(principal.tenantId, id, body));
  }
}
