export { MetricsController, METRICS_REGISTRY, metricsRegistryFrom, type ServiceMetrics } from './metrics.controller';
export {
  applyTrustProxy,
  clientAddress,
  isUnlimitedPath,
  rateLimitTracker,
  retryAfterSeconds,
  setRateLimitCredential,
  deferRefusal,
  takeDeferredRefusal,
  throttlerOptions,
  type RateLimits,
} from './rate-limit';
