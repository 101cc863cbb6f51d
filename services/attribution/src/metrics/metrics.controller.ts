import { Controller, Get, Header, Inject } from '@nestjs/common';
import { AttributionMetrics } from './attribution-metrics';

/** Prometheus scrape endpoint on the service's HTTP port. */
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(AttributionMetrics) private readonly metrics: AttributionMetrics) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
