import { Controller, Get, Header, Inject } from '@nestjs/common';
import { PayoutsMetrics } from '../payouts-metrics';

/** The Prometheus scrape; health is the shared DatabaseHealthController. */
@Controller()
export class MetricsController {
  constructor(@Inject(PayoutsMetrics) private readonly metrics: PayoutsMetrics) {}

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
