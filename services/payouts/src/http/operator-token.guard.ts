import { createHash, timingSafeEqual } from 'node:crypto';
import {
  ForbiddenException,
  Inject,
  Injectable,
  ServiceUnavailableException,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import { PAYOUTS_CONFIG, type PayoutsConfig } from '../payouts.config';

/**
 * Lets an operator command through only with `Authorization: Bearer <PAYOUTS_OPERATOR_TOKEN>`: 503 when
 * no token is configured (the commands are off), 401 without a bearer token, 403 with another one.
 */
@Injectable()
export class OperatorTokenGuard implements CanActivate {
  constructor(@Inject(PAYOUTS_CONFIG) private readonly config: PayoutsConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const token = this.config.PAYOUTS_OPERATOR_TOKEN;
    if (!token)
      throw new ServiceUnavailableException('operator commands over HTTP are off: set PAYOUTS_OPERATOR_TOKEN');
    const authorization = context.switchToHttp().getRequest<Request>().headers['authorization'];
    const given = /^Bearer (.{1,1024})$/.exec(authorization ?? '')?.[1];
    if (!given) throw new UnauthorizedException('authorization: must be "Bearer <operator token>"');
    // Hash both sides so the comparison is constant-time whatever the lengths.
    const digest = (value: string) => createHash('sha256').update(value).digest();
    if (!timingSafeEqual(digest(given), digest(token)))
      throw new ForbiddenException('authorization: not the operator token');
    return true;
  }
}
