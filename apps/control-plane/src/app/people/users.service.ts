import { Inject, Injectable } from '@nestjs/common';
import { DataAccess, type AuditActor, type UserChanges, type UserView } from '@airlock/data-access';
import { PasswordHasher } from '../auth/password-hasher';
import { CLOCK, type Clock } from '../common/clock';
import { InvalidRequestError } from '../common/invalid-request.error';
import { EmailTakenError } from './email-taken.error';
import { LastAdminError } from './last-admin.error';
import type { CreateUserDto, UserResponse } from './user.dto';
import { UserNotFoundError } from './user-not-found.error';

/** The most people one list answers; an organisation beyond it is far past what this page is for. */
export const MAX_USERS_LISTED = 1_000;

/** The people of a tenant, as its admins manage them. */
@Injectable()
export class UsersService {
  constructor(
    private readonly data: DataAccess,
    private readonly passwords: PasswordHasher,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async list(tenantId: string): Promise<UserResponse[]> {
    const now = this.clock.now();
    return (await this.data.users.list(tenantId, MAX_USERS_LISTED)).map((user) => toUserResponse(user, now));
  }

  /** Adds a person with a first password; audited as user.created. */
  async create(tenantId: string, actor: AuditActor, input: CreateUserDto): Promise<UserResponse> {
    const passwordHash = await this.passwords.hash(input.password);
    const now = this.clock.now();
    const outcome = await this.data.users.createAudited({ tenantId, email: input.email, displayName: input.displayName, role: input.role, passwordHash, actor, now });
    if (outcome.kind === 'EMAIL_TAKEN') throw new EmailTakenError();
    return toUserResponse(outcome.user, now);
  }

  /** Renames, changes the role of, disables or enables a person; audited as user.updated. */
  async update(tenantId: string, actor: AuditActor, userId: string, changes: UserChanges): Promise<UserResponse> {
    if (changes.displayName === undefined && changes.role === undefined && changes.disabled === undefined) {
      throw new InvalidRequestError(['body: expected at least one of displayName, role, disabled']);
    }
    const now = this.clock.now();
    const outcome = await this.data.users.updateAudited({ tenantId, userId, changes, actor, now });
    if (outcome.kind === 'USER_NOT_FOUND') throw new UserNotFoundError(userId);
    if (outcome.kind === 'LAST_ADMIN') throw new LastAdminError();
    return toUserResponse(outcome.user, now);
  }
}

export function toUserResponse(user: UserView, now: Date): UserResponse {
  return {
    id: user.id,
    email: user.email,
    displayName: user.displayName,
    role: user.role,
    createdAt: user.createdAt,
    lastLoginAt: user.lastLoginAt,
    locked: user.lockedUntil !== null && user.lockedUntil.getTime() > now.getTime(),
    disabled: user.disabledAt !== null,
    passwordLogin: user.passwordLogin,
  };
}
