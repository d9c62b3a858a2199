import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';
import type { Role } from '@airlock/data-access';
import { ROLES } from '../auth/access';
import { OptionalProperty } from '../common/request-validation';
import { DisplayNameField, EmailField, PasswordField, RoleField } from './person-fields';

export class CreateUserDto {
  @EmailField('Their login; unique across every organisation on this control plane')
  email!: string;

  @DisplayNameField({ required: true })
  displayName!: string;

  @RoleField({ required: true })
  role!: Role;

  @PasswordField('Their first password; tell them to change it (POST /auth/password)')
  password!: string;
}

export class UpdateUserDto {
  @DisplayNameField({ required: false })
  @OptionalProperty()
  displayName?: string;

  @RoleField({ required: false })
  @OptionalProperty()
  role?: Role;

  @ApiPropertyOptional({ description: 'true ends every session of the person and refuses their logins; false enables them again' })
  @IsBoolean({ message: 'expected true or false' })
  @OptionalProperty()
  disabled?: boolean;
}

export class UserResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'email' }) email!: string;
  @ApiProperty() displayName!: string;
  @ApiProperty({ enum: ROLES, enumName: 'Role' }) role!: Role;
  @ApiProperty() createdAt!: Date;
  @ApiProperty({ type: Date, nullable: true }) lastLoginAt!: Date | null;
  @ApiProperty({ description: 'Locked for a while after too many wrong passwords' }) locked!: boolean;
  @ApiProperty({ description: 'Disabled by an admin: cannot log in, has no session' }) disabled!: boolean;
  @ApiProperty({ description: 'Has a password (false: logs in by single sign-on only)' }) passwordLogin!: boolean;
}
