import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/principal';

@ApiTags('health')
@Controller('health')
export class HealthController {
  /** Liveness: the process serves HTTP. Needs no token. */
  @Public()
  @Get()
  check(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
