import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { ID_PATTERNS } from '@airlock/protocol';
import { OptionalProperty } from '../../common/request-validation';
import { TICKET_REF_EXPECTATION } from './create-job.dto';

/** What a re-run may add to the task it copies: the ticket reference, which the original's end erased. */
export class RetryJobDto {
  // Constraints are checked bottom-up (see create-job.dto.ts).
  @ApiPropertyOptional({
    pattern: ID_PATTERNS.ticketRef.source,
    example: 'jira:PROJ-123',
    description:
      'Required when the job named its ticket by reference: the control plane erased the reference when the job ended, so the re-run names it again. ' +
      'Refused for a job whose ticket was typed in (the re-run reuses its text).',
  })
  @Matches(ID_PATTERNS.ticketRef, { message: TICKET_REF_EXPECTATION })
  @IsString({ message: 'expected a string' })
  @OptionalProperty()
  ticketRef?: string;
}
