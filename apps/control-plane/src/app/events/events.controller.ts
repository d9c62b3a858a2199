import type { ServerResponse } from 'node:http';
import { Controller, Get, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { ErrorResponse } from '../common/error.response';
import { JobChangedEventData, WorkerChangedEventData } from './dto/dashboard-event.response';
import { EventStreamService, RECONNECT_DELAY_MS } from './event-stream.service';

@ApiTags('events')
@ApiBearerAuth()
@ApiExtraModels(JobChangedEventData, WorkerChangedEventData)
@Controller('events')
export class EventsController {
  constructor(private readonly streams: EventStreamService) {}

  @Get()
  @RequireScope('jobs:read')
  @ApiOperation({
    summary: 'Live events of the tenant (Server-Sent Events)',
    description:
      'A text/event-stream for EventSource. Each event names its kind (`event: job.changed` or `event: worker.changed`), carries an `id:` that ' +
      'increases along the stream, and a `data:` line of JSON: JobChangedEventData or WorkerChangedEventData. Worker events reach principals ' +
      `holding fleet:read only. An event only says that something changed: read the job or worker again through the REST API. The stream starts with \`retry: ${RECONNECT_DELAY_MS}\`, ` +
      'sends a comment line when idle (so proxies keep it open), and closes itself after its maximum lifetime; EventSource then reconnects and is ' +
      'authenticated again. Nothing is replayed on reconnect (Last-Event-ID is ignored): re-read what is shown. Each tenant may hold a bounded number ' +
      'of open streams per server (429 TOO_MANY_EVENT_STREAMS past it).',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description: 'The stream; see the description for its framing',
    content: {
      'text/event-stream': {
        schema: { oneOf: [{ $ref: getSchemaPath(JobChangedEventData) }, { $ref: getSchemaPath(WorkerChangedEventData) }] },
      },
    },
  })
  @ApiUnauthorizedResponse({ type: ErrorResponse })
  @ApiForbiddenResponse({ type: ErrorResponse, description: 'The principal lacks jobs:read' })
  @ApiTooManyRequestsResponse({ type: ErrorResponse, description: 'The tenant has as many open streams on this server as it may (TOO_MANY_EVENT_STREAMS); Retry-After says when to try again' })
  open(@CurrentPrincipal() principal: Principal, @Res() response: ServerResponse): void {
    this.streams.open(principal, response);
  }
}
