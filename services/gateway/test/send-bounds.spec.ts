// Proves the group commit's weight bound: while one bulk call runs, the queued items go in the next calls
// only as many as their weights allow together (at least one each time), each caller gets its own result,
// and a failed call fails only the callers in it. And that an event whose Kafka record is larger than the
// gateway may send is a 413 naming the limit, before anything is claimed or sent.
import type { GatewayConfig } from '../src/gateway.config';
import { GroupCommitter } from '../src/ingest/group-commit';
import { IngestService } from '../src/ingest/ingest.service';
import { GatewayRejection } from '../src/ingest/rejection';

describe('the group commit with a weight bound', () => {
  it('splits queued items into calls within the bound, each caller answered by its own call', async () => {
    const calls: number[][] = [];
    const committer = new GroupCommitter<number, string>(
      async (items) => {
        calls.push([...items]);
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (items.includes(13)) throw new Error('refused');
        return items.map((item) => `ok ${item}`);
      },
      1_000,
      100,
      () => new Error('overloaded'),
      { weigh: (item) => item, perCallMax: 20 },
    );
    const results = await Promise.allSettled([1, 8, 8, 8, 25, 13, 2].map((item) => committer.submit(item)));
    // The first goes alone at once; then 8+8 (a third 8 would pass 20), 8 alone (25 follows), 25 alone (over the bound, still sent), 13+2.
    expect(calls).toEqual([[1], [8, 8], [8], [25], [13, 2]]);
    expect(
      results.map((result) => (result.status === 'fulfilled' ? result.value : (result.reason as Error).message)),
    ).toEqual(['ok 1', 'ok 8', 'ok 8', 'ok 8', 'ok 25', 'refused', 'refused']);
  });

  it('without a bound takes up to its item count', async () => {
    const calls: number[][] = [];
    const committer = new GroupCommitter<number, number>(
      async (items) => (calls.push([...items]), [...items]),
      3,
      100,
      () => new Error('overloaded'),
    );
    await Promise.all([1, 2, 3, 4, 5].map((item) => committer.submit(item)));
    expect(calls).toEqual([[1], [2, 3, 4], [5]]);
  });
});

describe('the group commit with calls at once', () => {
  it('runs up to its calls at once, and the items that wait go together in the next free one', async () => {
    const calls: number[][] = [];
    const finish: Array<() => void> = [];
    const committer = new GroupCommitter<number, number>(
      async (items) => {
        calls.push([...items]);
        await new Promise<void>((resolve) => finish.push(resolve));
        return [...items];
      },
      100,
      100,
      () => new Error('overloaded'),
      undefined,
      2,
    );
    const results = [1, 2, 3, 4, 5].map((item) => committer.submit(item));
    await Promise.resolve();
    // Two calls at once, each alone; the other three wait for the first that ends.
    expect(calls).toEqual([[1], [2]]);
    expect(committer.queued).toBe(3);
    finish.shift()!();
    await results[0];
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual([[1], [2], [3, 4, 5]]);
    finish.splice(0).forEach((resolve) => resolve());
    expect(await Promise.all(results)).toEqual([1, 2, 3, 4, 5]);
  });

  it('refuses only when every call is busy and the queue is full; a failed call fails its own callers', async () => {
    const committer = new GroupCommitter<number, number>(
      async (items) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (items.includes(3)) throw new Error('refused');
        return [...items];
      },
      100,
      0,
      (queued) => new Error(`overloaded with ${queued}`),
      undefined,
      2,
    );
    const results = await Promise.allSettled([1, 2, 3].map((item) => committer.submit(item)));
    expect(
      results.map((result) => (result.status === 'fulfilled' ? result.value : (result.reason as Error).message)),
    ).toEqual([1, 2, 'overloaded with 0']);
    const later = await Promise.allSettled([3, 4].map((item) => committer.submit(item)));
    expect(later.map((result) => result.status)).toEqual(['rejected', 'fulfilled']);
  });
});

describe('an event too large to send', () => {
  const wide = (head: string) => head + '界'.repeat(256 - head.length);
  const inference = (attributions: number) => ({
    eventId: `evt-${attributions}`,
    inferenceId: `inference-${attributions}`,
    occurredAt: '1760000000000',
    modelId: 'model-1',
    consumerId: 'consumer-1',
    asset: 'USDC',
    feeMinor: '1000',
    attributions: Array.from({ length: attributions }, (_, index) => ({
      contributionId: wide(`c${index}-`),
      scorePpm: 1,
    })),
    method: 'influence/v1',
  });

  function ingestWithStandIns(requestBytesMax: number) {
    const publisher = { publishOne: jest.fn(), publishAtomically: jest.fn(), cooldownRemainingMs: 0 };
    const idempotency = { claim: jest.fn(), release: jest.fn(), acknowledge: jest.fn() };
    const metrics = { accepted: { inc: jest.fn() }, reject: jest.fn() };
    const config = {
      TRIBUTARY_TOPIC_PREFIX: '',
      GATEWAY_RETRY_AFTER_S: 1,
      GATEWAY_REQUEST_BYTES_MAX: requestBytesMax,
    } as unknown as GatewayConfig;
    return {
      ingest: new IngestService(
        config,
        publisher as never,
        idempotency as never,
        metrics as never,
        { resolve: jest.fn(async () => new Map()) } as never,
      ),
      publisher,
      idempotency,
    };
  }

  it('is a 413 naming its size and the limit, in a batch too, before anything is claimed or sent', async () => {
    const { ingest, publisher, idempotency } = ingestWithStandIns(262_144);
    const scope = { producerId: 'p', eventTypes: ['*'], datanetIds: ['*'], modelIds: ['*'] };
    const refusal = await ingest
      .ingest(scope, [{ type: 'InferenceCompleted', data: inference(400) }], 'single')
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(GatewayRejection);
    expect(refusal).toMatchObject({ status: 413, reason: 'too_large' });
    expect((refusal as GatewayRejection).message).toBe(
      'an event is too large to send: more than the 262144 bytes the gateway sends in one Kafka request (GATEWAY_REQUEST_BYTES_MAX); nothing was sent',
    );
    expect((refusal as GatewayRejection).issues).toEqual([
      {
        path: '',
        rule: 'recordTooLarge',
        message: expect.stringMatching(
          /^the event is \d+ bytes as a Kafka record .*more than the 262144 bytes of GATEWAY_REQUEST_BYTES_MAX$/,
        ),
      },
    ]);

    const batch = await ingest
      .ingest(
        scope,
        [
          { type: 'InferenceCompleted', data: inference(1) },
          { type: 'InferenceCompleted', data: inference(400) },
        ],
        'batch',
      )
      .catch((error: unknown) => error);
    expect(batch).toMatchObject({
      status: 413,
      issues: [expect.objectContaining({ path: 'events[1].data', rule: 'recordTooLarge' })],
    });
    expect(idempotency.claim).not.toHaveBeenCalled();
    expect(publisher.publishOne).not.toHaveBeenCalled();
    expect(publisher.publishAtomically).not.toHaveBeenCalled();
  });
});
