import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { ApiTokenPrincipal } from '@airlock/data-access';
import { CurrentPrincipal } from '../auth/principal';
import { ErrorResponse } from '../common/error.response';
import { uuidParam } from '../common/request-validation';
import { CreateJobDto } from './dto/create-job.dto';
import { JobDetailResponse, JobResponse, toJobDetailResponse, toJobResponse } from './dto/job.response';
import { ListJobsQuery } from './dto/list-jobs.query';
import { JobsService } from './jobs.service';

const DEFAULT_PAGE_SIZE = 50;

@ApiTags('jobs')
@ApiBearerAuth()
@ApiBadRequestResponse({ type: ErrorResponse, description: 'The request is malformed; the message names each field and what was expected' })
@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  /** Queues a job; it is dispatched when a worker of the tenant has a free slot. */
  @Post()
  @ApiCreatedResponse({ type: JobResponse })
  async create(@CurrentPrincipal() principal: ApiTokenPrincipal, @Body() body: CreateJobDto): Promise<JobResponse> {
    return toJobResponse(await this.jobs.create(principal.tenantId, body));
  }

  @Get()
  @ApiOkResponse({ type: [JobResponse] })
  async list(@CurrentPrincipal() principal: ApiTokenPrincipal, @Query() query: ListJobsQuery): Promise<JobResponse[]> {
    const jobs = await this.jobs.list(principal.tenantId, { limit: query.limit ?? DEFAULT_PAGE_SIZE, ...(query.status ? { status: query.status } : {}) });
    return jobs.map(toJobResponse);
  }

  /** A job with its attempts, events and metadata-only result. */
  @Get(':id')
  @ApiOkResponse({ type: JobDetailResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  async get(@CurrentPrincipal() principal: ApiTokenPrincipal, @Param('id', uuidParam('id')) id: string): Promise<JobDetailResponse> {
    return toJobDetailResponse(await this.jobs.get(principal.tenantId, id));
  }
}
