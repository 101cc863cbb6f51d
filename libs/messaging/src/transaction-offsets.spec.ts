import { KafkaJSNonRetriableError } from 'kafkajs';
import { sendOffsetsRetrying } from './transaction-offsets';

const OFFSETS = { consumerGroupId: 'g', topics: [{ topic: 't', partitions: [{ partition: 0, offset: '5' }] }] };
const RETRY = { retries: 3, initialRetryTime: 20, maxRetryTime: 50 };

/** What kafkajs throws for an error answer of the broker, by the answer's code (kafkajs's own list). */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs exports none of its protocol modules
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode(code: number): Error };
const concurrentTransactions = () => createErrorFromCode(51);

describe('sendOffsetsRetrying', () => {
  it('sends again after CONCURRENT_TRANSACTIONS or GROUP_COORDINATOR_NOT_AVAILABLE, waiting 20 ms then doubling, capped', async () => {
    const outcomes: Array<Error | null> = [
      concurrentTransactions(),
      createErrorFromCode(15), // GROUP_COORDINATOR_NOT_AVAILABLE
      concurrentTransactions(),
      null,
    ];
    const sendOffsets = jest.fn(async () => {
      const outcome = outcomes.shift();
      if (outcome) throw outcome;
    });
    const waits: number[] = [];
    await sendOffsetsRetrying({ sendOffsets }, OFFSETS, RETRY, async (ms) => {
      waits.push(ms);
    });
    expect(sendOffsets).toHaveBeenCalledTimes(4);
    expect(sendOffsets).toHaveBeenLastCalledWith(OFFSETS);
    expect(waits).toEqual([20, 40, 50]);
  });

  it('throws the answer once the retries are spent', async () => {
    const sendOffsets = jest.fn(async () => {
      throw concurrentTransactions();
    });
    await expect(sendOffsetsRetrying({ sendOffsets }, OFFSETS, RETRY, async () => undefined)).rejects.toThrow(
      'concurrent',
    );
    expect(sendOffsets).toHaveBeenCalledTimes(4);
  });

  it('throws at once what is not retriable (a fenced producer, an authorization refusal)', async () => {
    const fenced = createErrorFromCode(47); // INVALID_PRODUCER_EPOCH: a newer instance took the transactional id
    for (const failure of [fenced, new KafkaJSNonRetriableError('spent'), new Error('plain')]) {
      const sendOffsets = jest.fn(async () => {
        throw failure;
      });
      await expect(sendOffsetsRetrying({ sendOffsets }, OFFSETS, RETRY, async () => undefined)).rejects.toBe(failure);
      expect(sendOffsets).toHaveBeenCalledTimes(1);
    }
  });
});
