import { Body, Controller, Get, Param, Patch, Post } from '@nestjs/common';
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
} from '@nestjs/swagger';
import type { AuditActor } from '@airlock/data-access';
import { CurrentActor, CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { ErrorResponse } from '../common/error.response';
import { uuidParam } from '../common/request-validation';
import { CreateUserDto, UpdateUserDto, UserResponse } from './user.dto';
import { MAX_USERS_LISTED, UsersService } from './users.service';

/** The people of the caller's organisation. Reads need people:read, changes people:write (ADMIN). */
@ApiTags('people')
@ApiBearerAuth()
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @RequireScope('people:read')
  @ApiOperation({ summary: 'The people of the organisation', description: `Oldest first, at most ${MAX_USERS_LISTED}.` })
  @ApiOkResponse({ type: [UserResponse] })
  @ApiForbiddenResponse({ type: ErrorResponse, description: 'Needs the people:read scope (FORBIDDEN)' })
  list(@CurrentPrincipal() principal: Principal): Promise<UserResponse[]> {
    return this.users.list(principal.tenantId);
  }

  @Post()
  @RequireScope('people:write')
  @ApiOperation({ summary: 'Add a person', description: 'With a first password they should change. Audited as user.created (email and role, never the password).' })
  @ApiCreatedResponse({ type: UserResponse })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'The request is malformed; the message names each field and what was expected (INVALID_REQUEST)' })
  @ApiForbiddenResponse({ type: ErrorResponse, description: 'Needs the people:write scope (FORBIDDEN)' })
  @ApiConflictResponse({ type: ErrorResponse, description: 'Another account has this email, in any organisation (EMAIL_TAKEN)' })
  create(@CurrentPrincipal() principal: Principal, @CurrentActor() actor: AuditActor, @Body() body: CreateUserDto): Promise<UserResponse> {
    return this.users.create(principal.tenantId, actor, body);
  }

  @Patch(':id')
  @RequireScope('people:write')
  @ApiOperation({
    summary: 'Rename, change the role of, disable or enable a person',
    description:
      'Disabling ends every session of the person. Refused when it would leave the organisation without an enabled ADMIN. Audited as user.updated ' +
      '(the names of the changed fields and the role after).',
  })
  @ApiOkResponse({ type: UserResponse })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'The request is malformed or changes nothing (INVALID_REQUEST)' })
  @ApiForbiddenResponse({ type: ErrorResponse, description: 'Needs the people:write scope (FORBIDDEN)' })
  @ApiNotFoundResponse({ type: ErrorResponse, description: "No such person in the caller's organisation (USER_NOT_FOUND)" })
  @ApiConflictResponse({ type: ErrorResponse, description: 'The organisation would be left without an enabled ADMIN (LAST_ADMIN)' })
  update(
    @CurrentPrincipal() principal: Principal,
    @CurrentActor() actor: AuditActor,
    @Param('id', uuidParam('id')) id: string,
    @Body() body: UpdateUserDto,
  ): Promise<UserResponse> {
    return this.users.update(principal.tenantId, actor, id, { displayName: body.displayName, role: body.role, disabled: body.disabled });
  }
}
