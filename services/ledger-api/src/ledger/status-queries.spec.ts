import { TOPICS } from '@tributary/contracts';
import type { ReaderPool } from '../database/reader-pool';
import type { KafkaReader, PartitionOffsets } from '../kafka/kafka-reader';
import type { LedgerApiConfig } from '../ledger-api.config';
import { StatusQueries } from './status-queries';

/**
 * The ledger's reads answered from a set of applied inference ids, and Kafka's committed offsets counted:
 * what GET /v1/freshness asks of each while a client waits.
 */
function statusQueries() {
  const applied = new Set<string>();
  const kafkaAsks = { count: 0 };
  const db = {
    rows: async (text: string, params: unknown[] = []) => {
      if (text.includes('inference_id = ANY'))
        return (params[0] as string[]).filter((id) => applied.has(id)).map((id) => ({ inference_id: id }));
      if (text.includes('FROM inferences WHERE inference_id = $1'))
        return applied.has(params[0] as string)
          ? [{ source_topic: TOPICS.attributions.name, source_partition: 0, source_offset: '7' }]
          : [];
      if (text.includes('FROM consumer_offsets')) return [];
      throw new Error(`unexpected query: ${text}`);
    },
  } as unknown as ReaderPool;
  const kafka = {
    committedOffsets: async (): Promise<PartitionOffsets> => {
      kafkaAsks.count += 1;
      return new Map([[0, 3n]]);
    },
  } as unknown as KafkaReader;
  const config = {
    LEDGER_API_FRESHNESS_WAIT_MS_MAX: 30_000,
    LEDGER_API_FRESHNESS_WAITERS_MAX: 100,
    LEDGER_API_FRESHNESS_POLL_MS: 5,
    LEDGER_PROJECTOR_GROUP_ID: 'tributary.ledger-projector',
    ATTRIBUTION_GROUP_ID: 'tributary.attribution',
  } as LedgerApiConfig;
  const queries = new StatusQueries(db, kafka, config);
  opened.push(queries);
  return { queries, applied, kafkaAsks };
}

/** Every StatusQueries of a test, closed after it (their freshness waits hold a timer while anyone waits). */
const opened: StatusQueries[] = [];
afterEach(() => opened.splice(0).forEach((queries) => queries.onApplicationShutdown()));

const inference = (inferenceId: string) => ({ topic: TOPICS.inferences.name, partition: 0, offset: 5n, inferenceId });

describe('StatusQueries.freshness with waitMs', () => {
  it('reads only the ledger while a client waits: a wait the ledger ends asks Kafka nothing', async () => {
    const { queries, applied, kafkaAsks } = statusQueries();
    const answer = queries.freshness(inference('inf-1'), 5_000);
    setTimeout(() => applied.add('inf-1'), 30);
    expect(await answer).toEqual(expect.objectContaining({ inferenceId: 'inf-1', reflected: true, stage: 'applied' }));
    expect(kafkaAsks.count).toBe(0);
  });

  it('asks Kafka where a pending inference waits once, in the answer composed at the deadline', async () => {
    const { queries, kafkaAsks } = statusQueries();
    expect(await queries.freshness(inference('inf-never'), 40)).toEqual(
      expect.objectContaining({ reflected: false, stage: 'attribution', attributionCommittedOffset: '3' }),
    );
    expect(kafkaAsks.count).toBe(1);
    // Without waitMs the answer is composed at once, as before.
    expect(await queries.freshness(inference('inf-never'))).toEqual(
      expect.objectContaining({ reflected: false, stage: 'attribution' }),
    );
    expect(kafkaAsks.count).toBe(2);
  });

  it('refuses a question about another topic before it waits', async () => {
    const { queries, kafkaAsks } = statusQueries();
    await expect(queries.freshness({ topic: 'tributary.models', partition: 0, offset: 0n }, 5_000)).rejects.toThrow();
    expect(kafkaAsks.count).toBe(0);
  });
});
