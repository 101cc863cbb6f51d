import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { GatewayRejection } from './rejection';

/** Maps every expected refusal to its status, body and headers, and counts it by reason. */
@Catch(GatewayRejection)
export class GatewayExceptionFilter implements ExceptionFilter {
  constructor(private readonly metrics: GatewayMetrics) {}

  catch(rejection: GatewayRejection, host: ArgumentsHost): void {
    this.metrics.reject(rejection.reason);
    const response = host.switchToHttp().getResponse<Response>();
    if (rejection.retryAfterS !== undefined) response.setHeader('Retry-After', String(rejection.retryAfterS));
    if (rejection.status === 401) response.setHeader('WWW-Authenticate', 'Bearer');
    response.status(rejection.status).json(rejection.body());
  }
}
