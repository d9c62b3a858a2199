import { Controller, Get, HttpCode, HttpStatus, Param, type PipeTransform, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import type { AuditActor, SigningKeyState } from '@airlock/data-access';
import { ID_PATTERNS } from '@airlock/protocol';
import { CurrentActor, CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { ErrorResponse } from '../common/error.response';
import { InvalidRequestError } from '../common/invalid-request.error';
import { SigningKeyService, type SigningKeyView } from './signing-key.service';

const SIGNING_KEY_STATES = ['STAGED', 'ACTIVE', 'RETIRED'] as const satisfies readonly SigningKeyState[];

export class SigningPublicKeyResponse {
  @ApiProperty({ example: 'sk_0123456789abcdef' })
  keyId!: string;

  @ApiProperty({ description: 'Raw 32-byte Ed25519 public key, base64' })
  publicKey!: string;

  @ApiProperty({
    enum: SIGNING_KEY_STATES,
    description: 'STAGED: pin it on every worker, it signs nothing yet; ACTIVE: it signs; RETIRED: it no longer signs, keep it pinned until unpinAfter',
  })
  state!: SigningKeyState;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty({ type: Date, nullable: true, description: 'When it began to sign; null while STAGED' })
  activatedAt!: Date | null;

  @ApiProperty({ type: Date, nullable: true, description: 'When it stopped signing; null unless RETIRED' })
  retiredAt!: Date | null;

  @ApiProperty({
    type: Date,
    nullable: true,
    description:
      'For a RETIRED key: the end of its grace period (retiredAt + the instruction TTL + 1 minute), after which no instruction it signed is still valid and workers may unpin it. ' +
      'The key is listed until then. Null unless RETIRED.',
  })
  unpinAfter!: Date | null;
}

export class SigningKeyActivationResponse {
  @ApiProperty({ type: SigningPublicKeyResponse, description: 'The key that signs from now on, ACTIVE' })
  activated!: SigningPublicKeyResponse;

  @ApiProperty({ type: SigningPublicKeyResponse, nullable: true, description: 'The key that signed until now, RETIRED' })
  retired!: SigningPublicKeyResponse | null;

  @ApiProperty({ description: 'By then every control-plane replica that can read the database signs with the activated key (it reads which key is active every 5 seconds); this one already does' })
  allReplicasSigningBy!: Date;
}

/** Parses a path parameter that must be a signing key id, naming it when it is not. */
function signingKeyIdParam(name: string): PipeTransform<string, string> {
  return {
    transform(value: string): string {
      if (!ID_PATTERNS.signingKeyId.test(value)) throw new InvalidRequestError([`${name}: expected a signing key id (sk_ followed by 16 lower-case hex characters)`]);
      return value;
    },
  };
}

function toResponse(key: SigningKeyView): SigningPublicKeyResponse {
  return {
    keyId: key.keyId,
    publicKey: key.publicKey.toString('base64'),
    state: key.state,
    createdAt: key.createdAt,
    activatedAt: key.activatedAt,
    retiredAt: key.retiredAt,
    unpinAfter: key.unpinAfter,
  };
}

/**
 * The instruction-signing keys and their rotation (docs/operations/key-rotation.md). The keys
 * are the control plane's, not a tenant's: one set signs for every tenant's workers, so every
 * tenant reads them and only the tenant that operates the control plane
 * (AIRLOCK_PLATFORM_TENANT) stages or activates one.
 */
@ApiTags('signing-keys')
@ApiBearerAuth()
@ApiBadRequestResponse({ type: ErrorResponse, description: 'The request is malformed; the message names each field and what was expected' })
@Controller('signing-keys')
export class SigningKeysController {
  constructor(private readonly signingKeys: SigningKeyService) {}

  /** The instruction-signing public keys that worker operators pin locally. */
  @Get()
  @RequireScope('fleet:read')
  @ApiOperation({
    summary: 'The signing keys workers pin',
    description:
      "The keys to list in every worker's controlPlane.trustedSigningKeys, oldest first, each with its state: the ACTIVE key, a STAGED one, " +
      'and RETIRED ones until their unpinAfter. Enrollment answers the same keys.',
  })
  @ApiOkResponse({ type: [SigningPublicKeyResponse] })
  async list(): Promise<SigningPublicKeyResponse[]> {
    return (await this.signingKeys.list()).map(toResponse);
  }

  @Post()
  @RequireScope('fleet:write')
  @ApiOperation({
    summary: 'Stage the next signing key',
    description:
      'Generates a key pair, sealed at rest like every signing key, and stores it STAGED: it signs nothing until activated. ' +
      "Add its keyId and publicKey to every worker's controlPlane.trustedSigningKeys and restart the workers before activating it. " +
      'Audited as signing-key.staged.',
  })
  @ApiCreatedResponse({ type: SigningPublicKeyResponse, description: 'The staged key' })
  @ApiForbiddenResponse({ type: ErrorResponse, description: 'Needs the fleet:write scope (FORBIDDEN) in the tenant that operates the control plane, AIRLOCK_PLATFORM_TENANT (PLATFORM_TENANT_ONLY)' })
  @ApiConflictResponse({ type: ErrorResponse, description: 'A key is staged already (SIGNING_KEY_ALREADY_STAGED): activate it first' })
  async stage(@CurrentPrincipal() principal: Principal, @CurrentActor() actor: AuditActor): Promise<SigningPublicKeyResponse> {
    return toResponse(await this.signingKeys.stage(principal.tenantId, actor));
  }

  @Post(':keyId/activate')
  @RequireScope('fleet:write')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Make the staged key the one that signs',
    description:
      'From now on instructions, policy bundles and control frames are signed with it; the key that signed until now is RETIRED and stays listed until its unpinAfter. ' +
      'A worker that has not pinned the new key refuses its instructions (INSTRUCTION_UNKNOWN_KEY). Audited as signing-key.activated.',
  })
  @ApiOkResponse({ type: SigningKeyActivationResponse })
  @ApiForbiddenResponse({ type: ErrorResponse, description: 'Needs the fleet:write scope (FORBIDDEN) in the tenant that operates the control plane, AIRLOCK_PLATFORM_TENANT (PLATFORM_TENANT_ONLY)' })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'No signing key with that id (SIGNING_KEY_NOT_FOUND)' })
  @ApiConflictResponse({ type: ErrorResponse, description: 'The key is ACTIVE or RETIRED, not STAGED (SIGNING_KEY_NOT_STAGED)' })
  async activate(
    @CurrentPrincipal() principal: Principal,
    @CurrentActor() actor: AuditActor,
    @Param('keyId', signingKeyIdParam('keyId')) keyId: string,
  ): Promise<SigningKeyActivationResponse> {
    const { activated, retired, allReplicasSigningBy } = await this.signingKeys.activate(keyId, principal.tenantId, actor);
    return { activated: toResponse(activated), retired: retired && toResponse(retired), allReplicasSigningBy };
  }

  @Post(':keyId/discard')
  @RequireScope('fleet:write')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Discard the staged key',
    description:
      'Deletes a STAGED key, private half and all: one staged by mistake, or one whose private key may have leaked before it was activated. It never signed, so no worker needs it; ' +
      "remove it from every worker's controlPlane.trustedSigningKeys, and stage another to rotate. Audited as signing-key.discarded.",
  })
  @ApiOkResponse({ type: SigningPublicKeyResponse, description: 'The key discarded, as it was (STAGED)' })
  @ApiForbiddenResponse({ type: ErrorResponse, description: 'Needs the fleet:write scope (FORBIDDEN) in the tenant that operates the control plane, AIRLOCK_PLATFORM_TENANT (PLATFORM_TENANT_ONLY)' })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'No signing key with that id (SIGNING_KEY_NOT_FOUND)' })
  @ApiConflictResponse({ type: ErrorResponse, description: 'The key is ACTIVE or RETIRED, not STAGED (SIGNING_KEY_NOT_STAGED)' })
  async discard(
    @CurrentPrincipal() principal: Principal,
    @CurrentActor() actor: AuditActor,
    @Param('keyId', signingKeyIdParam('keyId')) keyId: string,
  ): Promise<SigningPublicKeyResponse> {
    return toResponse(await this.signingKeys.discard(keyId, principal.tenantId, actor));
  }
}
