import { Controller, Get, Header, Inject } from '@nestjs/common';
import { LedgerMetrics } from './ledger-metrics';

/** Prometheus scrape endpoint on the projector's HTTP port. */
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(LedgerMetrics) private readonly metrics: LedgerMetrics) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
