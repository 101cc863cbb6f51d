import { Controller, Get, Header, Inject, type Provider, type Type } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Registry } from 'prom-client';

/** The prom-client registry a service's /metrics serves; bound by metricsRegistryFrom. */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/** A service's metrics class: whatever it counts, it counts into one registry of its own. */
export interface ServiceMetrics {
  readonly registry: Registry;
}

/** Binds METRICS_REGISTRY to the registry of the service's metrics class (itself a provider of the module). */
export function metricsRegistryFrom(metrics: Type<ServiceMetrics>): Provider {
  return { provide: METRICS_REGISTRY, inject: [metrics], useFactory: (instance: ServiceMetrics) => instance.registry };
}

/**
 * The Prometheus scrape endpoint every service serves on its HTTP port, in Prometheus's text format.
 * Left out of OpenAPI documents: it is for the scraper, not for API clients.
 */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}
