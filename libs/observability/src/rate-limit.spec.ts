// Proves who a request's rate limit counts against (its credential once one is set, else its address as
// express reports it) and which paths are never limited.
import {
  deferRefusal,
  takeDeferredRefusal,
  clientAddress,
  isUnlimitedPath,
  rateLimitTracker,
  retryAfterSeconds,
  setRateLimitCredential,
} from './rate-limit';

describe('rate limit trackers', () => {
  it("hands an authentication guard's refusal to the limiter once, to throw after the count", () => {
    const request = { ip: '10.0.0.1' };
    expect(takeDeferredRefusal(request)).toBeUndefined();
    const refusal = new Error('401');
    deferRefusal(request, refusal);
    expect(rateLimitTracker(request)).toBe('address:10.0.0.1');
    expect(takeDeferredRefusal(request)).toBe(refusal);
    expect(takeDeferredRefusal(request)).toBeUndefined();
  });

  it('counts a request against its address until a credential is set, then against the credential', () => {
    const request = { ip: '10.0.0.7', headers: { 'x-forwarded-for': '1.2.3.4' } };
    expect(rateLimitTracker(request)).toBe('address:10.0.0.7');
    setRateLimitCredential(request, 'key-1');
    expect(rateLimitTracker(request)).toBe('credential:key-1');
  });

  it("reads the socket's address when express gave no ip, never a header", () => {
    expect(clientAddress({ socket: { remoteAddress: '::1' }, headers: { 'x-forwarded-for': '1.2.3.4' } })).toBe('::1');
  });

  it('leaves health and metrics unlimited, and nothing else', () => {
    expect(['/health', '/health/live', '/health/ready', '/metrics'].every(isUnlimitedPath)).toBe(true);
    expect(['/healthy', '/events/x', '/metrics/x', '/v1/accounts'].some(isUnlimitedPath)).toBe(false);
  });

  it('asks a refused client to wait at least one whole second', () => {
    expect([0, 0.2, 1, 2.5].map(retryAfterSeconds)).toEqual([1, 1, 1, 3]);
  });
});
