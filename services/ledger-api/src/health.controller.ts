import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ReaderPool } from './database/reader-pool';

/** Liveness for supervisors; ready while the reader role can read the live ledger (grants included). */
@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(@Inject(ReaderPool) private readonly db: ReaderPool) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready() {
    try {
      await this.db.rows('SELECT 1 FROM checkpoints LIMIT 1');
      return { status: 'ok', database: 'up' };
    } catch (error) {
      throw new ServiceUnavailableException({ status: 'unavailable', database: (error as Error).message });
    }
  }
}
