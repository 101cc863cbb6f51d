// Proves that OperatorTokenGuard lets an operator command through only with the configured bearer token (503 when none is configured, 401 without a bearer token, 403 with another), by running the guard on hand-made requests.
import {
  ForbiddenException,
  ServiceUnavailableException,
  UnauthorizedException,
  type ExecutionContext,
} from '@nestjs/common';
import type { PayoutsConfig } from '../payouts.config';
import { OperatorTokenGuard } from './operator-token.guard';

const TOKEN = 'operator-token-0123456789';

function allowed(token: string | undefined, authorization: string | undefined): boolean {
  const request = { headers: authorization === undefined ? {} : { authorization } };
  const context = { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
  return new OperatorTokenGuard({ PAYOUTS_OPERATOR_TOKEN: token } as PayoutsConfig).canActivate(context);
}

describe('OperatorTokenGuard', () => {
  it('given no token configured, then operator commands are off (503)', () => {
    expect(() => allowed(undefined, `Bearer ${TOKEN}`)).toThrow(ServiceUnavailableException);
    expect(() => allowed(undefined, `Bearer ${TOKEN}`)).toThrow(
      'operator commands over HTTP are off: set PAYOUTS_OPERATOR_TOKEN',
    );
  });

  it.each([undefined, '', TOKEN, `Basic ${TOKEN}`, 'Bearer '])(
    'given authorization %p, then it is refused as unauthenticated (401)',
    (authorization) => {
      expect(() => allowed(TOKEN, authorization)).toThrow(UnauthorizedException);
      expect(() => allowed(TOKEN, authorization)).toThrow('authorization: must be "Bearer <operator token>"');
    },
  );

  it('given another bearer token, then it is forbidden (403)', () => {
    expect(() => allowed(TOKEN, 'Bearer not-the-operator-token')).toThrow(ForbiddenException);
    expect(() => allowed(TOKEN, 'Bearer not-the-operator-token')).toThrow('authorization: not the operator token');
  });

  it('given the operator token, then the command goes through', () => {
    expect(allowed(TOKEN, `Bearer ${TOKEN}`)).toBe(true);
  });
});
