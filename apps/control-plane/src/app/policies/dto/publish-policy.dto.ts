import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsIn, IsString, Matches, ValidateBy, ValidateIf } from 'class-validator';
import { ID_PATTERNS } from '@airlock/protocol';

export const POLICY_SCOPES = ['tenant', 'pool', 'repository'] as const;
export const POLICY_MODES = ['enforce', 'shadow'] as const;
export type PolicyScopeName = (typeof POLICY_SCOPES)[number];
export type PolicyModeName = (typeof POLICY_MODES)[number];

/** Refuses a key on the tenant scope, which applies to every worker. */
function AbsentForTenant(): PropertyDecorator {
  return ValidateBy({
    name: 'absentForTenant',
    validator: {
      validate: (value: unknown, args) => value === undefined || (args?.object as PolicySlotDto).scope !== 'tenant',
      defaultMessage: () => 'expected absent: the tenant scope has no key',
    },
  });
}

const keyNeeded = (dto: PolicySlotDto, value: unknown) => value !== undefined || dto.scope === 'pool' || dto.scope === 'repository';

/** Where a layer applies: the whole tenant, one pool (a worker label) or one repository (its alias); enforced or in shadow. */
export class PolicySlotDto {
  @ApiProperty({ enum: POLICY_SCOPES })
  @IsIn(POLICY_SCOPES, { message: `expected one of ${POLICY_SCOPES.join(', ')}` })
  @IsDefined({ message: `expected one of ${POLICY_SCOPES.join(', ')} (required)` })
  scope!: PolicyScopeName;

  @ApiPropertyOptional({
    pattern: ID_PATTERNS.workerLabel.source,
    description: 'The pool label (scope pool) or repository alias (scope repository); absent for the tenant scope',
  })
  @Matches(ID_PATTERNS.workerLabel, { message: `expected a pool label or repository alias matching ${ID_PATTERNS.workerLabel.source}` })
  @IsString({ message: 'expected a string' })
  @AbsentForTenant()
  @IsDefined({ message: 'expected a string (required for the pool and repository scopes)' })
  @ValidateIf(keyNeeded)
  key?: string;

  @ApiProperty({ enum: POLICY_MODES, description: 'enforce: the rules apply; shadow: evaluated beside the enforced layers, stopping nothing' })
  @IsIn(POLICY_MODES, { message: `expected one of ${POLICY_MODES.join(', ')}` })
  @IsDefined({ message: `expected one of ${POLICY_MODES.join(', ')} (required)` })
  mode!: PolicyModeName;
}
