import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * Liveness for supervisors, readiness for load balancers: ready only while the service's database
 * answers. Services whose readiness depends on more (the gateway's broker) write their own.
 */
@Controller('health')
export class DatabaseHealthController {
  constructor(private readonly dataSource: DataSource) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready() {
    try {
      await this.dataSource.query('SELECT 1');
      return { status: 'ok', database: 'up' };
    } catch (error) {
      throw new ServiceUnavailableException({ status: 'unavailable', database: (error as Error).message });
    }
  }
}
