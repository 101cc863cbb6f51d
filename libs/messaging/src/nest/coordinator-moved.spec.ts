// Proves that a batch throwing CoordinatorMovedError takes kafkajs's own crash path, as the transport
// relies on: kafkajs's retrier (the one its runner wraps every fetch in) gives up at the first throw,
// and the rule its crash handler restarts by (the original cause retriable) says restart.
import { CoordinatorMovedError } from './kafka-batch.transport';

// kafkajs's own retrier, exactly as its consumer runner uses it (kafkajs is pinned at 2.2.4).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs exports no types for its retrier
const createRetry = require('kafkajs/src/retry') as (options: object) => <T>(fn: () => Promise<T>) => Promise<T>;

/** kafkajs's consumer crash handler: restart when retries ran out or the innermost cause is retriable. */
function kafkajsRestarts(error: Error & { cause?: unknown }): boolean {
  let cause: Error & { cause?: unknown; retriable?: boolean } = error;
  while (cause.cause) cause = cause.cause as typeof cause;
  return error.name === 'KafkaJSNumberOfRetriesExceeded' || cause.retriable === true;
}

describe('CoordinatorMovedError', () => {
  it('ends the retries at once and has kafkajs restart the consumer', async () => {
    let attempts = 0;
    const retrier = createRetry({ retries: 5, initialRetryTime: 1 });
    const failure = await retrier(async () => {
      attempts += 1;
      throw new CoordinatorMovedError(new Error('Broker 1 not found in the cached metadata'));
    }).catch((error: Error) => error);
    expect(attempts).toBe(1);
    expect(kafkajsRestarts(failure)).toBe(true);
    expect(failure.message).toContain('Broker 1 not found');
  });
});
