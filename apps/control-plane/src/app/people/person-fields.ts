import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsDefined, IsEmail, IsIn, IsString, Length, Matches, MaxLength } from 'class-validator';
import { ROLES } from '../auth/access';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../auth/password-hasher';
import { HasNoNulCharacter, IsWellFormedUnicode } from '../common/request-validation';

/** The longest email address SMTP can carry (RFC 5321's path limit less its brackets). */
export const MAX_EMAIL_LENGTH = 254;
export const MAX_DISPLAY_NAME_LENGTH = 100;

/** How emails are compared and stored: trimmed and lowercased, so one address is one account. */
export function normalizeEmail(value: unknown): unknown {
  return typeof value === 'string' ? value.trim().toLowerCase() : value;
}

// applyDecorators applies them in order, so the most basic check comes first: with
// stopAtFirstError a field is refused for its most basic problem (see request-validation.ts).

/** A required email address; trimmed and lowercased before it is checked. */
export function EmailField(description: string): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ format: 'email', maxLength: MAX_EMAIL_LENGTH, example: 'ada@example.com', description }),
    IsDefined({ message: 'expected an email address (required)' }),
    IsString({ message: 'expected an email address' }),
    MaxLength(MAX_EMAIL_LENGTH, { message: `expected at most ${MAX_EMAIL_LENGTH} characters` }),
    IsEmail({}, { message: 'expected an email address such as ada@example.com' }),
    Transform(({ value }: { value: unknown }) => normalizeEmail(value)),
  );
}

/** A required password of MIN_PASSWORD_LENGTH..MAX_PASSWORD_LENGTH characters. */
export function PasswordField(description: string, minLength = MIN_PASSWORD_LENGTH): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ format: 'password', minLength, maxLength: MAX_PASSWORD_LENGTH, description }),
    IsDefined({ message: 'expected a string (required)' }),
    IsString({ message: 'expected a string' }),
    Length(minLength, MAX_PASSWORD_LENGTH, { message: `expected ${minLength}..${MAX_PASSWORD_LENGTH} characters` }),
  );
}

/** A person's name as others see it: one line of 1..MAX_DISPLAY_NAME_LENGTH characters, trimmed. */
export function DisplayNameField(options: { required: boolean }): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ required: options.required, minLength: 1, maxLength: MAX_DISPLAY_NAME_LENGTH, example: 'Ada Lovelace', description: 'One line' }),
    ...(options.required ? [IsDefined({ message: 'expected a string (required)' })] : []),
    IsString({ message: 'expected a string' }),
    HasNoNulCharacter(),
    IsWellFormedUnicode(),
    Length(1, MAX_DISPLAY_NAME_LENGTH, { message: `expected 1..${MAX_DISPLAY_NAME_LENGTH} characters once trimmed` }),
    // No control characters: the name is shown in lists and the audit log, one line each.
    Matches(/^[^\p{Cc}]+$/u, { message: 'expected one line without control characters' }),
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value)),
  );
}

/** One of the roles (auth/access.ts). */
export function RoleField(options: { required: boolean }): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ required: options.required, enum: ROLES, enumName: 'Role', description: 'What the person may do (docs/access.md)' }),
    ...(options.required ? [IsDefined({ message: `expected one of ${ROLES.join(', ')} (required)` })] : []),
    IsIn(ROLES, { message: `expected one of ${ROLES.join(', ')}` }),
  );
}
