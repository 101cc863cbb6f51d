import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { ApiError, type ErrorBody } from './api-error';

const STATEMENT_TIMEOUT = '57014';
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', '57P01', '57P03', '08006', '08001']);

/** Every error leaves in one shape, {statusCode, error, message, issues}; unexpected ones say no more than that. */
@Catch()
export class ErrorBodyFilter implements ExceptionFilter {
  private readonly logger = new Logger('LedgerApi');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = this.bodyOf(exception);
    if (body.statusCode >= 500)
      this.logger.error(`${body.statusCode}: ${(exception as Error)?.stack ?? String(exception)}`);
    if (body.statusCode === 503) response.setHeader('Retry-After', '5');
    response.status(body.statusCode).json(body);
  }

  private bodyOf(exception: unknown): ErrorBody {
    if (exception instanceof ApiError) return exception.body();
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const error = status === 404 ? 'not_found' : status === 405 ? 'method_not_allowed' : `http_${status}`;
      return { statusCode: status, error, message: exception.message, issues: [] };
    }
    const code = (exception as { code?: string })?.code;
    if (code === STATEMENT_TIMEOUT)
      return ApiError.unavailable(
        'the query took longer than LEDGER_API_STATEMENT_TIMEOUT_MS; narrow it (a smaller limit or time range)',
      ).body();
    if (code !== undefined && CONNECTION_ERRORS.has(code))
      return ApiError.unavailable('the ledger database is unreachable').body();
    return {
      statusCode: 500,
      error: 'internal',
      message: 'internal error; the server log has the details',
      issues: [],
    };
  }
}
