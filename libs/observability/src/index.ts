export { MetricsController, METRICS_REGISTRY, metricsRegistryFrom, type ServiceMetrics } from './metrics.controller';
