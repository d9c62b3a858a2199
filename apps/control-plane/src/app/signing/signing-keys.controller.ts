import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '../auth/principal';
import { SigningKeyService } from './signing-key.service';

export class SigningPublicKeyResponse {
  @ApiProperty({ example: 'sk_0123456789abcdef' })
  keyId!: string;

  @ApiProperty({ description: 'Raw 32-byte Ed25519 public key, base64' })
  publicKey!: string;
}

@ApiTags('signing-keys')
@ApiBearerAuth()
@Controller('signing-keys')
export class SigningKeysController {
  constructor(private readonly signingKeys: SigningKeyService) {}

  /** The instruction-signing public keys that worker operators pin locally. */
  @Get()
  @RequireScope('fleet:read')
  @ApiOkResponse({ type: [SigningPublicKeyResponse] })
  list(): SigningPublicKeyResponse[] {
    return this.signingKeys.publicKeys().map((key) => ({ keyId: key.keyId, publicKey: key.publicKey.toString('base64') }));
  }
}
