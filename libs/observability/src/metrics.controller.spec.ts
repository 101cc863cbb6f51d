import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Counter, Registry } from 'prom-client';
import { MetricsController, metricsRegistryFrom } from './metrics.controller';

@Injectable()
class ExampleMetrics {
  readonly registry = new Registry();
  readonly handled = new Counter({
    name: 'example_handled_total',
    help: 'Handled things',
    labelNames: ['kind'],
    registers: [this.registry],
  });
}

@Module({ controllers: [MetricsController], providers: [ExampleMetrics, metricsRegistryFrom(ExampleMetrics)] })
class ExampleModule {}

describe('MetricsController', () => {
  it("serves the service's own registry on GET /metrics in Prometheus's text format", async () => {
    const app = await NestFactory.create(ExampleModule, { logger: false });
    try {
      await app.listen(0, '127.0.0.1');
      app.get(ExampleMetrics).handled.inc({ kind: 'a' }, 3);
      const response = await fetch(`${await app.getUrl()}/metrics`);
      expect(response.status).toBe(200);
      // Express may reorder the parameters; the media type and the format version are what scrapers read.
      const contentType = (response.headers.get('content-type') ?? '').split(';').map((part) => part.trim());
      expect(contentType[0]).toBe('text/plain');
      expect(contentType).toContain('version=0.0.4');
      const body = await response.text();
      expect(body).toContain('# TYPE example_handled_total counter');
      expect(body).toContain('example_handled_total{kind="a"} 3');
    } finally {
      await app.close();
    }
  });
});
